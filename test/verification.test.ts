/**
 * Email verification: the emailed token, resend, and REQUIRE_EMAIL_VERIFICATION.
 */
import { afterEach, describe, expect, it, vi } from "vitest";
import { call, callWith, type Envelope, expectError, request } from "./helpers/api";
import { mailbox, tokenFromMail, waitForMail } from "./helpers/mailbox";
import {
  auditFor,
  login,
  outboxFor,
  PASSWORD,
  register,
  type TokenPair,
  uniqueEmail,
  userRow,
} from "./helpers/users";

const VERIFY = "user.email_verification_requested";

async function verify(token: string) {
  return call("POST", "/auth/verify-email/", { body: { token } });
}

function expectTokenRefused(res: Awaited<ReturnType<typeof verify>>) {
  expectError(res, 400, "validation_failed");
  expect((res.body as Envelope).details).toEqual({
    token: ["This link is invalid or has expired."],
  });
}

afterEach(() => {
  vi.useRealTimers();
});

describe("verifying the email", () => {
  it("registration emails a link; following it marks the address verified, once", async () => {
    const user = await register({ name: "Vera" });
    const [mail] = await waitForMail(user.email, VERIFY);
    expect(mail?.data).toMatchObject({ user_id: user.id, email: user.email, name: "Vera" });
    expect(mail?.data.link).toBe(`http://localhost:3000/verify-email?token=${mail?.data.token}`);
    expect(Date.parse(mail?.data.expires_at ?? "") - Date.parse(mail?.occurred_at ?? "")).toBe(
      24 * 60 * 60 * 1000,
    );

    const res = await verify(mail?.data.token ?? "");
    expect(res.status, res.text).toBe(200);
    const profile = await call<Envelope<TokenPair["user"]>>("GET", "/users/me/", {
      token: user.access_token,
    });
    expect(profile.body.data.email_verified).toBe(true);
    expect((await userRow(user.id))?.emailVerifiedAt).not.toBeNull();
    expect(await auditFor(user.id, "email_verified")).toHaveLength(1);
    const [updated] = await outboxFor(user.id, "user.updated");
    expect(updated?.event.data.changed).toEqual(["email_verified"]);

    // Single use.
    expectTokenRefused(await verify(mail?.data.token ?? ""));
    expect(await auditFor(user.id, "email_verified")).toHaveLength(1);
  });

  it("refuses an unknown token", async () => {
    expectTokenRefused(await verify("x".repeat(43)));
  });

  it("refuses an expired token (24 h)", async () => {
    const user = await register();
    const token = await tokenFromMail(user.email, VERIFY);
    vi.useFakeTimers({ toFake: ["Date"] });
    vi.setSystemTime(Date.now() + 24 * 60 * 60 * 1000 + 1_000);
    expectTokenRefused(await verify(token));
    vi.useRealTimers();
    expect((await userRow(user.id))?.emailVerifiedAt).toBeNull();
  });

  it("refuses a password-reset token", async () => {
    const user = await register();
    await call("POST", "/auth/password-reset/", { body: { email: user.email } });
    const resetToken = await tokenFromMail(user.email, "user.password_reset_requested");
    expectTokenRefused(await verify(resetToken));
    expect((await userRow(user.id))?.emailVerifiedAt).toBeNull();
  });

  it("lets exactly one of two concurrent uses of a token succeed", async () => {
    const user = await register();
    const token = await tokenFromMail(user.email, VERIFY);
    const results = await Promise.all([verify(token), verify(token)]);
    expect(results.map((r) => r.status).sort()).toEqual([200, 400]);
    expect(await auditFor(user.id, "email_verified")).toHaveLength(1);
    expect(await outboxFor(user.id, "user.updated")).toHaveLength(1);
  });

  it("validates the body", async () => {
    const res = await call("POST", "/auth/verify-email/", { body: {} });
    expectError(res, 400, "validation_failed");
    expect((res.body as Envelope).details).toEqual({ token: ["This field is required."] });
  });
});

describe("resending the verification email", () => {
  it("sends a new link and kills the previous one", async () => {
    const user = await register();
    const first = await tokenFromMail(user.email, VERIFY);
    const res = await call("POST", "/auth/verify-email/resend/", { token: user.access_token });
    expect(res.status, res.text).toBe(202);
    const second = await tokenFromMail(user.email, VERIFY, 2);
    expect(second).not.toBe(first);
    expectTokenRefused(await verify(first));
    expect((await verify(second)).status).toBe(200);
    expect(await auditFor(user.id, "email_verification_requested")).toHaveLength(1);
  });

  it("answers 409 once the address is verified", async () => {
    const user = await register();
    await verify(await tokenFromMail(user.email, VERIFY));
    const res = await call("POST", "/auth/verify-email/resend/", { token: user.access_token });
    expectError(res, 409, "conflict");
  });

  it("requires a bearer token", async () => {
    expectError(await call("POST", "/auth/verify-email/resend/"), 401, "authentication_required");
  });
});

describe("changing the email", () => {
  it("sends a verification link to the new address and kills the old one", async () => {
    const user = await register();
    const oldToken = await tokenFromMail(user.email, VERIFY);
    const next = uniqueEmail("new-address");
    const res = await call("PATCH", "/users/me/", {
      token: user.access_token,
      body: { email: next, current_password: PASSWORD },
    });
    expect(res.status).toBe(200);
    const newToken = await tokenFromMail(next, VERIFY);
    expectTokenRefused(await verify(oldToken));
    expect((await verify(newToken)).status).toBe(200);
  });
});

describe("REQUIRE_EMAIL_VERIFICATION", () => {
  const required = { REQUIRE_EMAIL_VERIFICATION: "true" };
  const registerRequired = (email: string) =>
    callWith(required, request("POST", "/users/", { body: { email, password: PASSWORD } }));
  const loginRequired = (email: string) =>
    callWith(required, request("POST", "/auth/login/", { body: { email, password: PASSWORD } }));

  it("registration answers 202 without tokens, identically for new and existing emails", async () => {
    const existing = await register();
    const fresh = uniqueEmail("fresh");
    const forNew = await registerRequired(fresh);
    const forExisting = await registerRequired(existing.email);
    for (const res of [forNew, forExisting]) {
      expect(res.status, res.text).toBe(202);
      expect(res.text).not.toContain("token");
    }
    expect(forNew.text).toBe(forExisting.text);

    // The new account got a verification link; the existing owner got a notice instead.
    await waitForMail(fresh, VERIFY);
    const [notice] = await waitForMail(existing.email, "user.duplicate_registration");
    expect(notice?.data).toMatchObject({
      user_id: existing.id,
      login_link: "http://localhost:3000/login",
      reset_link: "http://localhost:3000/forgot-password",
    });
    expect((await mailbox(existing.email)).filter((m) => m.type === VERIFY)).toHaveLength(1);
    expect(await auditFor(existing.id, "registration_duplicate")).toHaveLength(1);
  });

  it("refuses login until the email is verified, then allows it", async () => {
    const email = uniqueEmail("gated");
    await registerRequired(email);
    expectError(await loginRequired(email), 403, "email_not_verified");
    expect((await verify(await tokenFromMail(email, VERIFY))).status).toBe(200);
    const res = await loginRequired(email);
    expect(res.status, res.text).toBe(200);
  });

  it("still answers a wrong password with invalid_credentials, not email_not_verified", async () => {
    const email = uniqueEmail("gated");
    await registerRequired(email);
    const res = await callWith(
      required,
      request("POST", "/auth/login/", { body: { email, password: "not-the-password" } }),
    );
    expectError(res, 401, "invalid_credentials");
  });

  it("answers a taken username the same whether or not the email has an account", async () => {
    const username = `taken${crypto.randomUUID().slice(0, 8)}`;
    const holder = await register({ username });
    const attempt = (email: string) =>
      callWith(
        required,
        request("POST", "/users/", { body: { email, password: PASSWORD, username } }),
      );
    const forExisting = await attempt(holder.email);
    const forNew = await attempt(uniqueEmail("fresh"));
    for (const res of [forExisting, forNew]) expectError(res, 409, "username_taken");
    expect(forExisting.text).toBe(forNew.text);
  });

  it("when off (the default), an unverified user logs in", async () => {
    const user = await register();
    expect((await login(user.email)).status).toBe(200);
  });
});
