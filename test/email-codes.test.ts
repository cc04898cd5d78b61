/**
 * Sign-in by emailed code (README: Sign-in by email code): an enumeration-safe request, a code or
 * link that works once and briefly, capped tries per code, per address and per network, sign-up by
 * code, and a race that only one use wins.
 */
import { eq } from "drizzle-orm";
import { afterEach, describe, expect, it, vi } from "vitest";
import { users } from "../src/db/schema";
import { emailCodes } from "../src/db/sign-in-schema";
import { call, callWith, type Envelope, expectError, request } from "./helpers/api";
import { tokenFromMail, waitForMail } from "./helpers/mailbox";
import { enrolTotp } from "./helpers/totp";
import {
  auditFor,
  claims,
  db,
  outboxFor,
  PASSWORD,
  register,
  sessionsFor,
  uniqueEmail,
  userRow,
} from "./helpers/users";

const CODE_MAIL = "user.sign_in_code_requested";
const SIGN_UP_OFF = { EMAIL_CODE_SIGN_UP: "false" };

let ipCounter = 0;
const newIp = () => `198.51.100.${(ipCounter++ % 250) + 1}`;

function send(vars: Record<string, string>, path: string, body: unknown, ip = newIp()) {
  return callWith(
    vars,
    request("POST", path, {
      body: body as Record<string, unknown>,
      headers: { "CF-Connecting-IP": ip },
    }),
  );
}

const requestCode = (email: string, vars: Record<string, string> = {}) =>
  send(vars, "/auth/otp/", { email });
const verify = (body: Record<string, unknown>, vars: Record<string, string> = {}, ip?: string) =>
  send(vars, "/auth/otp/verify/", body, ip);

async function mailedCode(email: string, count = 1) {
  const [newest] = await waitForMail(email, CODE_MAIL, count);
  const data = newest?.data ?? {};
  return { code: String(data.code), token: String(data.token), link: String(data.link) };
}

/** A code that is not the mailed one. */
const otherCode = (code: string) => String((Number(code) + 1) % 1_000_000).padStart(6, "0");

afterEach(() => {
  vi.useRealTimers();
});

describe("requesting a code", () => {
  it("answers the same for a known, an unknown and a deactivated address", async () => {
    const known = await register();
    const inactive = await register();
    await call("DELETE", "/users/me/", { token: inactive.access_token });
    const unknown = uniqueEmail("nobody");
    const responses = [
      await requestCode(known.email, SIGN_UP_OFF),
      await requestCode(unknown, SIGN_UP_OFF),
      await requestCode(inactive.email, SIGN_UP_OFF),
    ];
    for (const res of responses) expect(res.status).toBe(202);
    expect(new Set(responses.map((r) => r.text)).size).toBe(1);
    const headerSets = responses.map((r) =>
      [...r.headers.keys()]
        .filter((k) => !["x-correlation-id", "ratelimit"].includes(k))
        .sort()
        .join(),
    );
    expect(new Set(headerSets).size).toBe(1);
    // Only the active account got a code; the other two wrote no code at all.
    await mailedCode(known.email);
    for (const email of [unknown, inactive.email]) {
      const rows = await db().select().from(emailCodes).where(eq(emailCodes.email, email));
      expect(rows).toEqual([]);
    }
  });

  it("stores hashes only, and the mail carries the code and a link", async () => {
    const user = await register();
    await requestCode(user.email);
    const { code, token, link } = await mailedCode(user.email);
    expect(code).toMatch(/^\d{6}$/);
    expect(link).toContain(`token=${token}`);
    const [row] = await db().select().from(emailCodes).where(eq(emailCodes.email, user.email));
    expect(JSON.stringify(row)).not.toContain(code);
    expect(JSON.stringify(row)).not.toContain(token);
  });

  it("rejects a malformed body with a 400 and writes nothing", async () => {
    for (const body of [{}, { email: "not-an-email" }, { email: 42 }, { email: "a@b.co", x: 1 }]) {
      const res = await send({}, "/auth/otp/", body);
      if (res.status !== 202) expectError(res, 400, "validation_failed");
    }
    for (const body of [
      {},
      { email: "a@b.co" },
      { email: "a@b.co", code: "12345" },
      { code: "123456" },
      { token: "" },
    ]) {
      expectError(await verify(body), 400, "validation_failed");
    }
  });
});

describe("signing in with the code", () => {
  it("opens a session with amr email_otp and proves the address; a second use is refused", async () => {
    const user = await register();
    expect((await userRow(user.id))?.emailVerifiedAt).toBeNull();
    await requestCode(user.email);
    const { code } = await mailedCode(user.email);
    const res = await verify({ email: user.email, code });
    expect(res.status, res.text).toBe(200);
    const data = (res.body as Envelope<{ access_token: string; refresh_token: string }>).data;
    expect(claims(data.access_token)).toMatchObject({ aal: "aal1", amr: ["email_otp"] });
    expect((await userRow(user.id))?.emailVerifiedAt).not.toBeNull();
    expect((await auditFor(user.id, "login_success")).length).toBe(1);
    const before = (await sessionsFor(user.id)).length;
    expectError(await verify({ email: user.email, code }), 401, "invalid_code");
    expect((await sessionsFor(user.id)).length).toBe(before);
  });

  it("the link's token works once too", async () => {
    const user = await register();
    await requestCode(user.email);
    const { token } = await mailedCode(user.email);
    expect((await verify({ token })).status).toBe(200);
    expectError(await verify({ token }), 401, "invalid_code");
  });

  it("a newer code kills the older one", async () => {
    const user = await register();
    await requestCode(user.email);
    const first = await mailedCode(user.email);
    await requestCode(user.email);
    const second = await mailedCode(user.email, 2);
    expectError(await verify({ email: user.email, code: first.code }), 401, "invalid_code");
    expectError(await verify({ token: first.token }), 401, "invalid_code");
    expect((await verify({ email: user.email, code: second.code })).status).toBe(200);
  });

  it("expires", async () => {
    const user = await register();
    await requestCode(user.email);
    const { code } = await mailedCode(user.email);
    vi.useFakeTimers({ toFake: ["Date"] });
    vi.setSystemTime(Date.now() + 10 * 60 * 1000 + 1000);
    expectError(await verify({ email: user.email, code }), 401, "invalid_code");
    expect((await auditFor(user.id, "login_success")).length).toBe(0);
  });

  it("dies after five wrong codes, even for the right one", async () => {
    const user = await register();
    await requestCode(user.email);
    const { code } = await mailedCode(user.email);
    for (let i = 0; i < 5; i++) {
      expectError(await verify({ email: user.email, code: otherCode(code) }), 401, "invalid_code");
    }
    expectError(await verify({ email: user.email, code }), 401, "invalid_code");
    expect((await sessionsFor(user.id)).length).toBe(1); // the registration's only
  });

  it("brute force per address hits 429 before the code is checked", async () => {
    const limits = { RATE_LIMIT_OTP_VERIFY_EMAIL: "3/900" };
    const user = await register();
    await requestCode(user.email);
    const { code } = await mailedCode(user.email);
    for (let i = 0; i < 3; i++) {
      expectError(
        await verify({ email: user.email, code: otherCode(code) }, limits),
        401,
        "invalid_code",
      );
    }
    const limited = await verify({ email: user.email, code }, limits);
    expectError(limited, 429, "rate_limited");
    expect(limited.headers.get("Retry-After")).toBeTruthy();
    expect((await sessionsFor(user.id)).length).toBe(1);
  });

  it("sending is limited per address, known or not, with the same answer", async () => {
    const limits = { RATE_LIMIT_OTP_EMAIL: "2/3600", ...SIGN_UP_OFF };
    const known = await register();
    for (const email of [known.email, uniqueEmail("ghost")]) {
      expect((await requestCode(email, limits)).status).toBe(202);
      expect((await requestCode(email, limits)).status).toBe(202);
      expectError(await requestCode(email, limits), 429, "rate_limited");
    }
  });

  it("of two concurrent uses, exactly one signs in", async () => {
    const user = await register();
    await requestCode(user.email);
    const { code } = await mailedCode(user.email);
    const results = await Promise.all([
      verify({ email: user.email, code }),
      verify({ email: user.email, code }),
    ]);
    expect(results.map((r) => r.status).sort()).toEqual([200, 401]);
    expect((await auditFor(user.id, "login_success")).length).toBe(1);
  });
});

describe("an account a stranger registered with the address", () => {
  it("is claimed by the code: their password, sessions and factors end", async () => {
    // The stranger registers the victim's address (never verified) and adds an authenticator.
    const squatter = await register();
    await enrolTotp(squatter);
    await requestCode(squatter.email);
    const { code } = await mailedCode(squatter.email);
    const res = await verify({ email: squatter.email, code });
    expect(res.status, res.text).toBe(200);
    const data = (res.body as Envelope<{ access_token: string; user: { email_verified: boolean } }>)
      .data;
    // Signed in (no second factor is asked for: the stranger's is gone), address verified.
    expect(data.access_token).toBeTruthy();
    expect(data.user.email_verified).toBe(true);
    expectError(
      await call("POST", "/auth/login/", { body: { email: squatter.email, password: PASSWORD } }),
      401,
      "invalid_credentials",
    );
    expectError(
      await call("GET", "/users/me/", { token: squatter.access_token }),
      401,
      "invalid_token",
    );
    expect((await call("GET", "/users/me/", { token: data.access_token })).status).toBe(200);
    expect((await auditFor(squatter.id, "address_claimed")).length).toBe(1);
    const factors = await call("GET", "/auth/mfa/factors/", { token: data.access_token });
    expect((factors.body as Envelope<unknown[]>).data).toEqual([]);
  });
});

describe("sign-up by code", () => {
  it("creates the account on first use when EMAIL_CODE_SIGN_UP is on", async () => {
    const email = uniqueEmail("newcomer");
    await requestCode(email);
    const { code } = await mailedCode(email);
    const [before] = await db().select().from(users).where(eq(users.email, email));
    expect(before).toBeUndefined();
    const res = await verify({ email, code });
    expect(res.status, res.text).toBe(200);
    const data = (res.body as Envelope<{ user: { id: string; email_verified: boolean } }>).data;
    expect(data.user.email_verified).toBe(true);
    expect((await outboxFor(data.user.id, "user.created")).length).toBe(1);
    // It has no password: a password login with anything fails.
    const row = await userRow(data.user.id);
    expect(row?.passwordHash.startsWith("!")).toBe(true);
  });

  it("an unknown address gets no account when sign-up by code is off", async () => {
    const email = uniqueEmail("stranger");
    await requestCode(email);
    const { code } = await mailedCode(email);
    expectError(await verify({ email, code }, SIGN_UP_OFF), 401, "invalid_code");
    const [row] = await db().select().from(users).where(eq(users.email, email));
    expect(row).toBeUndefined();
  });
});

describe("with a second factor", () => {
  it("asks for it, as after a password; the session then says email_otp and the factor", async () => {
    const user = await register();
    // A verified account (an unverified one would be claimed by the code, factors and all).
    const verification = await tokenFromMail(user.email, "user.email_verification_requested");
    expect(
      (await call("POST", "/auth/verify-email/", { body: { token: verification } })).status,
    ).toBe(200);
    const { recoveryCodes } = await enrolTotp(user);
    await requestCode(user.email);
    const { code } = await mailedCode(user.email);
    const before = (await sessionsFor(user.id)).length;
    const res = await verify({ email: user.email, code });
    expect(res.status, res.text).toBe(200);
    const data = (res.body as Envelope<{ mfa_required?: boolean; mfa_token: string }>).data;
    expect(data.mfa_required).toBe(true);
    expect(data).not.toHaveProperty("access_token");
    expect((await sessionsFor(user.id)).length).toBe(before);
    // The code was used up by this step.
    expectError(await verify({ email: user.email, code }), 401, "invalid_code");
    const done = await call("POST", "/auth/mfa/challenge/", {
      body: { mfa_token: data.mfa_token, recovery_code: recoveryCodes[0] },
    });
    expect(done.status, done.text).toBe(200);
    const token = (done.body as Envelope<{ access_token: string }>).data.access_token;
    expect(claims(token)).toMatchObject({ aal: "aal2", amr: ["email_otp", "recovery_code"] });
  });
});
