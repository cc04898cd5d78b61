/**
 * Idempotent writes (DESIGN §3): a retried POST/PUT/PATCH/DELETE with the same Idempotency-Key (or
 * X-Request-ID) is answered from the stored response instead of running again.
 */
import { env } from "cloudflare:workers";
import { eq } from "drizzle-orm";
import { describe, expect, it } from "vitest";
import { sha256Hex } from "../src/auth/tokens";
import { getConfig } from "../src/config";
import { pushTokens, users } from "../src/db/schema";
import { recordKey } from "../src/middleware/idempotency";
import { callWith, type Envelope, expectError, request } from "./helpers/api";
import { db, outboxFor, PASSWORD, register, uniqueEmail } from "./helpers/users";

let next = 1;
function newIp() {
  next += 1;
  return `192.0.2.${next}`;
}

function post(
  path: string,
  body: Record<string, unknown>,
  headers: Record<string, string>,
  overrides: Record<string, unknown> = {},
) {
  return callWith<Envelope<{ user: { id: string } }>>(
    overrides,
    request("POST", path, { body, headers }),
  );
}

async function usersWithEmail(email: string) {
  return db().select().from(users).where(eq(users.email, email));
}

describe("a retried write", () => {
  it("is answered from the stored response, and runs once", async () => {
    const headers = { "Idempotency-Key": crypto.randomUUID(), "CF-Connecting-IP": newIp() };
    const body = { email: uniqueEmail(), password: PASSWORD };
    const first = await post("/users/", body, headers);
    expect(first.status).toBe(201);
    expect(first.headers.get("Idempotent-Replayed")).toBeNull();

    const again = await post("/users/", body, headers);
    expect(again.status).toBe(201);
    expect(again.headers.get("Idempotent-Replayed")).toBe("true");
    expect(again.headers.get("Content-Type")).toMatch(/^application\/json/);
    expect(again.text).toBe(first.text);

    // One user, one user.created event: the retry did nothing.
    expect(await usersWithEmail(body.email)).toHaveLength(1);
    expect(await outboxFor(first.body.data.user.id, "user.created")).toHaveLength(1);
  });

  it("accepts the older X-Request-ID header the same way", async () => {
    const headers = { "X-Request-ID": `req-${crypto.randomUUID()}`, "CF-Connecting-IP": newIp() };
    const body = { email: uniqueEmail(), password: PASSWORD };
    expect((await post("/users/", body, headers)).status).toBe(201);
    const again = await post("/users/", body, headers);
    expect(again.status).toBe(201);
    expect(again.headers.get("Idempotent-Replayed")).toBe("true");
    expect(await usersWithEmail(body.email)).toHaveLength(1);
  });

  it("replays a stored 4xx too: the same request would fail the same way", async () => {
    const headers = { "Idempotency-Key": crypto.randomUUID(), "CF-Connecting-IP": newIp() };
    const body = { email: "not-an-email", password: PASSWORD };
    const first = await post("/users/", body, headers);
    expectError(first, 400, "validation_failed");
    const again = await post("/users/", body, headers);
    expect(again.status).toBe(400);
    expect(again.headers.get("Idempotent-Replayed")).toBe("true");
    expect(again.text).toBe(first.text);
  });

  it("with the same key and another body is 422 idempotency_key_reused, and changes nothing", async () => {
    const headers = { "Idempotency-Key": crypto.randomUUID(), "CF-Connecting-IP": newIp() };
    expect(
      (await post("/users/", { email: uniqueEmail(), password: PASSWORD }, headers)).status,
    ).toBe(201);
    const other = uniqueEmail();
    const res = await post("/users/", { email: other, password: PASSWORD }, headers);
    expectError(res, 422, "idempotency_key_reused");
    expect(await usersWithEmail(other)).toHaveLength(0);
  });

  it("while the first is still running is 409, and the first still completes", async () => {
    const key = crypto.randomUUID();
    const ip = newIp();
    const headers = { "Idempotency-Key": key, "CF-Connecting-IP": ip };
    const body = { email: uniqueEmail(), password: PASSWORD };
    const kvKey = await recordKey(getConfig(env), `ip:${ip}`, "POST", "/api/v1/users", key);

    // Registration hashes a password (tens of milliseconds): long enough to catch it in flight.
    const first = post("/users/", body, headers);
    let state: string | undefined;
    for (let i = 0; i < 2000 && !state; i++) {
      state = (await env.KV.get<{ state: string }>(kvKey, "json"))?.state;
    }
    expect(state).toBe("in_flight");
    const during = await post("/users/", body, headers);
    expectError(during, 409, "conflict");
    expect(during.headers.get("Retry-After")).toBe("1");

    expect((await first).status).toBe(201);
    const after = await post("/users/", body, headers);
    expect(after.status).toBe(201);
    expect(after.headers.get("Idempotent-Replayed")).toBe("true");
    expect(await usersWithEmail(body.email)).toHaveLength(1);
  });
});

describe("requests racing with one key", () => {
  it("run once: the others get 409 or the winner's answer, and a retry replays the winner's", async () => {
    const headers = { "Idempotency-Key": crypto.randomUUID(), "CF-Connecting-IP": newIp() };
    const body = { email: uniqueEmail(), password: PASSWORD };
    const answers = await Promise.all(
      Array.from({ length: 5 }, () => post("/users/", body, headers)),
    );
    const ran = answers.filter((r) => r.status === 201 && !r.headers.get("Idempotent-Replayed"));
    expect(ran).toHaveLength(1);
    for (const other of answers.filter((r) => !ran.includes(r))) {
      if (other.status === 409) expectError(other, 409, "conflict");
      else expect(other.headers.get("Idempotent-Replayed")).toBe("true");
    }
    expect(await usersWithEmail(body.email)).toHaveLength(1);
    const retry = await post("/users/", body, headers);
    expect(retry.status).toBe(201);
    expect(retry.text).toBe(ran[0]?.text);
  });
});

describe("failures worth retrying are not stored", () => {
  it("a 5xx: the retry runs for real", async () => {
    const headers = { "Idempotency-Key": crypto.randomUUID(), "CF-Connecting-IP": newIp() };
    const body = { email: uniqueEmail(), password: PASSWORD };
    // A database without tables: the write fails with a 500.
    const failed = await post("/users/", body, headers, { DB: env.EMPTY_DB });
    expectError(failed, 500, "internal_error");
    const retry = await post("/users/", body, headers);
    expect(retry.status).toBe(201);
    expect(retry.headers.get("Idempotent-Replayed")).toBeNull();
    expect(await usersWithEmail(body.email)).toHaveLength(1);
  });

  it("a 429: the retry runs once the limit allows it", async () => {
    const ip = newIp();
    const limited = { RATE_LIMIT_REGISTER_IP: "1/3600" };
    expect(
      (
        await post(
          "/users/",
          { email: uniqueEmail(), password: PASSWORD },
          { "CF-Connecting-IP": ip },
          limited,
        )
      ).status,
    ).toBe(201);
    const headers = { "Idempotency-Key": crypto.randomUUID(), "CF-Connecting-IP": ip };
    const body = { email: uniqueEmail(), password: PASSWORD };
    expectError(await post("/users/", body, headers, limited), 429, "rate_limited");
    const retry = await post("/users/", body, headers);
    expect(retry.status).toBe(201);
    expect(retry.headers.get("Idempotent-Replayed")).toBeNull();
  });
});

describe("keys are scoped", () => {
  it("to the user: another user's identical request with the same key runs for that user", async () => {
    const [ada, bob] = [await register(), await register()];
    const headers = { "Idempotency-Key": "shared-key-1" };
    const body = { token: `device-${crypto.randomUUID()}`, platform: "android" };
    const send = (token: string) =>
      callWith<Envelope<{ id: string }>>(
        {},
        request("POST", "/users/push-tokens/", { token, body, headers }),
      );
    const mine = await send(ada.access_token);
    expect(mine.status).toBe(201);
    const theirs = await send(bob.access_token);
    expect(theirs.headers.get("Idempotent-Replayed")).toBeNull();
    expect(theirs.text).not.toBe(mine.text);
    const rows = await db()
      .select()
      .from(pushTokens)
      .where(eq(pushTokens.token, body.token as string));
    // The device moved to Bob: his request really ran.
    expect(rows.map((r) => r.userId)).toEqual([bob.id]);
  });

  it("to the client network when anonymous", async () => {
    const key = crypto.randomUUID();
    const body = { email: uniqueEmail(), password: PASSWORD };
    expect(
      (await post("/users/", body, { "Idempotency-Key": key, "CF-Connecting-IP": newIp() })).status,
    ).toBe(201);
    // The same key and body from elsewhere is a new request: here, a duplicate registration.
    const elsewhere = await post("/users/", body, {
      "Idempotency-Key": key,
      "CF-Connecting-IP": newIp(),
    });
    expect(elsewhere.headers.get("Idempotent-Replayed")).toBeNull();
    expectError(elsewhere, 409, "email_taken");
  });

  it("to the identity the route acts for: a junk service key beside a user token changes nothing", async () => {
    const user = await register();
    const ip = newIp();
    const headers = { "Idempotency-Key": crypto.randomUUID(), "CF-Connecting-IP": ip };
    const body = { name: "Ada" };
    const mine = await callWith(
      {},
      request("PATCH", "/users/me/", {
        token: user.access_token,
        body,
        headers: { ...headers, "X-Service-Key": "not-a-configured-key" },
      }),
    );
    expect(mine.status, mine.text).toBe(200);
    // Someone else at the same address, with no token, the same key and body: no replay of the
    // user's profile, just the 401 their own request earns.
    const stranger = await callWith({}, request("PATCH", "/users/me/", { body, headers }));
    expect(stranger.headers.get("Idempotent-Replayed")).toBeNull();
    expectError(stranger, 401, "authentication_required");
  });

  it("to a live session: a revoked token gets no replay", async () => {
    const user = await register();
    const headers = { "Idempotency-Key": crypto.randomUUID() };
    const body = { name: "Grace" };
    const send = () =>
      callWith({}, request("PATCH", "/users/me/", { token: user.access_token, body, headers }));
    expect((await send()).status).toBe(200);
    expect((await send()).headers.get("Idempotent-Replayed")).toBe("true");
    await callWith({}, request("POST", "/auth/logout/", { token: user.access_token, body: {} }));
    const after = await send();
    expect(after.headers.get("Idempotent-Replayed")).toBeNull();
    expectError(after, 401, "invalid_token");
  });

  it("to the method and path", async () => {
    const user = await register();
    const headers = { "Idempotency-Key": "path-scoped-key" };
    const create = await callWith(
      {},
      request("POST", "/users/push-tokens/", {
        token: user.access_token,
        body: { token: `device-${crypto.randomUUID()}`, platform: "ios" },
        headers,
      }),
    );
    expect(create.status).toBe(201);
    const logout = await callWith(
      {},
      request("POST", "/auth/logout/", { token: user.access_token, body: {}, headers }),
    );
    expect(logout.headers.get("Idempotent-Replayed")).toBeNull();
    expect(logout.status).toBe(200);
  });
});

describe("what is kept", () => {
  it("is encrypted: KV holds neither the tokens nor the email of a stored registration", async () => {
    const key = crypto.randomUUID();
    const ip = newIp();
    const body = { email: uniqueEmail(), password: PASSWORD };
    const res = await post("/users/", body, { "Idempotency-Key": key, "CF-Connecting-IP": ip });
    expect(res.status).toBe(201);
    const raw = await env.KV.get(
      await recordKey(getConfig(env), `ip:${ip}`, "POST", "/api/v1/users", key),
    );
    expect(raw).not.toBeNull();
    expect(raw).toContain('"state":"done"');
    expect(raw).not.toContain(body.email);
    expect(raw).not.toContain("access_token");
    expect(raw).not.toContain(res.body.data.user.id);
    // The body's fingerprint is keyed with a server secret: not a plain hash of the password.
    const stored = JSON.parse(raw ?? "{}") as { fingerprint: string };
    expect(stored.fingerprint).toMatch(/^[0-9a-f]{64}$/);
    expect(stored.fingerprint).not.toBe(await sha256Hex(JSON.stringify(body)));
  });

  it("only for writes: a GET with a key is served as usual", async () => {
    const user = await register();
    const res = await callWith(
      {},
      request("GET", "/users/me/", {
        token: user.access_token,
        headers: { "Idempotency-Key": "k" },
      }),
    );
    expect(res.status).toBe(200);
    expect(res.headers.get("Idempotent-Replayed")).toBeNull();
  });

  it("a malformed key is a 400 naming the header, and nothing runs", async () => {
    const email = uniqueEmail();
    for (const key of ["has space", "x".repeat(256), "é"]) {
      const res = await callWith(
        {},
        new Request("http://localhost/api/v1/users/", {
          method: "POST",
          headers: { "Content-Type": "application/json", "Idempotency-Key": key },
          body: JSON.stringify({ email, password: PASSWORD }),
        }),
      );
      expectError(res, 400, "validation_failed");
      expect(Object.keys((res.body as Envelope).details ?? {})).toEqual(["Idempotency-Key"]);
    }
    expect(await usersWithEmail(email)).toHaveLength(0);
  });
});
