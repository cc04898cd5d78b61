/**
 * GET/PUT/PATCH/DELETE /users/profile/ and its alias /users/me/.
 */
import { env } from "cloudflare:workers";
import { count, eq } from "drizzle-orm";
import { describe, expect, it } from "vitest";
import { auditLog, outbox, preferences, users } from "../src/db/schema";
import { kvKeys } from "../src/kv";
import { call, type Envelope, expectError } from "./helpers/api";
import {
  auditFor,
  claims,
  db,
  login,
  outboxFor,
  PASSWORD,
  register,
  sessionsFor,
  type TokenPair,
  uniqueEmail,
  userRow,
} from "./helpers/users";

type User = TokenPair["user"];

async function writes() {
  const [o] = await db().select({ n: count() }).from(outbox);
  const [a] = await db().select({ n: count() }).from(auditLog);
  return { outbox: o?.n, audit: a?.n };
}

describe("reading", () => {
  for (const path of ["/users/profile/", "/users/me/", "/users/me"]) {
    it(`GET ${path} returns the caller's user object`, async () => {
      const user = await register({ name: "Read Me" });
      const res = await call<Envelope<User>>("GET", path, { token: user.access_token });
      expect(res.status).toBe(200);
      expect(res.body).toMatchObject({ success: true, message: "Profile retrieved" });
      expect(res.body.data).toEqual(user.user);
    });
  }

  it("requires a bearer token", async () => {
    expectError(await call("GET", "/users/me/"), 401, "authentication_required");
  });
});

describe("PATCH", () => {
  it("changes only the fields sent, and records the change", async () => {
    const user = await register({ name: "Before", push_token: "tok-1" });
    const username = `patched_${crypto.randomUUID().slice(0, 8)}`;
    const res = await call<Envelope<User>>("PATCH", "/users/profile/", {
      token: user.access_token,
      body: { name: "After", username, preferences: { push: false } },
    });
    expect(res.status, res.text).toBe(200);
    expect(res.body.data).toMatchObject({
      name: "After",
      username,
      push_token: "tok-1",
      email: user.email,
      preferences: { email: true, push: false },
    });
    expect(res.body.data.updated_at > user.user.updated_at).toBe(true);
    const again = await call<Envelope<User>>("GET", "/users/me/", { token: user.access_token });
    expect(again.body.data).toEqual(res.body.data);

    const [event] = await outboxFor(user.id, "user.updated");
    expect(event?.event.data).toMatchObject({
      user_id: user.id,
      name: "After",
      username,
      changed: ["name", "username", "preferences.push"],
    });
    expect(await auditFor(user.id, "profile_updated")).toHaveLength(1);
  });

  it("writes nothing when nothing changes", async () => {
    const user = await register({ name: "Same" });
    const before = await writes();
    const res = await call("PATCH", "/users/profile/", {
      token: user.access_token,
      body: { name: "Same" },
    });
    expect(res.status).toBe(200);
    expect(await writes()).toEqual(before);
  });

  it("answers 409 for a username taken in another case, and writes nothing", async () => {
    const username = `Taken${crypto.randomUUID().slice(0, 8)}`;
    await register({ username });
    const user = await register();
    const before = await writes();
    const res = await call("PATCH", "/users/me/", {
      token: user.access_token,
      body: { username: username.toUpperCase(), name: "Changed too" },
    });
    expectError(res, 409, "username_taken");
    expect(await writes()).toEqual(before);
    expect((await userRow(user.id))?.name).toBe("");
  });

  it("validates fields", async () => {
    const user = await register();
    const res = await call("PATCH", "/users/me/", {
      token: user.access_token,
      body: { name: "x".repeat(151), username: "" },
    });
    expectError(res, 400, "validation_failed");
    expect((res.body as Envelope).details).toEqual({
      name: ["Ensure this field has no more than 150 characters."],
      username: ["This field may not be blank."],
    });
  });

  it("does not let a client set its role, activity or verification", async () => {
    const user = await register();
    const res = await call<Envelope<User>>("PATCH", "/users/me/", {
      token: user.access_token,
      body: { role: "admin", is_active: false, email_verified: true, id: crypto.randomUUID() },
    });
    expect(res.status).toBe(200);
    expect(res.body.data).toMatchObject({
      role: "user",
      is_active: true,
      email_verified: false,
      id: user.id,
    });
    expect((await userRow(user.id))?.role).toBe("user");
  });
});

describe("changing the email", () => {
  it("requires the current password", async () => {
    const user = await register();
    const res = await call("PATCH", "/users/me/", {
      token: user.access_token,
      body: { email: uniqueEmail() },
    });
    expectError(res, 400, "validation_failed");
    expect((res.body as Envelope).details).toEqual({
      current_password: ["This field is required to change the email address."],
    });
    expect((await userRow(user.id))?.email).toBe(user.email);
  });

  it("refuses a wrong current password and changes nothing", async () => {
    const user = await register();
    const res = await call("PATCH", "/users/me/", {
      token: user.access_token,
      body: { email: uniqueEmail(), current_password: "not-my-password" },
    });
    expectError(res, 400, "validation_failed");
    expect((await userRow(user.id))?.email).toBe(user.email);
  });

  it("changes it with the password: normalised, unverified, audited, and usable to log in", async () => {
    const user = await register();
    const next = uniqueEmail("moved");
    const res = await call<Envelope<User>>("PATCH", "/users/me/", {
      token: user.access_token,
      body: { email: ` ${next.toUpperCase()} `, current_password: PASSWORD },
    });
    expect(res.status, res.text).toBe(200);
    expect(res.body.data).toMatchObject({ email: next, email_verified: false });
    const [changed] = await auditFor(user.id, "email_changed");
    expect(changed?.metadata).toEqual({ previous_email: user.email });
    expect((await login(next)).status).toBe(200);
    expect((await login(user.email)).status).toBe(401);
  });

  it("answers 409 when the new email belongs to someone else", async () => {
    const other = await register();
    const user = await register();
    const res = await call("PATCH", "/users/me/", {
      token: user.access_token,
      body: { email: other.email, current_password: PASSWORD },
    });
    expectError(res, 409, "email_taken");
  });
});

describe("PUT", () => {
  it("replaces the profile: omitted optional fields are cleared", async () => {
    const user = await register({
      name: "Full",
      username: `u${crypto.randomUUID().slice(0, 8)}`,
      push_token: "tok",
    });
    const res = await call<Envelope<User>>("PUT", "/users/profile/", {
      token: user.access_token,
      body: { email: user.email, name: "Replaced" },
    });
    expect(res.status, res.text).toBe(200);
    expect(res.body.data).toMatchObject({ name: "Replaced", username: null, push_token: null });
  });

  it("requires email and name", async () => {
    const user = await register();
    const res = await call("PUT", "/users/me/", { token: user.access_token, body: {} });
    expectError(res, 400, "validation_failed");
    expect((res.body as Envelope).details).toEqual({
      email: ["This field is required."],
      name: ["This field is required."],
    });
  });
});

describe("DELETE (deactivation)", () => {
  it("soft-deletes: sessions revoked, tokens refused, email stays taken, event emitted", async () => {
    const user = await register();
    const other = await login(user.email);
    const res = await call<Envelope<null>>("DELETE", "/users/profile/", {
      token: user.access_token,
    });
    expect(res.status, res.text).toBe(200);
    expect(res.body).toEqual({ success: true, message: "Account deactivated", data: null });

    const row = await userRow(user.id);
    expect(row).toMatchObject({ isActive: false });
    expect(row?.deletedAt).not.toBeNull();
    const userSessions = await sessionsFor(user.id);
    expect(userSessions.every((s) => s.revokedReason === "deactivated")).toBe(true);

    for (const token of [user.access_token, other.body.data.access_token]) {
      expectError(await call("GET", "/users/me/", { token }), 401, "invalid_token");
    }
    expectError(
      await call("POST", "/auth/refresh/", { body: { refresh_token: user.refresh_token } }),
      401,
      "invalid_token",
    );
    expectError(
      await call("POST", "/users/", { body: { email: user.email, password: PASSWORD } }),
      409,
      "email_taken",
    );

    const [event] = await outboxFor(user.id, "user.deactivated");
    expect(event?.event.data).toEqual({
      user_id: user.id,
      email: user.email,
      reason: "self",
      legacy_id: expect.any(Number),
    });
    expect(await auditFor(user.id, "account_deactivated")).toHaveLength(1);
    const [prefs] = await db().select().from(preferences).where(eq(preferences.user_id, user.id));
    expect(prefs).toBeDefined();
    const [stillThere] = await db().select().from(users).where(eq(users.id, user.id));
    expect(stillThere?.email).toBe(user.email);
  });

  it("refuses the token of a deactivated user even if the deny-list entry is missing", async () => {
    const user = await register();
    await call("DELETE", "/users/me/", { token: user.access_token });
    // Simulate a location the KV write has not reached yet.
    await env.KV.delete(kvKeys.revokedSession(claims(user.access_token).sid as string));
    expectError(
      await call("GET", "/users/me/", { token: user.access_token }),
      401,
      "invalid_token",
    );
  });
});
