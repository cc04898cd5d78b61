/**
 * The push-request consumer, its dead letters, delivery feedback, and the local stand-ins.
 */
import { createScheduledController } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { and, eq } from "drizzle-orm";
import { afterEach, describe, expect, it, vi } from "vitest";
import { notificationStatus, pushTokens } from "../src/db/schema";
import worker from "../src/dev/local";
import { OUTBOX_LEASE_MS, REDRIVE_AFTER_MS } from "../src/events/outbox";
import { retryDelaySeconds } from "../src/events/push-requests";
import { kvKeys } from "../src/kv";
import type { Preferences } from "../src/preferences/preferences";
import { quietHoursRemaining } from "../src/push/policy";
import { call, callWith, type Envelope, request } from "./helpers/api";
import { consume, jobsFor, pushRequest, statuses, userWithDevices } from "./helpers/push";
import { db, outboxFor, SERVICE, type TestUser } from "./helpers/users";

afterEach(() => {
  vi.useRealTimers();
  vi.restoreAllMocks();
});

describe("a deliverable request", () => {
  it("becomes one enriched job per active device on PUSH_DELIVERY, status queued, ack", async () => {
    const { user, devices } = await userWithDevices({ name: "Ada" }, 3);
    await call("PATCH", `/users/push-tokens/${devices[2]}/`, {
      token: user.access_token,
      body: { is_active: false },
    });
    const send = vi.spyOn(env.PUSH_DELIVERY, "sendBatch");
    const body = pushRequest(user, { category: "transactional" });
    const { result, ids } = await consume("push-requests", [body]);
    expect(result.explicitAcks).toEqual(ids);

    const jobs = await jobsFor(body.notification_id);
    expect(jobs.map((j) => j.job.device.id).sort()).toEqual([devices[0], devices[1]].sort());
    for (const { job, publishedAt } of jobs) {
      expect(publishedAt).not.toBeNull();
      expect(job).toMatchObject({
        user: { id: user.id, name: "Ada", email: user.email },
        request: { ...body, category: "transactional" },
      });
      expect(job.device.token).toMatch(/^tok-\d-/);
    }
    expect(send).toHaveBeenCalledTimes(1);
    const rows = await statuses(body.notification_id);
    expect(rows.map((r) => r.status)).toEqual(["queued", "queued"]);
    expect(rows.map((r) => r.metadata?.push_token_id).sort()).toEqual(
      [devices[0], devices[1]].sort(),
    );
  });

  it("delivered twice, still makes one job and one status per device", async () => {
    const { user } = await userWithDevices({}, 2);
    const body = pushRequest(user);
    await consume("push-requests", [body]);
    const send = vi.spyOn(env.PUSH_DELIVERY, "sendBatch");
    const { result, ids } = await consume("push-requests", [body, body], {}, 2);
    expect(result.explicitAcks).toEqual(ids);
    expect(send).not.toHaveBeenCalled();
    expect(await jobsFor(body.notification_id)).toHaveLength(2);
    expect(await statuses(body.notification_id)).toHaveLength(2);
  });

  it("keeps its jobs when the queue send fails after the commit; the cron publishes them", async () => {
    vi.spyOn(console, "error").mockImplementation(() => {});
    const { user } = await userWithDevices();
    const body = pushRequest(user);
    const { result, ids } = await consume("push-requests", [body], {
      PUSH_DELIVERY: undefined,
    } as unknown as Partial<Env>);
    expect(result.explicitAcks).toEqual(ids);
    const [pending] = await jobsFor(body.notification_id);
    expect(pending?.publishedAt).toBeNull();

    const later = new Date(Date.now() + REDRIVE_AFTER_MS + OUTBOX_LEASE_MS);
    await worker.scheduled(
      createScheduledController({ scheduledTime: later, cron: "*/5 * * * *" }),
      env,
    );
    const [published] = await jobsFor(body.notification_id);
    expect(published?.publishedAt).not.toBeNull();
  });
});

describe("requests that are skipped, with the reason", () => {
  const cases: [string, Record<string, unknown>, number, Record<string, unknown>, string][] = [
    ["push is off", { preferences: { push: false } }, 1, {}, "push notifications are off"],
    [
      "the category is off (marketing by default)",
      {},
      1,
      { category: "marketing" },
      "marketing push notifications are off",
    ],
    ["there is no active device", {}, 0, {}, "no active push device"],
  ];
  for (const [what, fields, devices, extra, reason] of cases) {
    it(`when ${what}`, async () => {
      const { user } = await userWithDevices(fields, devices);
      const body = pushRequest(user, extra);
      const { result, ids } = await consume("push-requests", [body]);
      expect(result.explicitAcks).toEqual(ids);
      const [row] = await statuses(body.notification_id);
      expect(row).toMatchObject({
        status: "skipped",
        error: reason,
        userId: user.id,
        channel: "push",
      });
      expect(await jobsFor(body.notification_id)).toHaveLength(0);
    });
  }

  it("when the user is deactivated", async () => {
    const { user } = await userWithDevices();
    await call("DELETE", "/users/me/", { token: user.access_token });
    const body = pushRequest(user);
    await consume("push-requests", [body]);
    expect((await statuses(body.notification_id))[0]).toMatchObject({
      status: "skipped",
      error: "user is deactivated",
    });
  });

  it("when the user is over frequency_limit in 24 hours", async () => {
    const { user } = await userWithDevices({ preferences: { frequency_limit: 2 } }, 2);
    const bodies = [pushRequest(user), pushRequest(user), pushRequest(user)];
    for (const body of bodies) await consume("push-requests", [body]);
    expect((await statuses(bodies[0]?.notification_id ?? "")).map((r) => r.status)).toEqual([
      "queued",
      "queued",
    ]);
    expect((await statuses(bodies[1]?.notification_id ?? "")).map((r) => r.status)).toEqual([
      "queued",
      "queued",
    ]);
    const [third] = await statuses(bodies[2]?.notification_id ?? "");
    expect(third).toMatchObject({
      status: "skipped",
      error: "over the limit of 2 pushes in 24 hours",
    });
  });
});

describe("a batch", () => {
  it("holds the frequency limit even when one user's requests arrive together", async () => {
    const { user } = await userWithDevices({ preferences: { frequency_limit: 2 } });
    const bodies = [pushRequest(user), pushRequest(user), pushRequest(user), pushRequest(user)];
    const { result, ids } = await consume("push-requests", bodies);
    expect(result.explicitAcks.sort()).toEqual([...ids].sort());
    const outcomes = await Promise.all(
      bodies.map(async (b) => (await statuses(b.notification_id))[0]?.status),
    );
    expect(outcomes.filter((o) => o === "queued")).toHaveLength(2);
    expect(outcomes.filter((o) => o === "skipped")).toHaveLength(2);
  });
});

describe("concurrency and redelivery", () => {
  it("concurrent batches cannot overshoot the frequency limit", async () => {
    const { user } = await userWithDevices({ preferences: { frequency_limit: 1 } });
    const bodies = [pushRequest(user), pushRequest(user), pushRequest(user)];
    await Promise.all(bodies.map((b) => consume("push-requests", [b])));
    const outcomes = await Promise.all(
      bodies.map(async (b) => (await statuses(b.notification_id))[0]?.status),
    );
    expect(outcomes.filter((o) => o === "queued")).toHaveLength(1);
    expect(outcomes.filter((o) => o === "skipped")).toHaveLength(2);
  });

  it("a request redelivered after its published job was purged makes no second job", async () => {
    vi.spyOn(console, "log").mockImplementation(() => {});
    const { user } = await userWithDevices();
    const body = pushRequest(user);
    await consume("push-requests", [body]);
    const eightDays = new Date(Date.now() + 8 * 24 * 60 * 60 * 1000);
    await worker.scheduled(
      createScheduledController({ scheduledTime: eightDays, cron: "*/5 * * * *" }),
      env,
    );
    expect(await jobsFor(body.notification_id)).toHaveLength(0);
    const send = vi.spyOn(env.PUSH_DELIVERY, "sendBatch");
    await consume("push-requests", [body], {}, 2);
    expect(send).not.toHaveBeenCalled();
    expect(await jobsFor(body.notification_id)).toHaveLength(0);
    expect(await statuses(body.notification_id)).toHaveLength(1);
  });
});

describe("requests that fail", () => {
  it("an invalid message is recorded failed and copied to the dead-letter queue", async () => {
    const dlq = vi.spyOn(env.PUSH_REQUESTS_DLQ, "send");
    const body = { notification_id: `bad-${crypto.randomUUID()}`, user_id: "not-a-uuid" };
    const { result, ids } = await consume("push-requests", [body]);
    expect(result.explicitAcks).toEqual(ids);
    const [row] = await statuses(body.notification_id);
    expect(row?.status).toBe("failed");
    expect(row?.error).toMatch(/^invalid message: /);
    expect(row?.userId).toBeNull();
    expect(dlq).toHaveBeenCalledWith(
      {
        dead_letter: {
          reason: row?.error,
          failed_at: expect.any(String),
          notification_id: body.notification_id,
          user_id: null,
        },
        message: body,
      },
      { contentType: "json" },
    );
  });

  it("a message that is not even an object is recorded under its message id", async () => {
    const { result, ids } = await consume("push-requests", ["garbage"]);
    expect(result.explicitAcks).toEqual(ids);
    expect((await statuses(`message:${ids[0]}`))[0]?.status).toBe("failed");
  });

  it("an unknown user is recorded failed and copied to the dead-letter queue", async () => {
    const dlq = vi.spyOn(env.PUSH_REQUESTS_DLQ, "send");
    const body = { ...pushRequest({ id: crypto.randomUUID() } as TestUser) };
    await consume("push-requests", [body]);
    expect((await statuses(body.notification_id))[0]).toMatchObject({
      status: "failed",
      error: "unknown user",
    });
    expect(dlq).toHaveBeenCalledTimes(1);
  });

  it("a request too large for a delivery job fails now, and its dead-letter copy fits", async () => {
    const dlq = vi.spyOn(env.PUSH_REQUESTS_DLQ, "send");
    const { user } = await userWithDevices();
    const body = pushRequest(user, { variables: { blob: "x".repeat(110 * 1024) } });
    const { result, ids } = await consume("push-requests", [body]);
    expect(result.explicitAcks).toEqual(ids);
    const [row] = await statuses(body.notification_id);
    expect(row).toMatchObject({ status: "failed" });
    expect(row?.error).toMatch(/^request too large/);
    expect(await jobsFor(body.notification_id)).toHaveLength(0);
    expect(dlq.mock.calls[0]?.[0]).toMatchObject({
      message: null,
      dead_letter: { notification_id: body.notification_id },
    });
  });

  it("a transient failure (D1 down) is retried with exponential backoff, and remembered", async () => {
    vi.spyOn(Math, "random").mockReturnValue(0.5);
    const { user } = await userWithDevices();
    const body = pushRequest(user);
    const { result, ids, warnings } = await consume(
      "push-requests",
      [body],
      { DB: env.EMPTY_DB },
      3,
    );
    expect(result.explicitAcks).toEqual([]);
    expect(result.retryMessages.map((m) => m.msgId)).toEqual(ids);
    // The third attempt waits 20 s (5 s doubled twice); the harness does not report the delay,
    // so it is read from the consumer's log line.
    const retry = warnings.find((w) => w.msg === "push_request_retry");
    expect(retry).toMatchObject({ message_id: ids[0], attempts: 3, delaySeconds: 20 });
    expect(await env.KV.get(kvKeys.pushRequestError(body.notification_id))).toContain(
      "no such table",
    );
  });
});

describe("the dead-letter consumer", () => {
  it("records a request that exhausted its retries as failed, with the last error", async () => {
    const { user } = await userWithDevices();
    const body = pushRequest(user);
    await env.KV.put(kvKeys.pushRequestError(body.notification_id), "D1_ERROR: overloaded");
    const { result, ids } = await consume("push-requests-dlq", [body]);
    expect(result.explicitAcks).toEqual(ids);
    const [row] = await statuses(body.notification_id);
    expect(row).toMatchObject({
      status: "failed",
      error: "retries exhausted: D1_ERROR: overloaded",
      userId: user.id,
    });
  });

  it("does not record twice what the consumer already failed, even without a notification id", async () => {
    const dlq = vi.spyOn(env.PUSH_REQUESTS_DLQ, "send");
    const body = { user_id: crypto.randomUUID(), template_code: "x" };
    const { ids } = await consume("push-requests", [body]);
    const copy = dlq.mock.calls[0]?.[0];
    expect(copy).toMatchObject({
      dead_letter: { notification_id: `message:${ids[0]}` },
      message: body,
    });
    await consume("push-requests-dlq", [copy]);
    expect(await statuses(`message:${ids[0]}`)).toHaveLength(1);
  });
});

describe("quiet hours", () => {
  const prefs = (start: string, end: string, timezone: string) =>
    ({ quiet_hours_start: start, quiet_hours_end: end, timezone }) as Preferences;

  it("are wall-clock hours in the user's time zone, across midnight", () => {
    // 23:30 in Tokyo (UTC+9) is 14:30 UTC.
    const at = new Date("2026-11-21T14:30:00Z");
    expect(quietHoursRemaining(prefs("22:00", "07:00", "Asia/Tokyo"), at)).toBe(7.5 * 3600);
    expect(quietHoursRemaining(prefs("22:00", "07:00", "UTC"), at)).toBeNull();
    // 06:59:30 in New York (UTC-5 in November) is 11:59:30 UTC: 30 seconds left.
    expect(
      quietHoursRemaining(
        prefs("22:00", "07:00", "America/New_York"),
        new Date("2026-11-21T11:59:30Z"),
      ),
    ).toBe(30);
    expect(
      quietHoursRemaining(
        prefs("22:00", "07:00", "America/New_York"),
        new Date("2026-11-21T12:00:00Z"),
      ),
    ).toBeNull();
    // A window that does not cross midnight.
    expect(
      quietHoursRemaining(
        prefs("13:00", "15:00", "Europe/Paris"),
        new Date("2026-11-21T13:00:00Z"),
      ),
    ).toBe(3600);
    expect(
      quietHoursRemaining(
        prefs("13:00", "15:00", "Europe/Paris"),
        new Date("2026-11-21T11:00:00Z"),
      ),
    ).toBeNull();
  });

  it("defer a request: sent again with a delay until they end, recorded pending, acked", async () => {
    const { user } = await userWithDevices({
      preferences: { quiet_hours_start: "22:00", quiet_hours_end: "07:00", timezone: "Asia/Tokyo" },
    });
    vi.useFakeTimers({ toFake: ["Date"] });
    vi.setSystemTime(new Date("2026-11-21T14:30:00Z"));
    const send = vi.spyOn(env.PUSH_REQUESTS, "send");
    const body = pushRequest(user);
    const { result, ids } = await consume("push-requests", [body]);
    expect(result.explicitAcks).toEqual(ids);
    expect(send).toHaveBeenCalledWith(
      expect.objectContaining({ notification_id: body.notification_id }),
      {
        delaySeconds: 7.5 * 3600,
        contentType: "json",
      },
    );
    const [row] = await statuses(body.notification_id);
    expect(row).toMatchObject({ status: "pending", error: "deferred until quiet hours end" });
    expect(await jobsFor(body.notification_id)).toHaveLength(0);
  });
});

describe("retry backoff", () => {
  it("doubles per attempt with ±20% jitter, capped at 15 minutes", () => {
    expect(retryDelaySeconds(1, () => 0.5)).toBe(5);
    expect(retryDelaySeconds(2, () => 0.5)).toBe(10);
    expect(retryDelaySeconds(4, () => 0.5)).toBe(40);
    expect(retryDelaySeconds(20, () => 0.5)).toBe(900);
    expect(retryDelaySeconds(3, () => 0)).toBe(16);
    expect(retryDelaySeconds(3, () => 1)).toBe(24);
  });
});

describe("delivery feedback", () => {
  /** A push that really went out to the user's device, and the report the push service sends back. */
  async function deliveredTo(fields: Record<string, unknown> = {}) {
    const { user, devices } = await userWithDevices(fields, 2);
    const body = pushRequest(user);
    await consume("push-requests", [body]);
    return { user, devices, notificationId: body.notification_id };
  }
  function report(notificationId: string, deviceId: string, error: string, userId?: string) {
    return call("POST", "/push/status/", {
      headers: SERVICE,
      body: {
        notification_id: notificationId,
        ...(userId ? { user_id: userId } : {}),
        status: "failed",
        error,
        metadata: { push_token_id: deviceId },
      },
    });
  }
  const active = async (id: string) =>
    (await db().select().from(pushTokens).where(eq(pushTokens.id, id)))[0]?.isActive;

  it("a push that failed on a dead token deactivates that device, and only that one", async () => {
    const { user, devices, notificationId } = await deliveredTo();
    const res = await report(notificationId, devices[0] ?? "", "UNREGISTERED", user.id);
    expect(res.status).toBe(201);
    expect(await active(devices[0] ?? "")).toBe(false);
    expect(await active(devices[1] ?? "")).toBe(true);
    const [removed] = await outboxFor(user.id, "push_token.removed");
    expect(removed?.event.data).toMatchObject({ push_token_id: devices[0], reason: "invalid" });
  });

  for (const [what, error] of [
    ["an outage or auth failure", "401 invalid_token: OAuth access token expired"],
    ["a quota error", "QUOTA_EXCEEDED"],
  ] as const) {
    it(`${what} leaves the device alone`, async () => {
      const { user, devices, notificationId } = await deliveredTo();
      await report(notificationId, devices[0] ?? "", error, user.id);
      expect(await active(devices[0] ?? "")).toBe(true);
    });
  }

  it("a report without the user, or naming another user's device, deactivates nothing", async () => {
    const { user, devices, notificationId } = await deliveredTo();
    const other = await deliveredTo();
    await report(notificationId, devices[0] ?? "", "BadDeviceToken");
    await report(notificationId, other.devices[0] ?? "", "BadDeviceToken", user.id);
    await report(notificationId, other.devices[0] ?? "", "BadDeviceToken", other.user.id);
    expect(await active(devices[0] ?? "")).toBe(true);
    expect(await active(other.devices[0] ?? "")).toBe(true);
  });

  it("a late report about a token the device has since replaced does not kill the new one", async () => {
    const { user, devices, notificationId } = await deliveredTo();
    await call("PATCH", `/users/push-tokens/${devices[0]}/`, {
      token: user.access_token,
      body: { token: `fresh-token-${user.id}` },
    });
    await report(notificationId, devices[0] ?? "", "UNREGISTERED", user.id);
    expect(await active(devices[0] ?? "")).toBe(true);
  });
});

describe("local stand-ins (DEV_TOOLS)", () => {
  it("from POST /_dev/push-requests to a job in GET /_dev/push-deliveries", async () => {
    const { user, devices } = await userWithDevices({}, 1);
    const body = pushRequest(user);
    const queued = await call("POST", "http://localhost/_dev/push-requests", { body });
    expect(queued.status).toBe(202);
    const jobs = await vi.waitUntil(
      async () => {
        const res = await call<
          Envelope<{ job_id: string; notification_id: string; device: { id: string } }[]>
        >("GET", `http://localhost/_dev/push-deliveries?user_id=${user.id}`);
        return res.body.data.length > 0 ? res.body.data : false;
      },
      { timeout: 10_000, interval: 50 },
    );
    expect(jobs).toHaveLength(1);
    expect(jobs[0]).toMatchObject({
      notification_id: body.notification_id,
      device: { id: devices[0] },
    });
    const row = await db()
      .select()
      .from(notificationStatus)
      .where(
        and(
          eq(notificationStatus.notificationId, body.notification_id),
          eq(notificationStatus.status, "queued"),
        ),
      );
    expect(row).toHaveLength(1);
  });

  it("do not exist when DEV_TOOLS is off", async () => {
    const off = { DEV_TOOLS: "false" };
    const enqueue = await callWith(
      off,
      request("POST", "http://localhost/_dev/push-requests", { body: {} }),
    );
    expect(enqueue.status).toBe(404);
    const list = await callWith(
      off,
      new Request(`http://localhost/_dev/push-deliveries?user_id=${crypto.randomUUID()}`),
    );
    expect(list.status).toBe(404);
  });
});
