/**
 * The push pipeline as tests drive it: users with devices, requests delivered to the Worker's
 * queue handler as Cloudflare Queues would, and the statuses and jobs they leave.
 */
import { createExecutionContext, createMessageBatch, getQueueResult } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { eq, or } from "drizzle-orm";
import { vi } from "vitest";
import { notificationStatus, outbox } from "../../src/db/schema";
import worker from "../../src/dev/local";
import { pushDeliveryJobSchema } from "../../src/events/push-messages";
import { call, type Envelope } from "./api";
import { db, register, type TestUser } from "./users";

export async function userWithDevices(fields: Record<string, unknown> = {}, devices = 1) {
  const user = await register(fields);
  const ids: string[] = [];
  for (let i = 0; i < devices; i++) {
    const res = await call<Envelope<{ id: string }>>("POST", "/users/push-tokens/", {
      token: user.access_token,
      body: {
        token: `tok-${i}-${user.id}`,
        platform: i % 2 ? "ios" : "android",
        device_id: `d${i}`,
      },
    });
    ids.push(res.body.data.id);
  }
  return { user, devices: ids };
}

export function pushRequest(user: TestUser, extra: Record<string, unknown> = {}) {
  return {
    notification_id: `n-${crypto.randomUUID()}`,
    user_id: user.id,
    template_code: "welcome",
    variables: { name: "Ada" },
    priority: "normal",
    metadata: { campaign: "test" },
    ...extra,
  };
}

/** Delivers messages to the Worker's queue handler, as Cloudflare Queues would. */
export async function consume(
  queue: string,
  bodies: unknown[],
  overrides: Partial<Env> = {},
  attempts = 1,
) {
  const messages = bodies.map((body) => ({
    id: crypto.randomUUID(),
    timestamp: new Date(),
    attempts,
    body,
  }));
  const batch = createMessageBatch<unknown>(queue, messages);
  const ctx = createExecutionContext();
  const warnings: Record<string, unknown>[] = [];
  vi.spyOn(console, "log").mockImplementation(() => {});
  vi.spyOn(console, "warn").mockImplementation((line: string) => {
    warnings.push(JSON.parse(line));
  });
  await worker.queue(batch, { ...env, ...overrides } as Env, ctx);
  const result = await getQueueResult(batch, ctx);
  return { result, ids: messages.map((m) => m.id), warnings };
}

export async function statuses(notificationId: string) {
  return db()
    .select()
    .from(notificationStatus)
    .where(eq(notificationStatus.notificationId, notificationId));
}

export async function jobsFor(notificationId: string) {
  const rows = await db().select().from(outbox).where(eq(outbox.destination, "push-delivery"));
  return rows
    .map((r) => ({ ...r, job: pushDeliveryJobSchema.parse(JSON.parse(r.payload)) }))
    .filter((r) => r.job.notification_id === notificationId);
}

/** Statuses filed under any of a request's ids (notification, request or correlation id). */
export async function statusesByAnyId(id: string) {
  return db()
    .select()
    .from(notificationStatus)
    .where(
      or(
        eq(notificationStatus.notificationId, id),
        eq(notificationStatus.requestId, id),
        eq(notificationStatus.correlationId, id),
      ),
    );
}
