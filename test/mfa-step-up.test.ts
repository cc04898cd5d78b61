/**
 * Step-up and the sensitive actions (README: Second factors): aal2 for users with a factor, a
 * recent sign-in for all, re-authentication, and the admin's side (MFA required for admins, a
 * reset). Each refused attempt changes nothing.
 */
import { eq } from "drizzle-orm";
import { afterEach, describe, expect, it, vi } from "vitest";
import { mfaFactors } from "../src/db/mfa-schema";
import { users } from "../src/db/schema";
import { call, callWith, type Envelope, expectError, request } from "./helpers/api";
import { codeFor, enrolTotp } from "./helpers/totp";
import { auditFor, db, login, outboxFor, PASSWORD, register, sessionsFor } from "./helpers/users";

afterEach(() => {
  vi.useRealTimers();
});

const NEXT_STEP = 30_000;

async function factorsOf(userId: string) {
  return db().select().from(mfaFactors).where(eq(mfaFactors.userId, userId));
}

describe("step-up", () => {
  it("removing a factor needs aal2: the aal1 token gets mfa_required, a step-up unlocks it", async () => {
    const user = await register();
    const { secret, factorId } = await enrolTotp(user);
    // The registration's access token was signed at aal1 (the verification returned a new one).
    const refused = await call("DELETE", `/auth/mfa/factors/${factorId}/`, {
      token: user.access_token,
    });
    expectError(refused, 403, "mfa_required");
    expect(await factorsOf(user.id)).toHaveLength(1);

    // A fresh login's second factor, in a new aal1 session of its own (registered before MFA).
    const stepped = await call<Envelope<{ access_token: string; aal: string; amr: string[] }>>(
      "POST",
      "/auth/mfa/step-up/",
      { token: user.access_token, body: { code: await codeFor(secret, Date.now() + NEXT_STEP) } },
    );
    expect(stepped.status, stepped.text).toBe(200);
    expect(stepped.body.data).toMatchObject({ aal: "aal2", amr: ["pwd", "otp"] });
    const removed = await call("DELETE", `/auth/mfa/factors/${factorId}/`, {
      token: stepped.body.data.access_token,
    });
    expect(removed.status, removed.text).toBe(200);
    expect(await factorsOf(user.id)).toHaveLength(0);
    expect(await outboxFor(user.id, "security.mfa_disabled")).toHaveLength(1);
    // MFA is off again: the password alone signs in.
    expect((await login(user.email)).body.data).toHaveProperty("access_token");
  });

  it("a step-up with a wrong code is refused and the session stays aal1", async () => {
    const user = await register();
    const { secret } = await enrolTotp(user);
    const right = await codeFor(secret, Date.now() + NEXT_STEP);
    const res = await call("POST", "/auth/mfa/step-up/", {
      token: user.access_token,
      body: { code: right === "000000" ? "111111" : "000000" },
    });
    expectError(res, 401, "mfa_verification_failed");
    expect(res.text).not.toContain("access_token");
    expect(await auditFor(user.id, "mfa_step_up")).toHaveLength(0);
    expect((await auditFor(user.id, "mfa_failure"))[0]?.metadata).toEqual({
      reason: "invalid_code",
    });
  });

  it("changing the password or email, ending all sessions and deactivating need aal2 with a factor", async () => {
    const user = await register();
    await enrolTotp(user);
    const token = user.access_token;
    const attempts = [
      await call("POST", "/users/change-password/", {
        token,
        body: { old_password: PASSWORD, new_password: "another-Harbor-77" },
      }),
      await call("PATCH", "/users/me/", {
        token,
        body: { email: "taken-over@example.com", current_password: PASSWORD },
      }),
      await call("POST", "/auth/logout/", { token, body: { all: true } }),
      await call("DELETE", "/users/me/", { token }),
    ];
    for (const res of attempts) expectError(res, 403, "mfa_required");
    const [row] = await db().select().from(users).where(eq(users.id, user.id));
    expect(row?.email).toBe(user.email);
    expect(row?.isActive).toBe(true);
    expect((await sessionsFor(user.id)).every((s) => s.revokedAt === null)).toBe(true);
    expect((await login(user.email, "another-Harbor-77")).status).toBe(401);
  });

  it("a sign-in older than 10 minutes must re-authenticate; the password refreshes it", async () => {
    const user = await register();
    vi.useFakeTimers({ toFake: ["Date"] });
    vi.setSystemTime(Date.now() + 11 * 60 * 1000);
    for (const [method, path] of [
      ["POST", "/auth/mfa/totp/"],
      ["DELETE", "/users/me/"],
    ] as const) {
      expectError(
        await call(method, path, {
          token: user.access_token,
          body: method === "POST" ? {} : undefined,
        }),
        401,
        "reauthentication_required",
      );
    }
    const wrong = await call("POST", "/auth/reauthenticate/", {
      token: user.access_token,
      body: { password: "not-the-password" },
    });
    expectError(wrong, 400, "validation_failed");
    expect(await auditFor(user.id, "reauthentication_failure")).toHaveLength(1);
    const fresh = await call<Envelope<{ access_token: string }>>("POST", "/auth/reauthenticate/", {
      token: user.access_token,
      body: { password: PASSWORD },
    });
    expect(fresh.status, fresh.text).toBe(200);
    const enrol = await call("POST", "/auth/mfa/totp/", {
      token: fresh.body.data.access_token,
      body: {},
    });
    expect(enrol.status, enrol.text).toBe(201);
  });
});

describe("admins", () => {
  async function admin() {
    const boss = await register();
    await db().update(users).set({ role: "admin" }).where(eq(users.id, boss.id));
    return boss;
  }

  it("MFA_REQUIRED_FOR_ADMINS refuses an aal1 admin session and accepts an aal2 one", async () => {
    const boss = await admin();
    const list = (token: string) =>
      callWith({ MFA_REQUIRED_FOR_ADMINS: "true" }, request("GET", "/users/", { token }));
    expectError(await list(boss.access_token), 403, "mfa_required");
    const { aal2Token } = await enrolTotp(boss);
    expect((await list(aal2Token)).status).toBe(200);
  });

  it("an admin's reset removes the factors, ends every session and tells the user", async () => {
    const boss = await admin();
    const user = await register();
    const { aal2Token } = await enrolTotp(user);
    const reset = await call<Envelope<{ revoked_sessions: number }>>(
      "DELETE",
      `/admin/users/${user.id}/mfa/`,
      { token: boss.access_token },
    );
    expect(reset.status, reset.text).toBe(200);
    expect(reset.body.data.revoked_sessions).toBeGreaterThan(0);
    expect(await factorsOf(user.id)).toHaveLength(0);
    expect((await sessionsFor(user.id)).every((s) => s.revokedAt !== null)).toBe(true);
    expect(await outboxFor(user.id, "security.mfa_reset")).toHaveLength(1);
    expect((await auditFor(user.id, "mfa_reset"))[0]?.metadata).toEqual({ by: boss.id });
    expectError(await call("GET", "/users/me/", { token: aal2Token }), 401, "invalid_token");
    expect((await login(user.email)).body.data).toHaveProperty("access_token");
  });

  it("a non-admin cannot reset anyone's factors", async () => {
    const user = await register();
    await enrolTotp(user);
    const other = await register();
    expectError(
      await call("DELETE", `/admin/users/${user.id}/mfa/`, { token: other.access_token }),
      403,
      "forbidden",
    );
    expect(await factorsOf(user.id)).toHaveLength(1);
  });
});
