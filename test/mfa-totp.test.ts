/**
 * Second factors with an authenticator app (RFC 6238): enrolment, the login's second step, aal2
 * tokens, and the attacks on it — replayed, wrong and brute-forced codes, expired or reused
 * `mfa_token`s, reused recovery codes. No failure issues a token or opens a session.
 */

import { eq } from "drizzle-orm";
import { createLocalJWKSet, jwtVerify } from "jose";
import { describe, expect, it } from "vitest";
import { authChallenges } from "../src/db/mfa-schema";
import { users } from "../src/db/schema";
import { totpStep } from "../src/mfa/totp";
import { call, callWith, type Envelope, expectError, request } from "./helpers/api";
import { base32Decode, codeFor, enrolTotp, totp } from "./helpers/totp";
import { auditFor, db, login, outboxFor, register, sessionsFor } from "./helpers/users";

interface MfaRequired {
  mfa_required: true;
  mfa_token: string;
  factors: { id: string; type: string }[];
}

const NEXT_STEP = 30_000;

async function challenge(body: Record<string, unknown>) {
  return call<Envelope<{ access_token: string; refresh_token: string }>>(
    "POST",
    "/auth/mfa/challenge/",
    {
      body,
    },
  );
}

async function mfaLogin(email: string) {
  const res = await login(email);
  expect(res.status, res.text).toBe(200);
  return (res.body as unknown as Envelope<MfaRequired>).data;
}

describe("TOTP itself", () => {
  it("matches RFC 6238's SHA-1 test vectors, here and in the service", async () => {
    const key = new TextEncoder().encode("12345678901234567890");
    const vectors: [number, string][] = [
      [59, "94287082"],
      [1111111109, "07081804"],
      [1111111111, "14050471"],
      [1234567890, "89005924"],
      [2000000000, "69279037"],
      [20000000000, "65353130"],
    ];
    const secret = "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ";
    expect(base32Decode(secret)).toEqual(key);
    for (const [seconds, code] of vectors) {
      expect(await totp(key, seconds * 1000, 8)).toBe(code);
      // The service's six-digit codes are the same values' last six digits.
      expect(totpStep(secret, code.slice(2), seconds * 1000)).toBe(Math.floor(seconds / 30));
    }
  });
});

describe("authenticator app", () => {
  it("enrols, verifies, and then a login needs the code; the tokens say aal2 and otp", async () => {
    const user = await register();
    const enrol = await call<Envelope<Record<string, string>>>("POST", "/auth/mfa/totp/", {
      token: user.access_token,
      body: { name: "Phone" },
    });
    expect(enrol.status, enrol.text).toBe(201);
    expect(enrol.body.data.otpauth_uri).toMatch(/^otpauth:\/\/totp\/.+secret=[A-Z2-7]+/);
    expect(enrol.body.data.otpauth_uri).toContain("algorithm=SHA1&digits=6&period=30");
    expect(enrol.body.data.qr_svg).toMatch(/^<svg/);
    // Pending until verified: login still needs only the password.
    expect((await login(user.email)).body.data).toHaveProperty("access_token");

    const { factor_id, secret } = enrol.body.data as { factor_id: string; secret: string };
    const wrong = await call("POST", "/auth/mfa/totp/verify/", {
      token: user.access_token,
      body: { factor_id, code: (Number(await codeFor(secret)) ^ 1).toString().padStart(6, "0") },
    });
    expectError(wrong, 401, "mfa_verification_failed");
    const verified = await call<
      Envelope<{ recovery_codes: string[]; access_token: string; aal: string }>
    >("POST", "/auth/mfa/totp/verify/", {
      token: user.access_token,
      body: { factor_id, code: await codeFor(secret) },
    });
    expect(verified.status, verified.text).toBe(200);
    expect(verified.body.data.recovery_codes).toHaveLength(10);
    expect(new Set(verified.body.data.recovery_codes).size).toBe(10);
    expect(verified.body.data.aal).toBe("aal2");
    expect(await outboxFor(user.id, "security.mfa_enabled")).toHaveLength(1);
    expect(await auditFor(user.id, "mfa_factor_added")).toHaveLength(1);

    const factors = await call<Envelope<Record<string, unknown>[]>>("GET", "/auth/mfa/factors/", {
      token: user.access_token,
    });
    expect(factors.body.data).toEqual([
      expect.objectContaining({ id: factor_id, type: "totp", status: "active", name: "Phone" }),
    ]);
    expect(factors.text).not.toContain(secret);

    const sessionsBefore = (await sessionsFor(user.id)).length;
    const pending = await mfaLogin(user.email);
    expect(pending).toMatchObject({
      mfa_required: true,
      factors: [{ id: factor_id, type: "totp" }],
    });
    expect(pending).not.toHaveProperty("access_token");
    expect(pending).not.toHaveProperty("refresh_token");
    expect(await sessionsFor(user.id)).toHaveLength(sessionsBefore);

    const done = await challenge({
      mfa_token: pending.mfa_token,
      code: await codeFor(secret, Date.now() + NEXT_STEP),
    });
    expect(done.status, done.text).toBe(200);
    const jwks = await call<{ keys: never[] }>("GET", "http://localhost/.well-known/jwks.json");
    const { payload } = await jwtVerify(done.body.data.access_token, createLocalJWKSet(jwks.body));
    expect(payload).toMatchObject({
      aal: "aal2",
      amr: ["pwd", "otp"],
      auth_time: expect.any(Number),
    });
    expect((await sessionsFor(user.id)).length).toBe(sessionsBefore + 1);

    // The service's own token validation reports the level too.
    const validated = await call<Envelope<Record<string, unknown>>>("POST", "/auth/validate/", {
      headers: { "X-Service-Key": "dev-service-key" },
      body: { token: done.body.data.access_token },
    });
    expect(validated.body.data).toMatchObject({ valid: true, aal: "aal2", amr: ["pwd", "otp"] });
    // A refresh keeps the session's level.
    const refreshed = await call<Envelope<{ access_token: string }>>("POST", "/auth/refresh/", {
      body: { refresh_token: done.body.data.refresh_token },
    });
    const again = await jwtVerify(refreshed.body.data.access_token, createLocalJWKSet(jwks.body));
    expect(again.payload).toMatchObject({ aal: "aal2", amr: ["pwd", "otp"] });
  });

  it("without a factor, tokens say aal1 and pwd", async () => {
    const user = await register();
    const jwks = await call<{ keys: never[] }>("GET", "http://localhost/.well-known/jwks.json");
    const { payload } = await jwtVerify(user.access_token, createLocalJWKSet(jwks.body));
    expect(payload).toMatchObject({ aal: "aal1", amr: ["pwd"] });
  });
});

describe("the login's second step refuses", () => {
  it("a code replayed within its window, a wrong code and an unknown token alike, with no session", async () => {
    const user = await register();
    const { secret } = await enrolTotp(user);
    const code = await codeFor(secret, Date.now() + NEXT_STEP);
    const first = await challenge({ mfa_token: (await mfaLogin(user.email)).mfa_token, code });
    expect(first.status, first.text).toBe(200);
    const sessions = (await sessionsFor(user.id)).length;

    const replay = await challenge({ mfa_token: (await mfaLogin(user.email)).mfa_token, code });
    const wrongCode = await challenge({
      mfa_token: (await mfaLogin(user.email)).mfa_token,
      code: code === "000000" ? "111111" : "000000",
    });
    const unknownToken = await challenge({ mfa_token: "not-a-token", code });
    for (const res of [replay, wrongCode, unknownToken]) {
      expectError(res, 401, "mfa_verification_failed");
      expect(res.body).toEqual(replay.body);
    }
    expect(await sessionsFor(user.id)).toHaveLength(sessions);
    const reasons = (await auditFor(user.id, "mfa_failure")).map((a) => a.metadata?.reason);
    expect(reasons).toEqual(expect.arrayContaining(["replayed_code", "invalid_code"]));
  });

  it("an expired mfa_token and a used one", async () => {
    const user = await register();
    const { secret } = await enrolTotp(user);
    const pending = await mfaLogin(user.email);
    const code = await codeFor(secret, Date.now() + NEXT_STEP);
    expect((await challenge({ mfa_token: pending.mfa_token, code })).status).toBe(200);
    const sessions = (await sessionsFor(user.id)).length;
    // Used: a second exchange, even with a fresh code, is refused.
    const reused = await challenge({
      mfa_token: pending.mfa_token,
      recovery_code: "whatever-code",
    });
    expectError(reused, 401, "mfa_verification_failed");

    const stale = await mfaLogin(user.email);
    await db()
      .update(authChallenges)
      .set({ expiresAt: new Date(Date.now() - 1) })
      .where(eq(authChallenges.userId, user.id));
    const expired = await challenge({
      mfa_token: stale.mfa_token,
      code: await codeFor(secret, Date.now() + 2 * NEXT_STEP),
    });
    expectError(expired, 401, "mfa_verification_failed");
    expect(await sessionsFor(user.id)).toHaveLength(sessions);
  });

  it("an mfa_token whose login's password has changed since", async () => {
    const user = await register();
    const { secret } = await enrolTotp(user);
    const pending = await mfaLogin(user.email);
    // As a change or reset would: the stored hash is no longer the one this login checked.
    await db()
      .update(users)
      .set({ passwordHash: "a hash of another password" })
      .where(eq(users.id, user.id));
    const res = await challenge({
      mfa_token: pending.mfa_token,
      code: await codeFor(secret, Date.now() + NEXT_STEP),
    });
    expectError(res, 401, "mfa_verification_failed");
    expect((await auditFor(user.id, "mfa_failure"))[0]?.metadata).toEqual({
      reason: "password_changed",
    });
  });

  it("a recovery code used a second time", async () => {
    const user = await register();
    const { recoveryCodes } = await enrolTotp(user);
    const code = recoveryCodes[0] as string;
    const first = await challenge({
      mfa_token: (await mfaLogin(user.email)).mfa_token,
      recovery_code: code.toUpperCase(),
    });
    expect(first.status, first.text).toBe(200);
    const jwks = await call<{ keys: never[] }>("GET", "http://localhost/.well-known/jwks.json");
    const { payload } = await jwtVerify(first.body.data.access_token, createLocalJWKSet(jwks.body));
    expect(payload).toMatchObject({ aal: "aal2", amr: ["pwd", "recovery_code"] });
    const again = await challenge({
      mfa_token: (await mfaLogin(user.email)).mfa_token,
      recovery_code: code,
    });
    expectError(again, 401, "mfa_verification_failed");
  });

  it("brute force: the account's budget runs out with 429 and Retry-After, even for the right code", async () => {
    const user = await register();
    const { secret } = await enrolTotp(user);
    const limits = { RATE_LIMIT_MFA_ACCOUNT: "3/900" };
    const attempt = async (code: string) => {
      const pending = await mfaLogin(user.email);
      return callWith(
        limits,
        request("POST", "/auth/mfa/challenge/", { body: { mfa_token: pending.mfa_token, code } }),
      );
    };
    const right = await codeFor(secret, Date.now() + NEXT_STEP);
    const wrong = right === "000000" ? "111111" : "000000";
    for (let i = 0; i < 3; i++) expectError(await attempt(wrong), 401, "mfa_verification_failed");
    const refused = await attempt(right);
    expectError(refused, 429, "rate_limited");
    expect(Number(refused.headers.get("Retry-After"))).toBeGreaterThan(0);
    expect(refused.text).not.toContain("access_token");
  });

  it("a token after five wrong codes, even with the right one", async () => {
    const user = await register();
    const { secret } = await enrolTotp(user);
    const pending = await mfaLogin(user.email);
    const right = await codeFor(secret, Date.now() + NEXT_STEP);
    const wrong = right === "000000" ? "111111" : "000000";
    for (let i = 0; i < 5; i++) {
      expectError(
        await challenge({ mfa_token: pending.mfa_token, code: wrong }),
        401,
        "mfa_verification_failed",
      );
    }
    expectError(
      await challenge({ mfa_token: pending.mfa_token, code: right }),
      401,
      "mfa_verification_failed",
    );
  });

  it("races: one code sent with two logins at once, one token sent twice at once — exactly one session", async () => {
    const user = await register();
    const { secret, recoveryCodes } = await enrolTotp(user);
    const code = await codeFor(secret, Date.now() + NEXT_STEP);
    const [a, b] = await Promise.all([mfaLogin(user.email), mfaLogin(user.email)]);
    const sessions = (await sessionsFor(user.id)).length;
    const sameCode = await Promise.all([
      challenge({ mfa_token: a.mfa_token, code }),
      challenge({ mfa_token: b.mfa_token, code }),
    ]);
    expect(sameCode.map((r) => r.status).sort()).toEqual([200, 401]);
    expect(await sessionsFor(user.id)).toHaveLength(sessions + 1);

    const c = await mfaLogin(user.email);
    const sameToken = await Promise.all([
      challenge({ mfa_token: c.mfa_token, recovery_code: recoveryCodes[0] }),
      challenge({ mfa_token: c.mfa_token, recovery_code: recoveryCodes[1] }),
    ]);
    expect(sameToken.map((r) => r.status).sort()).toEqual([200, 401]);
    // Each loser was refused by the batch guard (both used what the winner had just used).
    const losers = (await auditFor(user.id, "mfa_failure")).map((a) => a.metadata?.reason);
    expect(losers).toHaveLength(2);
    for (const reason of losers)
      expect(["already_used", "replayed_code", "invalid_token"]).toContain(reason);
    expect(await sessionsFor(user.id)).toHaveLength(sessions + 2);
  });
});
