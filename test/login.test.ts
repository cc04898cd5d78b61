/**
 * POST /auth/login/ — credentials, enumeration safety, audit, rehash.
 */
import { eq } from "drizzle-orm";
import { afterEach, describe, expect, it, vi } from "vitest";
import { argon2id } from "../src/auth/passwords";
import { users } from "../src/db/schema";
import { call, callWith, type Envelope, expectError, headerNames, request } from "./helpers/api";
import {
  auditFor,
  db,
  login,
  PASSWORD,
  register,
  sessionsFor,
  type TokenPair,
  uniqueEmail,
  userRow,
} from "./helpers/users";

afterEach(() => {
  vi.restoreAllMocks();
});

describe("login", () => {
  it("opens a new session and returns the user and a token pair", async () => {
    const user = await register();
    const res = await login(user.email.toUpperCase());
    expect(res.status, res.text).toBe(200);
    const data = res.body.data;
    expect(data.user.id).toBe(user.id);
    expect(data.user.last_login_at).not.toBeNull();
    expect(data.token_type).toBe("Bearer");
    expect(data.refresh_token).not.toBe(user.refresh_token);
    expect(await sessionsFor(user.id)).toHaveLength(2);
    expect((await userRow(user.id))?.lastLoginAt).not.toBeNull();
    const [audit] = await auditFor(user.id, "login_success");
    expect(audit?.ip).toBeNull();
    expect(audit?.metadata).toMatchObject({ session_id: expect.any(String) });

    const profile = await call("GET", "/users/profile/", { token: data.access_token });
    expect(profile.status).toBe(200);
  });

  it("records the client's CF-Connecting-IP and user agent, ignoring X-Forwarded-For", async () => {
    const user = await register();
    await call("POST", "/auth/login/", {
      body: { email: user.email, password: PASSWORD },
      headers: {
        "CF-Connecting-IP": "203.0.113.7",
        "X-Forwarded-For": "198.51.100.1",
        "User-Agent": "test-agent/1.0",
      },
    });
    const [audit] = await auditFor(user.id, "login_success");
    expect(audit).toMatchObject({ ip: "203.0.113.7", userAgent: "test-agent/1.0" });
    const newest = (await sessionsFor(user.id)).find((s) => s.ip !== null);
    expect(newest).toMatchObject({ ip: "203.0.113.7", userAgent: "test-agent/1.0" });
  });

  it("validates the body", async () => {
    const res = await call("POST", "/auth/login/", { body: { email: "nope" } });
    expectError(res, 400, "validation_failed");
    expect((res.body as Envelope).details).toEqual({
      email: ["Enter a valid email address."],
      password: ["This field is required."],
    });
  });
});

describe("login failures do not reveal which accounts exist", () => {
  async function deactivated() {
    const user = await register();
    const res = await call("DELETE", "/users/profile/", { token: user.access_token });
    expect(res.status).toBe(200);
    return user;
  }

  it("answers unknown email, wrong password and deactivated account identically", async () => {
    const known = await register();
    const inactive = await deactivated();
    const responses = [
      await login(uniqueEmail("ghost")),
      await login(known.email, "wrong-password-123"),
      await login(inactive.email, PASSWORD),
    ];
    for (const res of responses) expectError(res, 401, "invalid_credentials");
    const bodies = responses.map((r) => r.text);
    expect(new Set(bodies).size).toBe(1);
    expect(new Set(responses.map(headerNames)).size).toBe(1);
  });

  it("does the same Argon2id work with the same parameters on every failure path", async () => {
    const known = await register();
    const inactive = await deactivated();
    const attempts = [
      () => login(uniqueEmail("ghost")),
      () => login(known.email, "wrong-password-123"),
      () => login(inactive.email, PASSWORD),
    ];
    const observed: string[][] = [];
    for (const attempt of attempts) {
      const verify = vi.spyOn(argon2id, "verify");
      const hash = vi.spyOn(argon2id, "hash");
      await attempt();
      expect(hash).not.toHaveBeenCalled();
      // One verification per attempt, each with the configured cost parameters.
      observed.push(verify.mock.calls.map(([encoded]) => encoded.split("$")[3] ?? ""));
      vi.restoreAllMocks();
    }
    expect(observed).toEqual([["m=19456,t=2,p=1"], ["m=19456,t=2,p=1"], ["m=19456,t=2,p=1"]]);
  });

  it("audits every failure without the password", async () => {
    const user = await register();
    await login(user.email, "wrong-password-123");
    const [failure] = await auditFor(user.id, "login_failure");
    expect(failure?.metadata).toEqual({ reason: "wrong_password" });
    expect(JSON.stringify(failure)).not.toContain("wrong-password-123");
  });

  it("issues no session on failure", async () => {
    const user = await register();
    await login(user.email, "wrong-password-123");
    expect(await sessionsFor(user.id)).toHaveLength(1);
  });
});

describe("rehash on login", () => {
  it("rewrites a hash made with other parameters to the current ones", async () => {
    const user = await register();
    const before = (await userRow(user.id))?.passwordHash;
    expect(before).toContain("m=19456,t=2,p=1");

    // The operator raises the cost: the next login stores a hash with the new parameters.
    const res = await callWith<Envelope<TokenPair>>(
      { PASSWORD_HASH_ITERATIONS: "3" },
      request("POST", "/auth/login/", { body: { email: user.email, password: PASSWORD } }),
    );
    expect(res.status, res.text).toBe(200);
    const after = (await userRow(user.id))?.passwordHash;
    expect(after).toContain("m=19456,t=3,p=1");
    expect(after).not.toBe(before);

    // And the password still works with the rewritten hash.
    const again = await callWith(
      { PASSWORD_HASH_ITERATIONS: "3" },
      request("POST", "/auth/login/", { body: { email: user.email, password: PASSWORD } }),
    );
    expect(again.status).toBe(200);
    expect((await userRow(user.id))?.passwordHash).toBe(after);
  });

  it("keeps a current hash as it is", async () => {
    const user = await register();
    const before = (await userRow(user.id))?.passwordHash;
    await login(user.email);
    expect((await userRow(user.id))?.passwordHash).toBe(before);
  });
});

describe("deactivated accounts", () => {
  it("cannot log in even with the right password, and the row stays", async () => {
    const user = await register();
    await call("DELETE", "/users/me/", { token: user.access_token });
    expectError(await login(user.email), 401, "invalid_credentials");
    const [row] = await db().select().from(users).where(eq(users.id, user.id));
    expect(row).toMatchObject({ isActive: false });
    expect(row?.deletedAt).not.toBeNull();
  });
});
