/**
 * What other services can ask, and who may ask it: lookups, token validation, the delivery-status
 * log. Each route is tried by every kind of caller.
 */
import { env } from "cloudflare:workers";
import { eq } from "drizzle-orm";
import { describe, expect, it, vi } from "vitest";
import { users } from "../src/db/schema";
import { kvKeys } from "../src/kv";
import { call, type Envelope, expectError } from "./helpers/api";
import {
  claims,
  db,
  login,
  makeAdmin,
  register,
  SERVICE,
  SERVICE_BEARER,
  type TestUser,
  WRONG_SERVICE,
} from "./helpers/users";

type Headers = Record<string, string>;

/** The callers of an authorization matrix, for a route about `target`. */
async function callers(target: TestUser) {
  const other = await register();
  const admin = await register();
  await makeAdmin(admin);
  const bearer = (t: string): Headers => ({ Authorization: `Bearer ${t}` });
  return {
    anonymous: {} as Headers,
    self: bearer(target.access_token),
    otherUser: bearer(other.access_token),
    admin: bearer(admin.access_token),
    service: { ...SERVICE } as Headers,
    serviceBearer: { ...SERVICE_BEARER } as Headers,
    wrongService: { ...WRONG_SERVICE } as Headers,
  };
}

describe("GET /users/{id}/", () => {
  it("answers self, admin and services; refuses others", async () => {
    const user = await register({ name: "Looked Up" });
    const who = await callers(user);
    const path = `/users/${user.id}/`;
    for (const headers of [who.self, who.admin, who.service, who.serviceBearer]) {
      const res = await call<Envelope<TestUser["user"]>>("GET", path, { headers });
      expect(res.status, res.text).toBe(200);
      expect(res.body.data).toEqual(user.user);
    }
    expectError(await call("GET", path, { headers: who.otherUser }), 403, "forbidden");
    expectError(
      await call("GET", path, { headers: who.anonymous }),
      401,
      "authentication_required",
    );
    expectError(await call("GET", path, { headers: who.wrongService }), 401, "invalid_token");
  });

  it("is 404 for a malformed or unknown id", async () => {
    for (const id of ["not-a-uuid", crypto.randomUUID()]) {
      expectError(await call("GET", `/users/${id}/`, { headers: SERVICE }), 404, "not_found");
    }
  });

  it("an admin demoted in D1 loses access at once, whatever the token says", async () => {
    const user = await register();
    const admin = await register();
    await makeAdmin(admin);
    const token = (await login(admin.email)).body.data.access_token;
    await db().update(users).set({ role: "user" }).where(eq(users.id, admin.id));
    expectError(await call("GET", `/users/${user.id}/`, { token }), 403, "forbidden");
  });
});

describe("GET /users/by-email/", () => {
  it("is for services only", async () => {
    const user = await register();
    const who = await callers(user);
    const path = `/users/by-email/?email=${encodeURIComponent(user.email.toUpperCase())}`;
    const res = await call<Envelope<{ id: string }>>("GET", path, { headers: who.service });
    expect(res.status).toBe(200);
    expect(res.body.data.id).toBe(user.id);
    expectError(await call("GET", path, { headers: who.self }), 403, "forbidden");
    expectError(await call("GET", path, { headers: who.admin }), 403, "forbidden");
    expectError(
      await call("GET", path, { headers: who.anonymous }),
      401,
      "authentication_required",
    );
    expectError(await call("GET", path, { headers: who.wrongService }), 401, "invalid_token");
  });

  it("validates and is 404 for an unknown email", async () => {
    expectError(
      await call("GET", "/users/by-email/?email=nobody@example.com", { headers: SERVICE }),
      404,
      "not_found",
    );
    expectError(
      await call("GET", "/users/by-email/?email=nope", { headers: SERVICE }),
      400,
      "validation_failed",
    );
    expectError(
      await call("GET", "/users/by-email/", { headers: SERVICE }),
      400,
      "validation_failed",
    );
  });
});

describe("GET /users/{id}/preferences/ (delivery targets)", () => {
  it("gives services the preferences and the active devices with their tokens", async () => {
    const user = await register({
      preferences: { quiet_hours_start: "22:00", quiet_hours_end: "07:00" },
    });
    await call("POST", "/users/push-tokens/", {
      token: user.access_token,
      body: { token: "active-token", platform: "android", device_id: "a" },
    });
    const inactive = await call<Envelope<{ id: string }>>("POST", "/users/push-tokens/", {
      token: user.access_token,
      body: { token: "inactive-token", platform: "web", device_id: "b" },
    });
    await call("PATCH", `/users/push-tokens/${inactive.body.data.id}/`, {
      token: user.access_token,
      body: { is_active: false },
    });
    const res = await call<
      Envelope<{ preferences: Record<string, unknown>; push_devices: { token: string }[] }>
    >("GET", `/users/${user.id}/preferences/`, { headers: SERVICE });
    expect(res.status, res.text).toBe(200);
    expect(res.body.data).toMatchObject({ user_id: user.id, email: user.email, is_active: true });
    expect(res.body.data.preferences).toMatchObject({
      quiet_hours_start: "22:00",
      timezone: "UTC",
    });
    expect(res.body.data.push_devices.map((d) => d.token)).toEqual(["active-token"]);
  });

  it("is for services only, and 404 for an unknown user", async () => {
    const user = await register();
    const who = await callers(user);
    const path = `/users/${user.id}/preferences/`;
    expect((await call("GET", path, { headers: who.serviceBearer })).status).toBe(200);
    expectError(await call("GET", path, { headers: who.otherUser }), 403, "forbidden");
    expectError(await call("GET", path, { headers: who.wrongService }), 401, "invalid_token");
    expectError(await call("GET", path, { headers: who.self }), 403, "forbidden");
    expectError(await call("GET", path, { headers: who.admin }), 403, "forbidden");
    expectError(
      await call("GET", path, { headers: who.anonymous }),
      401,
      "authentication_required",
    );
    expectError(
      await call("GET", `/users/${crypto.randomUUID()}/preferences/`, { headers: SERVICE }),
      404,
      "not_found",
    );
  });
});

describe("POST /auth/validate/", () => {
  const validate = (token: string, headers: Headers = SERVICE) =>
    call<Envelope<Record<string, unknown>>>("POST", "/auth/validate/", {
      body: { token },
      headers,
    });

  it("says a live token is valid, with the current user data", async () => {
    const user = await register();
    const res = await validate(user.access_token);
    expect(res.status).toBe(200);
    expect(res.body.data).toMatchObject({
      valid: true,
      user_id: user.id,
      email: user.email,
      role: "user",
    });
    expect(typeof res.body.data.expires_at).toBe("string");
  });

  it("says a token of a revoked session, an expired one and garbage are invalid", async () => {
    const user = await register();
    await call("POST", "/auth/logout/", { token: user.access_token });
    expect((await validate(user.access_token)).body.data).toEqual({
      valid: false,
      reason: "revoked",
    });
    expect((await validate("a.b.c")).body.data).toEqual({ valid: false, reason: "invalid" });
    const fresh = await register();
    vi.useFakeTimers({ toFake: ["Date"] });
    vi.setSystemTime(Date.now() + 16 * 60 * 1000);
    expect((await validate(fresh.access_token)).body.data).toEqual({
      valid: false,
      reason: "expired",
    });
    vi.useRealTimers();
  });

  it("trusts D1 when the deny-list has not caught up", async () => {
    const user = await register();
    await call("DELETE", "/users/me/", { token: user.access_token });
    await env.KV.delete(kvKeys.revokedSession(claims(user.access_token).sid as string));
    expect((await validate(user.access_token)).body.data).toEqual({
      valid: false,
      reason: "inactive",
    });
  });

  it("is for services only", async () => {
    const user = await register();
    const who = await callers(user);
    expectError(await validate(user.access_token, who.self), 403, "forbidden");
    expectError(await validate(user.access_token, who.anonymous), 401, "authentication_required");
    expectError(await validate(user.access_token, who.wrongService), 401, "invalid_token");
  });
});

describe("delivery status", () => {
  const report = (channel: string, body: Record<string, unknown>, headers: Headers = SERVICE) =>
    call<Envelope<Record<string, unknown>>>("POST", `/${channel}/status/`, { body, headers });

  it("records a status with the reporting service, and keeps a notification's history in order", async () => {
    const user = await register();
    const id = `notif-${crypto.randomUUID()}`;
    const first = await report("email", {
      notification_id: id,
      user_id: user.id,
      status: "queued",
      timestamp: "2026-11-20T10:00:00Z",
    });
    expect(first.status, first.text).toBe(201);
    expect(first.body.data).toMatchObject({
      notification_id: id,
      user_id: user.id,
      channel: "email",
      status: "queued",
      reported_by: "dev-service",
      created_at: "2026-11-20T10:00:00.000Z",
    });
    await report(
      "email",
      {
        notification_id: id,
        user_id: user.id,
        status: "failed",
        error: "mailbox full",
        metadata: { smtp: 552 },
      },
      SERVICE_BEARER,
    );
    const history = await call<Envelope<{ status: string; reported_by: string }[]>>(
      "GET",
      `/email/status/${id}/`,
      { headers: SERVICE },
    );
    expect(history.body.data.map((s) => [s.status, s.reported_by])).toEqual([
      ["queued", "dev-service"],
      ["failed", "other-service"],
    ]);
    expectError(await call("GET", `/push/status/${id}/`, { headers: SERVICE }), 404, "not_found");
  });

  it("is 404 for an unknown channel, whoever asks", async () => {
    for (const headers of [SERVICE, {}, WRONG_SERVICE]) {
      expectError(
        await report("sms", { notification_id: "n", status: "sent" }, headers),
        404,
        "not_found",
      );
      expectError(await call("GET", "/sms/status/n/", { headers }), 404, "not_found");
    }
  });

  it("shows a notification's history to services only", async () => {
    const user = await register();
    const who = await callers(user);
    await report("push", { notification_id: "h1", user_id: user.id, status: "sent" });
    const path = "/push/status/h1/";
    expect((await call("GET", path, { headers: who.service })).status).toBe(200);
    expect((await call("GET", path, { headers: who.serviceBearer })).status).toBe(200);
    expectError(await call("GET", path, { headers: who.self }), 403, "forbidden");
    expectError(await call("GET", path, { headers: who.admin }), 403, "forbidden");
    expectError(
      await call("GET", path, { headers: who.anonymous }),
      401,
      "authentication_required",
    );
    expectError(await call("GET", path, { headers: who.wrongService }), 401, "invalid_token");
    const wrongBearer = { Authorization: "Bearer not-a-configured-key" };
    expectError(await call("GET", path, { headers: wrongBearer }), 401, "invalid_token");
  });

  it("validates the report", async () => {
    const bad = await report("push", { notification_id: "", status: "exploded", user_id: "x" });
    expectError(bad, 400, "validation_failed");
    expect(Object.keys((bad.body as Envelope).details ?? {}).sort()).toEqual([
      "notification_id",
      "status",
      "user_id",
    ]);
    const unknownUser = await report("push", {
      notification_id: "n",
      status: "sent",
      user_id: crypto.randomUUID(),
    });
    expect((unknownUser.body as Envelope).details).toEqual({ user_id: ["No user with this id."] });
  });

  it("accepts reports only from services: a user token is never a service credential", async () => {
    const user = await register();
    const who = await callers(user);
    const body = { notification_id: "n", status: "sent" };
    expectError(await report("email", body, who.self), 403, "forbidden");
    expectError(await report("email", body, who.admin), 403, "forbidden");
    expectError(await report("email", body, who.anonymous), 401, "authentication_required");
    expectError(await report("email", body, who.wrongService), 401, "invalid_token");
  });

  it("shows a user's history to self, admins and services, newest first and filtered", async () => {
    const user = await register();
    const who = await callers(user);
    await report("email", {
      notification_id: "n1",
      user_id: user.id,
      status: "sent",
      timestamp: "2026-11-01T00:00:00Z",
    });
    await report("push", {
      notification_id: "n2",
      user_id: user.id,
      status: "failed",
      timestamp: "2026-11-02T00:00:00Z",
    });
    const path = `/users/${user.id}/notifications/`;
    for (const headers of [who.self, who.admin, who.service]) {
      const res = await call<Envelope<{ notification_id: string }[]>>("GET", path, { headers });
      expect(res.status).toBe(200);
      expect(res.body.data.map((s) => s.notification_id)).toEqual(["n2", "n1"]);
    }
    const pushOnly = await call<Envelope<{ notification_id: string }[]>>(
      "GET",
      `${path}?channel=push`,
      {
        headers: who.self,
      },
    );
    expect(pushOnly.body.data.map((s) => s.notification_id)).toEqual(["n2"]);
    expectError(await call("GET", path, { headers: who.otherUser }), 403, "forbidden");
    expectError(
      await call("GET", path, { headers: who.anonymous }),
      401,
      "authentication_required",
    );
    expectError(await call("GET", path, { headers: who.wrongService }), 401, "invalid_token");
    expectError(
      await call("GET", `${path}?status=exploded`, { headers: who.self }),
      400,
      "validation_failed",
    );
  });
});
