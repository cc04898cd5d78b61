/**
 * Password reset: an enumeration-safe request, and a single-use confirmation that revokes every
 * session.
 */
import { count } from "drizzle-orm";
import { afterEach, describe, expect, it, vi } from "vitest";
import { outbox } from "../src/db/schema";
import { call, callWith, type Envelope, expectError, headerNames, request } from "./helpers/api";
import { tokenFromMail, waitForMail } from "./helpers/mailbox";
import { enrolTotp } from "./helpers/totp";
import {
  auditFor,
  db,
  login,
  outboxFor,
  PASSWORD,
  register,
  sessionsFor,
  uniqueEmail,
  userRow,
} from "./helpers/users";

const RESET = "user.password_reset_requested";
const NEW_PASSWORD = "amber-Compass-88";

async function requestReset(email: string) {
  return callWith({}, request("POST", "/auth/password-reset/", { body: { email } }));
}

async function confirm(token: string, password = NEW_PASSWORD) {
  return call("POST", "/auth/password-reset/confirm/", { body: { token, password } });
}

function expectTokenRefused(res: Awaited<ReturnType<typeof confirm>>) {
  expectError(res, 400, "validation_failed");
  expect((res.body as Envelope).details).toEqual({
    token: ["This link is invalid or has expired."],
  });
}

async function outboxCount() {
  const [row] = await db().select({ n: count() }).from(outbox);
  return row?.n ?? 0;
}

afterEach(() => {
  vi.useRealTimers();
});

describe("requesting a reset", () => {
  it("answers the same for a known, an unknown and a deactivated email", async () => {
    const known = await register();
    const inactive = await register();
    await call("DELETE", "/users/me/", { token: inactive.access_token });
    const responses = [
      await requestReset(known.email),
      await requestReset(uniqueEmail("nobody")),
      await requestReset(inactive.email),
    ];
    for (const res of responses) expect(res.status).toBe(202);
    expect(new Set(responses.map((r) => r.text)).size).toBe(1);
    expect(new Set(responses.map(headerNames)).size).toBe(1);
  });

  it("emails a link for a known account", async () => {
    const user = await register({ name: "Rita" });
    await requestReset(user.email.toUpperCase());
    const [mail] = await waitForMail(user.email, RESET);
    expect(mail?.data).toMatchObject({ user_id: user.id, email: user.email, name: "Rita" });
    expect(mail?.data.link).toBe(`http://localhost:3000/reset-password?token=${mail?.data.token}`);
    expect(Date.parse(mail?.data.expires_at ?? "") - Date.parse(mail?.occurred_at ?? "")).toBe(
      60 * 60 * 1000,
    );
    expect(await auditFor(user.id, "password_reset_requested")).toHaveLength(1);
  });

  it("produces no event for an unknown or deactivated email", async () => {
    const inactive = await register();
    await callWith({}, request("DELETE", "/users/me/", { token: inactive.access_token }));
    const before = await outboxCount();
    await requestReset(uniqueEmail("nobody"));
    await requestReset(inactive.email);
    expect(await outboxCount()).toBe(before);
    expect(await outboxFor(inactive.id, RESET)).toHaveLength(0);
  });

  it("validates the email", async () => {
    const res = await call("POST", "/auth/password-reset/", { body: { email: "nope" } });
    expectError(res, 400, "validation_failed");
  });
});

describe("confirming a reset", () => {
  it("sets the password, revokes every session, and emits user.password_changed", async () => {
    const user = await register();
    const other = await login(user.email);
    await requestReset(user.email);
    const token = await tokenFromMail(user.email, RESET);

    const res = await confirm(token);
    expect(res.status, res.text).toBe(200);

    expectError(await login(user.email, PASSWORD), 401, "invalid_credentials");
    expect((await login(user.email, NEW_PASSWORD)).status).toBe(200);
    for (const access of [user.access_token, other.body.data.access_token]) {
      expectError(await call("GET", "/users/me/", { token: access }), 401, "invalid_token");
    }
    expectError(
      await call("POST", "/auth/refresh/", { body: { refresh_token: user.refresh_token } }),
      401,
      "invalid_token",
    );
    const revoked = (await sessionsFor(user.id)).filter(
      (s) => s.revokedReason === "password_reset",
    );
    expect(revoked).toHaveLength(2);

    const [event] = await outboxFor(user.id, "user.password_changed");
    expect(event?.event.data).toMatchObject({ user_id: user.id, reason: "reset" });
    expect(await auditFor(user.id, "password_reset")).toHaveLength(1);
    // Following the emailed link proved the address too.
    expect((await userRow(user.id))?.emailVerifiedAt).not.toBeNull();
  });

  it("is single use", async () => {
    const user = await register();
    await requestReset(user.email);
    const token = await tokenFromMail(user.email, RESET);
    expect((await confirm(token)).status).toBe(200);
    expectTokenRefused(await confirm(token, "another-Password-99"));
    expect((await login(user.email, NEW_PASSWORD)).status).toBe(200);
  });

  it("lets exactly one of two concurrent confirmations win, and keeps the winner's password", async () => {
    const user = await register();
    await requestReset(user.email);
    const token = await tokenFromMail(user.email, RESET);
    const passwords = ["first-Winner-11", "second-Winner-22"];
    const results = await Promise.all(passwords.map((p) => confirm(token, p)));
    expect(results.map((r) => r.status).sort()).toEqual([200, 400]);
    const winner = passwords[results.findIndex((r) => r.status === 200)] ?? "";
    const loser = passwords.find((p) => p !== winner) ?? "";
    expect((await login(user.email, winner)).status).toBe(200);
    expectError(await login(user.email, loser), 401, "invalid_credentials");
    expect(await outboxFor(user.id, "user.password_changed")).toHaveLength(1);
  });

  it("refuses an expired token (1 h)", async () => {
    const user = await register();
    await requestReset(user.email);
    const token = await tokenFromMail(user.email, RESET);
    vi.useFakeTimers({ toFake: ["Date"] });
    vi.setSystemTime(Date.now() + 61 * 60 * 1000);
    expectTokenRefused(await confirm(token));
    vi.useRealTimers();
    expect((await login(user.email, PASSWORD)).status).toBe(200);
  });

  it("refuses an email-verification token", async () => {
    const user = await register();
    const token = await tokenFromMail(user.email, "user.email_verification_requested");
    expectTokenRefused(await confirm(token));
    expect((await login(user.email, PASSWORD)).status).toBe(200);
  });

  it("kills the earlier link when a new one is requested", async () => {
    const user = await register();
    await requestReset(user.email);
    const first = await tokenFromMail(user.email, RESET);
    await requestReset(user.email);
    const second = await tokenFromMail(user.email, RESET, 2);
    expectTokenRefused(await confirm(first));
    expect((await confirm(second)).status).toBe(200);
  });

  it("checks the password policy and leaves the token usable", async () => {
    const user = await register();
    await requestReset(user.email);
    const token = await tokenFromMail(user.email, RESET);
    const weak = await confirm(token, "password");
    expectError(weak, 400, "validation_failed");
    expect((weak.body as Envelope).details?.password).toContain("This password is too common.");
    const mismatch = await call("POST", "/auth/password-reset/confirm/", {
      body: { token, password: NEW_PASSWORD, password2: "different-Thing-1" },
    });
    expectError(mismatch, 400, "validation_failed");
    expect((await confirm(token)).status).toBe(200);
  });

  it("dies when the account's email changes, and cannot vouch for the new address", async () => {
    const user = await register();
    await requestReset(user.email);
    const token = await tokenFromMail(user.email, RESET);
    const elsewhere = uniqueEmail("someone-else");
    const changed = await call("PATCH", "/users/me/", {
      token: user.access_token,
      body: { email: elsewhere, current_password: PASSWORD },
    });
    expect(changed.status).toBe(200);
    expectTokenRefused(await confirm(token));
    expect((await userRow(user.id))?.emailVerifiedAt).toBeNull();
    expect((await login(elsewhere, PASSWORD)).status).toBe(200);
  });

  it("refuses the user's own email as the new password", async () => {
    const user = await register();
    await requestReset(user.email);
    const token = await tokenFromMail(user.email, RESET);
    const res = await confirm(token, user.email);
    expectError(res, 400, "validation_failed");
    expect((res.body as Envelope).details?.password).toContain(
      "The password is too similar to the email address.",
    );
  });
});

describe("an account a stranger registered with the address", () => {
  it("is claimed by the reset: the stranger's factors and sessions go, the new password signs in", async () => {
    // The stranger registers the victim's address (never verified) and adds an authenticator.
    const squatter = await register();
    await enrolTotp(squatter);
    await requestReset(squatter.email);
    const token = await tokenFromMail(squatter.email, RESET);
    expect((await confirm(token)).status).toBe(200);
    const login = await call("POST", "/auth/login/", {
      body: { email: squatter.email, password: NEW_PASSWORD },
    });
    expect(login.status, login.text).toBe(200);
    // No second factor is asked for: the stranger's is gone.
    expect((login.body as Envelope<Record<string, unknown>>).data).toHaveProperty("access_token");
    expectError(
      await call("GET", "/users/me/", { token: squatter.access_token }),
      401,
      "invalid_token",
    );
    expect((await auditFor(squatter.id, "address_claimed")).length).toBe(1);
  });
});
