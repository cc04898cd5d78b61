/**
 * POST /users/change-password/.
 */
import { describe, expect, it } from "vitest";
import { call, type Envelope, expectError } from "./helpers/api";
import { tokenFromMail } from "./helpers/mailbox";
import { auditFor, login, outboxFor, PASSWORD, register, userRow } from "./helpers/users";

const NEW_PASSWORD = "teal-Meadow-31";

async function change(token: string, body: Record<string, unknown>) {
  return call("POST", "/users/change-password/", { token, body });
}

describe("changing the password", () => {
  it("sets it, keeps this session and revokes the others", async () => {
    const user = await register();
    const other = (await login(user.email)).body.data;
    const res = await change(user.access_token, {
      old_password: PASSWORD,
      new_password: NEW_PASSWORD,
    });
    expect(res.status, res.text).toBe(200);

    expect((await call("GET", "/users/me/", { token: user.access_token })).status).toBe(200);
    expect(
      (await call("POST", "/auth/refresh/", { body: { refresh_token: user.refresh_token } }))
        .status,
    ).toBe(200);
    expectError(
      await call("GET", "/users/me/", { token: other.access_token }),
      401,
      "invalid_token",
    );
    expectError(
      await call("POST", "/auth/refresh/", { body: { refresh_token: other.refresh_token } }),
      401,
      "invalid_token",
    );

    expectError(await login(user.email, PASSWORD), 401, "invalid_credentials");
    expect((await login(user.email, NEW_PASSWORD)).status).toBe(200);
    const [event] = await outboxFor(user.id, "user.password_changed");
    expect(event?.event.data).toMatchObject({ user_id: user.id, reason: "change" });
    expect(await auditFor(user.id, "password_changed")).toHaveLength(1);
  });

  it("refuses a wrong old password and changes nothing", async () => {
    const user = await register();
    const before = (await userRow(user.id))?.passwordHash;
    const res = await change(user.access_token, {
      old_password: "not-it-123",
      new_password: NEW_PASSWORD,
    });
    expectError(res, 400, "validation_failed");
    expect((res.body as Envelope).details).toEqual({
      old_password: ["Your old password was entered incorrectly. Please enter it again."],
    });
    expect((await userRow(user.id))?.passwordHash).toBe(before);
  });

  it("applies the policy and refuses the same password", async () => {
    const user = await register();
    const weak = await change(user.access_token, {
      old_password: PASSWORD,
      new_password: "12345678",
    });
    expectError(weak, 400, "validation_failed");
    expect((weak.body as Envelope).details?.new_password).toEqual([
      "This password is too common.",
      "This password is entirely numeric.",
    ]);
    const same = await change(user.access_token, {
      old_password: PASSWORD,
      new_password: PASSWORD,
    });
    expect((same.body as Envelope).details?.new_password).toEqual([
      "The new password must be different from the old password.",
    ]);
    const mismatch = await change(user.access_token, {
      old_password: PASSWORD,
      new_password: NEW_PASSWORD,
      new_password2: "something-Else-2",
    });
    expect((mismatch.body as Envelope).details).toEqual({
      new_password2: ["The two password fields didn't match."],
    });
  });

  it("kills an outstanding reset link", async () => {
    const user = await register();
    await call("POST", "/auth/password-reset/", { body: { email: user.email } });
    const token = await tokenFromMail(user.email, "user.password_reset_requested");
    await change(user.access_token, { old_password: PASSWORD, new_password: NEW_PASSWORD });
    const res = await call("POST", "/auth/password-reset/confirm/", {
      body: { token, password: "attacker-Chosen-9" },
    });
    expectError(res, 400, "validation_failed");
    expect((await login(user.email, NEW_PASSWORD)).status).toBe(200);
  });

  it("requires a bearer token", async () => {
    const res = await call("POST", "/users/change-password/", {
      body: { old_password: PASSWORD, new_password: NEW_PASSWORD },
    });
    expectError(res, 401, "authentication_required");
  });
});
