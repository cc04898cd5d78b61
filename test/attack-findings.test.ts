/**
 * What an attacker and a fuzzer found (issue "Close what an attacker and a fuzzer found"), one
 * attack per finding, each asserting it fails with no side effect. The lockout and
 * re-authentication findings are in test/lockout.test.ts; the production bundle and `npm start`
 * refusing a bad secret are in test/e2e/startup.e2e.ts.
 */
import { env } from "cloudflare:workers";
import { count, eq } from "drizzle-orm";
import { afterEach, beforeAll, describe, expect, it, vi } from "vitest";
import { CLOCK_SKEW_SECONDS } from "../src/auth/jwt";
import { users } from "../src/db/schema";
import { JSON_LIMITS } from "../src/middleware/json-body";
import { call, callWith, type Envelope, expectError, request } from "./helpers/api";
import { newKeyPair, serviceKey, sign } from "./helpers/jwt";
import {
  auditFor,
  db,
  outboxFor,
  PASSWORD,
  register,
  sessionsFor,
  uniqueEmail,
  userRow,
} from "./helpers/users";

afterEach(() => {
  vi.restoreAllMocks();
});

/** What a request on behalf of this user could have written. */
async function traces(userId: string) {
  return {
    row: await userRow(userId),
    audit: (await auditFor(userId)).length,
    sessions: (await sessionsFor(userId)).length,
    events: (await outboxFor(userId)).length,
  };
}

async function accountsWith(email: string) {
  const [row] = await db().select({ n: count() }).from(users).where(eq(users.email, email));
  return row?.n;
}

/** Every write operation of the document, with its path parameters filled in. */
async function writeOperations() {
  const doc = (
    await call<{ paths: Record<string, Record<string, unknown>> }>(
      "GET",
      "http://localhost/openapi.json",
    )
  ).body;
  const out: { method: string; url: string }[] = [];
  for (const [path, item] of Object.entries(doc.paths)) {
    for (const method of ["post", "put", "patch", "delete"]) {
      if (!item[method]) continue;
      const filled = path.replace(/\{[^}]+\}/g, crypto.randomUUID());
      out.push({ method: method.toUpperCase(), url: `http://localhost${filled}` });
    }
  }
  return out;
}

describe("pathological JSON", () => {
  const deep = `${"[".repeat(3_000)}${"]".repeat(3_000)}`;
  const deepObject = `${'{"a":'.repeat(3_000)}1${"}".repeat(3_000)}`;

  it("3,000 levels deep: every write route answers 400 naming the depth limit, and writes nothing", async () => {
    const user = await register();
    const before = await traces(user.id);
    const operations = await writeOperations();
    expect(operations.length).toBeGreaterThan(30);
    for (const { method, url } of operations) {
      for (const body of [deep, deepObject]) {
        const res = await call(method, url, {
          body,
          token: user.access_token,
          headers: { "Content-Type": "application/json" },
        });
        expectError(res, 400, "validation_failed");
        expect((res.body as Envelope).details, `${method} ${url}`).toEqual({
          non_field_errors: [`JSON may nest at most ${JSON_LIMITS.depth} levels deep.`],
        });
      }
    }
    expect(await traces(user.id)).toEqual(before);
  });

  it("brackets inside strings are not nesting; the limit itself is allowed", async () => {
    const within = `${'{"a":'.repeat(JSON_LIMITS.depth - 1)}{"email":"x"}${"}".repeat(JSON_LIMITS.depth - 1)}`;
    const res = await call("POST", "/auth/login/", {
      body: within,
      headers: { "Content-Type": "application/json" },
    });
    expect(res.status, res.text).toBe(400);
    expect(Object.keys((res.body as Envelope).details ?? {})).not.toContain("non_field_errors");
    // Escaped quotes and backslashes inside strings do not end them: `\"[[` and `\\` stay text.
    const quoted = JSON.stringify({
      email: uniqueEmail(),
      password: `\\"${'\\"[{'.repeat(700)}\\\\${"[{".repeat(700)}`,
    });
    const login = await call("POST", "/auth/login/", {
      body: quoted,
      headers: { "Content-Type": "application/json" },
    });
    expectError(login, 400, "validation_failed"); // the password is too long, not too deep
    expect(Object.keys((login.body as Envelope).details ?? {})).toEqual(["password"]);
  });

  it("too many keys or array items: 400 naming the limit and where", async () => {
    const wide = Object.fromEntries(
      Array.from({ length: JSON_LIMITS.keys + 1 }, (_, i) => [`k${i}`, 1]),
    );
    const res = await call("POST", "/users/", {
      body: { email: uniqueEmail(), password: PASSWORD, preferences: wide },
    });
    expectError(res, 400, "validation_failed");
    expect((res.body as Envelope).details).toEqual({
      preferences: [`Objects may hold at most ${JSON_LIMITS.keys} keys.`],
    });
    const long = await call("POST", "/users/", {
      body: {
        email: uniqueEmail(),
        password: PASSWORD,
        tags: Array(JSON_LIMITS.arrayLength + 1).fill(0),
      },
    });
    expectError(long, 400, "validation_failed");
    expect((long.body as Envelope).details).toEqual({
      tags: [`Arrays may hold at most ${JSON_LIMITS.arrayLength} items.`],
    });
  });
});

describe("dev tools only where they are meant to be", () => {
  const production: Record<string, string> = {
    ENVIRONMENT: "production",
    DEV_TOOLS: "false",
    SERVICE_KEYS: "mail-service:0123456789abcdef0123456789abcdef",
  };
  beforeAll(async () => {
    // A key named as `npm run keys:generate` names them: production accepts it.
    const keys = await newKeyPair("key-2026-12-01");
    production.JWT_PRIVATE_KEY = JSON.stringify(keys.privateJwk);
    production.JWT_PUBLIC_KEYS = JSON.stringify({ keys: [keys.publicJwk] });
  });

  it("a production configuration does not serve or document them", async () => {
    const user = await register();
    const mailbox = await callWith(
      production,
      request("GET", `http://localhost/_dev/mailbox?to=${encodeURIComponent(user.email)}`),
    );
    expectError(mailbox, 404, "not_found");
    expect(mailbox.text).not.toContain("token");
    const inject = await callWith(
      production,
      request("POST", "http://localhost/_dev/push-requests", { body: {} }),
    );
    expectError(inject, 404, "not_found");
    const doc = await callWith(production, request("GET", "http://localhost/openapi.json"));
    expect(doc.status).toBe(200);
    expect(doc.text).not.toContain("/_dev/");
    expect(doc.text).not.toContain("Dev tools");
  });

  it("locally they are documented while on, and not when off", async () => {
    const on = await call("GET", "http://localhost/openapi.json");
    expect(on.text).toContain("/_dev/mailbox");
    const off = await callWith(
      { DEV_TOOLS: "false" },
      request("GET", "http://localhost/openapi.json"),
    );
    expect(off.text).not.toContain("/_dev/");
  });

  it("answer only requests addressed to this machine, even when on", async () => {
    const user = await register();
    for (const host of ["users.example.com", "user-service.acme.workers.dev", "10.0.0.1"]) {
      const res = await call(
        "GET",
        `http://${host}/_dev/mailbox?to=${encodeURIComponent(user.email)}`,
      );
      expectError(res, 404, "not_found");
    }
    const local = await call(
      "GET",
      `http://127.0.0.1/_dev/mailbox?to=${encodeURIComponent(user.email)}`,
    );
    expect(local.status).toBe(200);
  });

  it("production refuses DEV_TOOLS, the well-known local service key and dev signing keys", async () => {
    const errors: string[] = [];
    vi.spyOn(console, "error").mockImplementation((line: string) => {
      errors.push(line);
    });
    const cases: [Record<string, string>, string][] = [
      [{ ...production, DEV_TOOLS: "true" }, "DEV_TOOLS must be off in production"],
      [{ ...production, SERVICE_KEYS: "dev-service:dev-service-key" }, "well-known local key"],
      // The test suite's own key, named like `npm start`'s and the tests' keys.
      [
        {
          ...production,
          JWT_PRIVATE_KEY: env.JWT_PRIVATE_KEY,
          JWT_PUBLIC_KEYS: env.JWT_PUBLIC_KEYS,
        },
        'kid \\"test-key\\" is a local or test key',
      ],
    ];
    for (const [vars, message] of cases) {
      errors.length = 0;
      const res = await callWith(vars, request("GET", "/users/me/"));
      expectError(res, 500, "misconfigured");
      expect(res.text).not.toContain("dev-service-key");
      expect(errors.join("\n")).toContain(message);
      // A token made under it would not be accepted either: nothing answers but the error.
      const login = await callWith(
        vars,
        request("POST", "/auth/login/", { body: { email: uniqueEmail(), password: PASSWORD } }),
      );
      expectError(login, 500, "misconfigured");
    }
  });
});

describe("token and input details", () => {
  async function tokenIssuedAt(iat: number) {
    const user = await register();
    const claims = JSON.parse(
      atob(user.access_token.split(".")[1]?.replace(/-/g, "+").replace(/_/g, "/") ?? ""),
    ) as Record<string, unknown>;
    const token = await sign({ ...claims, iat, exp: iat + 900 }, serviceKey(), { typ: "JWT" });
    return call("GET", "/users/me/", { token });
  }

  it("refuses a token issued in the future, beyond a small clock skew", async () => {
    const now = Math.floor(Date.now() / 1000);
    expectError(await tokenIssuedAt(now + 3_600), 401, "invalid_token");
    expectError(await tokenIssuedAt(now + CLOCK_SKEW_SECONDS + 5), 401, "invalid_token");
    expect((await tokenIssuedAt(now + 5)).status).toBe(200);
  });

  it("an email with the Kelvin sign (U+212A) is refused before any case folding", async () => {
    const id = crypto.randomUUID();
    const kelvin = `\u212Aate-${id}@example.com`;
    const res = await call("POST", "/users/", { body: { email: kelvin, password: PASSWORD } });
    expectError(res, 400, "validation_failed");
    expect((res.body as Envelope).details).toEqual({ email: ["Enter a valid email address."] });
    expect(await accountsWith(kelvin)).toBe(0);
    expect(await accountsWith(`kate-${id}@example.com`)).toBe(0);
    // Nor does it sign in to the account whose address it imitates.
    const user = await register({ email: `kate-${crypto.randomUUID()}@example.com` });
    const imitation = user.email.replace("k", "\u212A");
    expectError(
      await call("POST", "/auth/login/", { body: { email: imitation, password: PASSWORD } }),
      400,
      "validation_failed",
    );
    const lookup = await call("GET", `/users/by-email/?email=${encodeURIComponent(imitation)}`, {
      headers: { "X-Service-Key": "dev-service-key" },
    });
    expect(lookup.status).toBe(400);
  });

  it("a device token claimed by another account tells its previous owner", async () => {
    const owner = await register();
    const thief = await register();
    const token = `claimed-${crypto.randomUUID()}`;
    const create = (access: string) =>
      call<Envelope<{ id: string }>>("POST", "/users/push-tokens/", {
        token: access,
        body: { token, platform: "android", device_name: "Pixel" },
      });
    const original = await create(owner.access_token);
    expect((await create(thief.access_token)).status).toBe(201);
    const [removed] = await outboxFor(owner.id, "push_token.removed");
    expect(removed?.event.data).toMatchObject({
      push_token_id: original.body.data.id,
      reason: "moved",
    });
    const [entry] = await auditFor(owner.id, "push_token_moved");
    expect(entry?.metadata).toEqual({
      push_token_id: original.body.data.id,
      platform: "android",
      device_name: "Pixel",
      to: "another_account",
    });
    // The owner reads it in their own audit trail, and it never names the new account.
    const trail = await call("GET", `/users/${owner.id}/audit/`, { token: owner.access_token });
    expect(trail.text).toContain("push_token_moved");
    expect(trail.text).not.toContain(thief.id);
    expect(trail.text).not.toContain(thief.email);
  });
});

describe("a malformed signing key", () => {
  function offCurve() {
    const key = serviceKey();
    // Well-formed JSON, a valid-looking coordinate, but not a point of the key.
    return JSON.stringify({ ...key, x: (key.x as string).split("").reverse().join("") });
  }

  it("makes /health answer 503 misconfigured, and other routes 500 misconfigured, never internal_error", async () => {
    const errors: string[] = [];
    vi.spyOn(console, "error").mockImplementation((line: string) => {
      errors.push(line);
    });
    const publicKeys = JSON.parse(env.JWT_PUBLIC_KEYS) as { keys: Record<string, unknown>[] };
    const broken = JSON.parse(offCurve()) as Record<string, unknown>;
    const { d: _d, ...brokenPublic } = broken;
    const vars = {
      JWT_PRIVATE_KEY: offCurve(),
      JWT_PUBLIC_KEYS: JSON.stringify({ keys: [{ ...publicKeys.keys[0], ...brokenPublic }] }),
    };
    const health = await callWith(vars, request("GET", "http://localhost/health"));
    expect(health.status, health.text).toBe(503);
    expect((health.body as Envelope).error).toBe("misconfigured");
    expect(errors.join("\n")).toContain("JWT_PRIVATE_KEY");
    const email = uniqueEmail();
    const registration = await callWith(
      vars,
      request("POST", "/users/", { body: { email, password: PASSWORD } }),
    );
    expectError(registration, 500, "misconfigured");
    expect(await accountsWith(email)).toBe(0);
  });
});
