/**
 * The webhook tests' helpers: endpoints on the real HTTP receiver (test/setup/webhook-receiver.ts,
 * which verifies every signature with the Standard Webhooks library), what it received, the
 * delivery log, and running the Worker's queue handler on one message as Cloudflare Queues would.
 */
import { createExecutionContext, createMessageBatch, getQueueResult } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { and, eq } from "drizzle-orm";
import { expect, inject, vi } from "vitest";
import { webhookDeliveries } from "../../src/db/schema";
import worker from "../../src/dev/local";
import { call, type Envelope } from "./api";
import { db, makeAdmin, register } from "./users";

export const RECEIVER = inject("webhookReceiver");

export interface Endpoint {
  id: string;
  url: string;
  secret?: string;
  enabled: boolean;
  disabled_reason: string | null;
  event_types: string[];
}
export interface Delivery {
  id: string;
  event_id: string;
  event_type: string;
  status: string;
  attempts: number;
  last_status: number | null;
  last_error: string | null;
  latency_ms: number | null;
}
export interface Received {
  behaviour: string;
  headers: Record<string, string>;
  body: string;
  verified: boolean;
}

export async function admin() {
  const user = await register();
  await makeAdmin(user);
  return user.access_token;
}

/** The endpoints made by the running test, deleted after it (`afterWebhookTest`). */
const made: { id: string; token: string }[] = [];

/**
 * After each webhook test: its spies restored (runQueue's quiet console among them), and the
 * endpoints it made deleted with their logs. The suite shares one database and one queue consumer
 * across files, so an endpoint left behind would get every later test's events — a slow or
 * failing one holding up the deliveries other tests wait for.
 */
export async function afterWebhookTest() {
  vi.restoreAllMocks();
  for (const { id, token } of made.splice(0)) {
    const res = await call("DELETE", `/admin/webhooks/${id}/`, { token });
    expect([200, 404], res.text).toContain(res.status);
  }
}

/** An endpoint on the receiver under a fresh name, whose secret the receiver learns. */
export async function endpoint(token: string, behaviour = "ok", eventTypes = ["user.created"]) {
  const name = crypto.randomUUID();
  const res = await call<Envelope<Endpoint>>("POST", "/admin/webhooks/", {
    token,
    body: { url: `${RECEIVER}/hooks/${name}/${behaviour}`, event_types: eventTypes },
  });
  expect(res.status, res.text).toBe(201);
  made.push({ id: res.body.data.id, token });
  await fetch(`${RECEIVER}/secrets/${name}`, { method: "PUT", body: res.body.data.secret });
  return { name, ...res.body.data };
}

export const received = async (name: string) =>
  (await (await fetch(`${RECEIVER}/received/${name}`)).json()) as Received[];

/** What an endpoint received of these events (others' events may be in flight to it too). */
export const receivedOf = async (name: string, ...eventIds: (string | undefined)[]) =>
  (await received(name)).filter((r) => eventIds.includes(JSON.parse(r.body).id));

export async function deliveries(token: string, id: string) {
  const res = await call<Envelope<Delivery[]>>("GET", `/admin/webhooks/${id}/deliveries/`, {
    token,
  });
  expect(res.status).toBe(200);
  return res.body.data;
}

/** The delivery of one event to one endpoint (other tests' endpoints may get the event too). */
export async function deliveryRow(eventId: string, endpointId: string) {
  const [row] = await db()
    .select()
    .from(webhookDeliveries)
    .where(
      and(eq(webhookDeliveries.eventId, eventId), eq(webhookDeliveries.endpointId, endpointId)),
    );
  return row;
}

/**
 * Fans an event out (the webhook-events consumer) and waits for the queue's first attempt of its
 * delivery to this endpoint; later attempts are then driven by the test.
 */
export async function firstAttempt(endpointId: string, type = "preferences.updated") {
  const envelope = { id: crypto.randomUUID(), type, data: {} };
  await runQueue("webhook-events", envelope);
  const row = await until(
    () => deliveryRow(envelope.id, endpointId),
    (r) => r !== undefined && r.status !== "pending",
  );
  return { envelope, row: row as NonNullable<typeof row> };
}

/** Waits until `check` holds (queues deliver within a fraction of a second here). */
export async function until<T>(read: () => Promise<T>, check: (value: T) => boolean, ms = 8_000) {
  const deadline = Date.now() + ms;
  let value = await read();
  while (!check(value) && Date.now() < deadline) {
    await new Promise((r) => setTimeout(r, 50));
    value = await read();
  }
  return value;
}

/** Runs the Worker's queue handler on one message of a webhook queue, as Cloudflare Queues would. */
export async function runQueue(queue: string, body: unknown, attempts = 1) {
  vi.spyOn(console, "log").mockImplementation(() => {});
  const batch = createMessageBatch<unknown>(queue, [
    { id: crypto.randomUUID(), timestamp: new Date(), attempts, body },
  ]);
  const ctx = createExecutionContext();
  await worker.queue(batch, env, ctx);
  return getQueueResult(batch, ctx);
}
