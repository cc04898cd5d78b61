/**
 * POST /auth/refresh/ — rotation, the grace window, replay detection and concurrency.
 */
import { eq } from "drizzle-orm";
import { afterEach, describe, expect, it, vi } from "vitest";
import { users } from "../src/db/schema";
import { call, callWith, type Envelope, expectError, request } from "./helpers/api";
import {
  auditFor,
  claims,
  db,
  outboxFor,
  register,
  sessionsFor,
  type TestUser,
  type TokenPair,
} from "./helpers/users";

async function refresh(token: string, field: "refresh_token" | "refresh" = "refresh_token") {
  return call<Envelope<TokenPair>>("POST", "/auth/refresh/", { body: { [field]: token } });
}

async function profile(token: string) {
  return call("GET", "/users/profile/", { token });
}

/** Moves the clock forward, for everything the Worker computes in this isolate. */
function advance(ms: number) {
  vi.useFakeTimers({ toFake: ["Date"] });
  vi.setSystemTime(Date.now() + ms);
}

afterEach(() => {
  vi.useRealTimers();
});

describe("rotation", () => {
  it("returns a new pair for the same session and keeps only the hash", async () => {
    const user = await register();
    const res = await refresh(user.refresh_token);
    expect(res.status, res.text).toBe(200);
    const pair = res.body.data;
    expect(pair.refresh_token).not.toBe(user.refresh_token);
    expect(pair.access_token).not.toBe(user.access_token);
    expect(pair.user.id).toBe(user.id);
    expect(claims(pair.access_token).sid).toBe(claims(user.access_token).sid);
    const [session] = await sessionsFor(user.id);
    expect(session?.rotatedAt).not.toBeNull();
    expect(JSON.stringify(session)).not.toContain(pair.refresh_token);
    expect((await profile(pair.access_token)).status).toBe(200);
  });

  it("accepts the old field name `refresh`", async () => {
    const user = await register();
    expect((await refresh(user.refresh_token, "refresh")).status).toBe(200);
  });

  it("chains: each new token works once in turn", async () => {
    const user = await register();
    let token = user.refresh_token;
    for (let i = 0; i < 3; i++) {
      const res = await refresh(token);
      expect(res.status).toBe(200);
      token = res.body.data.refresh_token;
    }
  });

  it("refuses an unknown token", async () => {
    expectError(await refresh("x".repeat(43)), 401, "invalid_token");
  });

  it("validates the body", async () => {
    const res = await call("POST", "/auth/refresh/", { body: {} });
    expectError(res, 400, "validation_failed");
    expect((res.body as Envelope).details).toEqual({ refresh_token: ["This field is required."] });
  });

  it("refuses a token whose session has passed its absolute lifetime", async () => {
    const user = await register();
    advance(31 * 24 * 60 * 60 * 1000);
    expectError(await refresh(user.refresh_token), 401, "invalid_token");
  });
});

describe("replay of a rotated token", () => {
  async function rotatedOnce(): Promise<{ user: TestUser; next: TokenPair }> {
    const user = await register();
    const res = await refresh(user.refresh_token);
    expect(res.status).toBe(200);
    return { user, next: res.body.data };
  }

  it("inside the grace window, gives a client that lost the response a new pair", async () => {
    const { user } = await rotatedOnce();
    advance(5_000);
    const again = await refresh(user.refresh_token);
    expect(again.status, again.text).toBe(200);
    expect((await refresh(again.body.data.refresh_token)).status).toBe(200);
    expect(await auditFor(user.id, "refresh_token_reused")).toHaveLength(0);
  });

  it("after the grace window, revokes the session: both tokens and the access token die", async () => {
    const { user, next } = await rotatedOnce();
    advance(11_000);
    const replay = await refresh(user.refresh_token);
    expectError(replay, 401, "refresh_token_reused");

    // The legitimate holder of the newest token is logged out too: the session may be stolen.
    expectError(await refresh(next.refresh_token), 401, "invalid_token");
    expectError(await profile(next.access_token), 401, "invalid_token");

    const [session] = await sessionsFor(user.id);
    expect(session).toMatchObject({ revokedReason: "refresh_token_reused" });
    expect(await auditFor(user.id, "refresh_token_reused")).toHaveLength(1);
    const [event] = await outboxFor(user.id, "security.refresh_token_reused");
    expect(event?.event.data).toMatchObject({ user_id: user.id, session_id: session?.id });
  });

  it("does not let repeated replays stretch the grace window", async () => {
    const { user } = await rotatedOnce();
    advance(8_000);
    expect((await refresh(user.refresh_token)).status).toBe(200);
    advance(4_000);
    expectError(await refresh(user.refresh_token), 401, "refresh_token_reused");
  });

  it("leaves the user's other sessions alone", async () => {
    const { user } = await rotatedOnce();
    const other = await call<Envelope<TokenPair>>("POST", "/auth/login/", {
      body: { email: user.email, password: user.password },
    });
    advance(11_000);
    expectError(await refresh(user.refresh_token), 401, "refresh_token_reused");
    expect((await refresh(other.body.data.refresh_token)).status).toBe(200);
  });
});

describe("replay of an older token", () => {
  it("revokes the session even after several rotations (a thief refreshed twice)", async () => {
    const user = await register();
    const a = (await refresh(user.refresh_token)).body.data;
    advance(11_000);
    const b = (await refresh(a.refresh_token)).body.data;
    advance(22_000);
    // The victim comes back with the first token, two generations old.
    expectError(await refresh(user.refresh_token), 401, "refresh_token_reused");
    expectError(await refresh(b.refresh_token), 401, "invalid_token");
    expectError(await profile(b.access_token), 401, "invalid_token");
    expect(await auditFor(user.id, "refresh_token_reused")).toHaveLength(1);
  });

  it("never revokes a session for a token nobody issued", async () => {
    const user = await register();
    for (const garbage of ["x".repeat(43), `${user.refresh_token}x`, user.refresh_token.slice(1)]) {
      expectError(await refresh(garbage), 401, "invalid_token");
    }
    expect((await refresh(user.refresh_token)).status).toBe(200);
    expect(await auditFor(user.id, "refresh_token_reused")).toHaveLength(0);
  });

  it("revokes the session when the pair a grace-window replay replaced turns up later", async () => {
    const user = await register();
    const lost = (await refresh(user.refresh_token)).body.data;
    const regranted = (await refresh(user.refresh_token)).body.data;
    // The response the client "lost" was never received by it: whoever presents it has a copy.
    expectError(await refresh(lost.refresh_token), 401, "refresh_token_reused");
    expectError(await refresh(regranted.refresh_token), 401, "invalid_token");
    expect(await auditFor(user.id, "refresh_token_reused")).toHaveLength(1);
  });

  it("revokes for a two-generations-old token even inside the latest rotation's grace window", async () => {
    const user = await register();
    const a = (await refresh(user.refresh_token)).body.data;
    const b = (await refresh(a.refresh_token)).body.data;
    // Within 10 s of the a→b rotation, but the first token is not the one it replaced.
    expectError(await refresh(user.refresh_token), 401, "refresh_token_reused");
    expectError(await profile(b.access_token), 401, "invalid_token");
  });
});

describe("concurrent refreshes", () => {
  it("cannot both succeed outside the grace window (grace 0): one wins, the replay is caught", async () => {
    const user = await register();
    const noGrace = { REFRESH_TOKEN_REUSE_GRACE_SECONDS: "0" };
    const results = await Promise.all(
      [0, 1].map(() =>
        callWith<Envelope<TokenPair>>(
          noGrace,
          request("POST", "/auth/refresh/", { body: { refresh_token: user.refresh_token } }),
        ),
      ),
    );
    const statuses = results.map((r) => r.status).sort();
    expect(statuses).toEqual([200, 401]);
    const loser = results.find((r) => r.status === 401);
    expect(loser?.body.error).toBe("refresh_token_reused");
  });

  it("inside the grace window, both get a pair and only the last one stays valid", async () => {
    const user = await register();
    const results = await Promise.all([0, 1].map(() => refresh(user.refresh_token)));
    expect(results.map((r) => r.status)).toEqual([200, 200]);
    const tokens = results.map((r) => r.body.data.refresh_token);
    const outcomes = await Promise.all(tokens.map((t) => refresh(t)));
    expect(outcomes.map((r) => r.status).sort()).toEqual([200, 401]);
  });
});

describe("deactivated accounts", () => {
  it("cannot refresh", async () => {
    const user = await register();
    await call("DELETE", "/users/profile/", { token: user.access_token });
    expectError(await refresh(user.refresh_token), 401, "invalid_token");
  });

  it("cannot refresh even when the session itself was never revoked", async () => {
    const user = await register();
    const rotated = (await refresh(user.refresh_token)).body.data;
    await db().update(users).set({ isActive: false }).where(eq(users.id, user.id));
    expectError(await refresh(rotated.refresh_token), 401, "invalid_token");
    // Nor through the grace path with the previous token.
    expectError(await refresh(user.refresh_token), 401, "invalid_token");
  });
});
