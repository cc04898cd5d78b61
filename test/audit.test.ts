/**
 * GET /users/{id}/audit/ — who did what, from where; readable by the user and by admins.
 */
import { describe, expect, it } from "vitest";
import { call, type Envelope, expectError } from "./helpers/api";
import { tokenFromMail } from "./helpers/mailbox";
import { login, makeAdmin, PASSWORD, register, SERVICE } from "./helpers/users";

interface Entry {
  id: string;
  action: string;
  ip: string | null;
  user_agent: string | null;
  metadata: Record<string, unknown> | null;
  created_at: string;
}
type AuditPage = Envelope<Entry[]> & { meta: Record<string, number | boolean> };

const NEW_PASSWORD = "cobalt-River-64";

async function auditOf(token: string, userId: string, query = "") {
  return call<AuditPage>("GET", `/users/${userId}/audit/${query}`, { token });
}

describe("audit log", () => {
  it("records every account action with ip and user agent, newest first, and no secrets", async () => {
    const headers = { "CF-Connecting-IP": "198.51.100.23", "User-Agent": "audit-test/1" };
    const user = await register();
    await call("POST", "/auth/login/", {
      body: { email: user.email, password: "wrong-Guess-1" },
      headers,
    });
    const session = (
      await call<Envelope<{ access_token: string; refresh_token: string }>>(
        "POST",
        "/auth/login/",
        { body: { email: user.email, password: PASSWORD }, headers },
      )
    ).body.data;
    await call("PATCH", "/users/me/", {
      token: session.access_token,
      body: { name: "Audited" },
      headers,
    });
    await call("POST", "/auth/verify-email/", {
      body: { token: await tokenFromMail(user.email, "user.email_verification_requested") },
      headers,
    });
    await call("POST", "/users/change-password/", {
      token: session.access_token,
      body: { old_password: PASSWORD, new_password: NEW_PASSWORD },
      headers,
    });
    await call("POST", "/auth/password-reset/", { body: { email: user.email }, headers });
    const resetToken = await tokenFromMail(user.email, "user.password_reset_requested");
    await call("POST", "/auth/password-reset/confirm/", {
      body: { token: resetToken, password: "final-Answer-42" },
      headers,
    });
    const last = (await login(user.email, "final-Answer-42")).body.data;
    await call("POST", "/auth/logout/", { token: last.access_token, headers });
    const reader = (await login(user.email, "final-Answer-42")).body.data;

    const res = await auditOf(reader.access_token, user.id, "?limit=100");
    expect(res.status, res.text).toBe(200);
    const actions = res.body.data.map((e) => e.action);
    expect(actions.slice(0, 3)).toEqual(["login_success", "logout", "login_success"]);
    expect(new Set(actions)).toEqual(
      new Set([
        "register",
        "login_failure",
        "login_success",
        "profile_updated",
        "email_verified",
        "password_changed",
        "password_reset_requested",
        "password_reset",
        "logout",
      ]),
    );
    const times = res.body.data.map((e) => e.created_at);
    expect([...times].sort().reverse()).toEqual(times);
    const failure = res.body.data.find((e) => e.action === "login_failure");
    expect(failure).toMatchObject({ ip: "198.51.100.23", user_agent: "audit-test/1" });
    for (const secret of [
      PASSWORD,
      NEW_PASSWORD,
      "final-Answer-42",
      "wrong-Guess-1",
      resetToken,
      session.refresh_token,
    ]) {
      expect(res.text).not.toContain(secret);
    }
  });

  it("paginates with meta", async () => {
    const user = await register();
    await login(user.email);
    await login(user.email);
    const res = await auditOf(user.access_token, user.id, "?limit=2&page=1");
    expect(res.body.data).toHaveLength(2);
    expect(res.body.meta).toEqual({
      total: 3,
      limit: 2,
      page: 1,
      total_pages: 2,
      has_next: true,
      has_previous: false,
    });
  });

  it("is forbidden to another user", async () => {
    const user = await register();
    const snoop = await register();
    expectError(await auditOf(snoop.access_token, user.id), 403, "forbidden");
  });

  it("is readable by an admin, who gets 404 for an unknown user", async () => {
    const user = await register();
    const admin = await register();
    await makeAdmin(admin);
    const res = await auditOf(admin.access_token, user.id);
    expect(res.status).toBe(200);
    expect(res.body.data.map((e) => e.action)).toEqual(["register"]);
    expectError(await auditOf(admin.access_token, crypto.randomUUID()), 404, "not_found");
  });

  it("is not for services", async () => {
    const user = await register();
    const res = await call("GET", `/users/${user.id}/audit/`, { headers: SERVICE });
    expectError(res, 403, "forbidden");
  });

  it("answers 404 for a malformed id and 401 without a token", async () => {
    const user = await register();
    expectError(await auditOf(user.access_token, "not-a-uuid"), 404, "not_found");
    expectError(await call("GET", `/users/${user.id}/audit/`), 401, "authentication_required");
  });
});
