/**
 * What operators act on (admin): a user's sessions and devices, ending the sessions, failed
 * deliveries, and the push requests' dead letters with re-drive. Non-admins get 403 and change
 * nothing.
 */
import { env } from "cloudflare:workers";
import { eq } from "drizzle-orm";
import { afterEach, describe, expect, it, vi } from "vitest";
import { users } from "../src/db/schema";
import { call, callWith, type Envelope, expectError, request } from "./helpers/api";
import { consume, userWithDevices } from "./helpers/push";
import { auditFor, db, register, sessionsFor } from "./helpers/users";

afterEach(() => {
  vi.restoreAllMocks();
});

async function admin() {
  const boss = await register();
  await db().update(users).set({ role: "admin" }).where(eq(users.id, boss.id));
  return boss;
}

interface DeadLetter {
  id: string;
  notification_id: string;
  can_redrive: boolean;
  redriven_at: string | null;
}

describe("a user's sessions and devices", () => {
  it("are listed for an admin, and ending the sessions ends them all at once", async () => {
    const boss = await admin();
    const { user } = await userWithDevices({}, 2);
    const sessions = await call<Envelope<unknown[]>>("GET", `/admin/users/${user.id}/sessions/`, {
      token: boss.access_token,
    });
    expect(sessions.status, sessions.text).toBe(200);
    expect(sessions.body.data).toHaveLength(1);
    const devices = await call<Envelope<Record<string, unknown>[]>>(
      "GET",
      `/admin/users/${user.id}/push-tokens/`,
      { token: boss.access_token },
    );
    expect(devices.body.data).toHaveLength(2);
    expect(devices.text).not.toMatch(/"token"/);

    const ended = await call<Envelope<{ revoked_sessions: number }>>(
      "DELETE",
      `/admin/users/${user.id}/sessions/`,
      { token: boss.access_token },
    );
    expect(ended.body.data.revoked_sessions).toBe(1);
    expect((await sessionsFor(user.id)).every((s) => s.revokedAt !== null)).toBe(true);
    expectError(
      await call("GET", "/users/me/", { token: user.access_token }),
      401,
      "invalid_token",
    );
    expect((await auditFor(user.id, "sessions_ended_by_admin"))[0]?.metadata).toEqual({
      by: boss.id,
    });
  });

  it("are 404 for nobody, and 403 for a non-admin who changes nothing", async () => {
    const boss = await admin();
    const other = await register();
    const victim = await register();
    expectError(
      await call("GET", `/admin/users/${crypto.randomUUID()}/sessions/`, {
        token: boss.access_token,
      }),
      404,
      "not_found",
    );
    expectError(
      await call("DELETE", `/admin/users/${victim.id}/sessions/`, { token: other.access_token }),
      403,
      "forbidden",
    );
    expect((await sessionsFor(victim.id)).every((s) => s.revokedAt === null)).toBe(true);
  });
});

describe("dead letters", () => {
  it("are kept with their original, listed, and re-driven once to push-requests", async () => {
    const boss = await admin();
    const { user } = await userWithDevices();
    const notification = `dead-${crypto.randomUUID()}`;
    const original = {
      notification_id: notification,
      user_id: user.id,
      title: "Hi",
      body: "There",
    };
    // Retries exhausted: the queue moved the original itself to the dead letters.
    await consume("push-requests-dlq", [original]);

    const listed = await call<Envelope<DeadLetter[]>>("GET", "/admin/dead-letters/?state=pending", {
      token: boss.access_token,
    });
    const letter = listed.body.data.find((d) => d.notification_id === notification);
    expect(letter).toMatchObject({ can_redrive: true, redriven_at: null });

    const failed = await call<Envelope<{ notification_id: string }[]>>(
      "GET",
      "/admin/notifications/failed/?channel=push",
      { token: boss.access_token },
    );
    expect(failed.body.data.map((f) => f.notification_id)).toContain(notification);

    const send = vi.spyOn(env.PUSH_REQUESTS, "send");
    const res = await call<Envelope<DeadLetter>>(
      "POST",
      `/admin/dead-letters/${letter?.id}/redrive/`,
      {
        token: boss.access_token,
      },
    );
    expect(res.status, res.text).toBe(202);
    expect(res.body.data.redriven_at).not.toBeNull();
    expect(send).toHaveBeenCalledWith(original, { contentType: "json" });
    expectError(
      await call("POST", `/admin/dead-letters/${letter?.id}/redrive/`, {
        token: boss.access_token,
      }),
      409,
      "conflict",
    );
    expect(send).toHaveBeenCalledTimes(1);
    expect((await auditFor(user.id, "dead_letter_redriven"))[0]?.metadata).toMatchObject({
      by: boss.id,
    });
  });

  it("one whose original was too large is listed but cannot be re-driven; unknown ids are 404", async () => {
    const boss = await admin();
    const notification = `huge-${crypto.randomUUID()}`;
    await consume("push-requests-dlq", [
      {
        dead_letter: {
          reason: "too large",
          failed_at: new Date().toISOString(),
          notification_id: notification,
          user_id: null,
        },
        message: null,
      },
    ]);
    const listed = await call<Envelope<DeadLetter[]>>("GET", "/admin/dead-letters/", {
      token: boss.access_token,
    });
    const letter = listed.body.data.find((d) => d.notification_id === notification);
    expect(letter?.can_redrive).toBe(false);
    expectError(
      await call("POST", `/admin/dead-letters/${letter?.id}/redrive/`, {
        token: boss.access_token,
      }),
      409,
      "conflict",
    );
    expectError(
      await call("POST", "/admin/dead-letters/nope/redrive/", { token: boss.access_token }),
      404,
      "not_found",
    );
  });
});

describe("operators' tools", () => {
  it("a service named in ADMIN_SERVICES may call admin routes; any other service key is refused", async () => {
    const user = await register();
    const tools = { ADMIN_SERVICES: "dev-service" };
    const asTool = await callWith<Envelope<{ revoked_sessions: number }>>(
      tools,
      request("DELETE", `/admin/users/${user.id}/sessions/`, {
        headers: { "X-Service-Key": "dev-service-key" },
      }),
    );
    expect(asTool.status, asTool.text).toBe(200);
    expect((await auditFor(user.id, "sessions_ended_by_admin"))[0]?.metadata).toEqual({
      by: "service:dev-service",
    });
    const other = await register();
    const refused = await callWith(
      tools,
      request("DELETE", `/admin/users/${other.id}/sessions/`, {
        headers: { "X-Service-Key": "other-service-key" },
      }),
    );
    expectError(refused, 401, "authentication_required");
    expect((await sessionsFor(other.id)).every((s) => s.revokedAt === null)).toBe(true);
  });
});
