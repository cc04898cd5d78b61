/**
 * Outbound webhooks (issue 15), fan-out: an event that reaches the webhook-events consumer more
 * than once — published twice, or twice at once — gets one delivery row per endpoint and one job
 * for it, so the endpoint receives it once; a redelivered message whose try failed before queuing
 * queues what that try left behind.
 */
import { env } from "cloudflare:workers";
import { and, eq } from "drizzle-orm";
import { afterEach, describe, expect, it, vi } from "vitest";
import { webhookDeliveries } from "../src/db/schema";
import { db } from "./helpers/users";
import {
  admin,
  afterWebhookTest,
  deliveryRow,
  endpoint,
  receivedOf,
  runQueue,
  until,
} from "./helpers/webhooks";

afterEach(afterWebhookTest);

/** Every delivery job sent from now on (a pass-through spy on the real queue binding). */
function queuedJobs() {
  const send = vi.spyOn(env.WEBHOOK_DELIVERIES, "sendBatch");
  return () =>
    send.mock.calls.flatMap(([messages]) =>
      [...messages].map((m) => (m.body as { delivery_id: string }).delivery_id),
    );
}

async function rowsOf(eventId: string, endpointId: string) {
  return db()
    .select()
    .from(webhookDeliveries)
    .where(
      and(eq(webhookDeliveries.eventId, eventId), eq(webhookDeliveries.endpointId, endpointId)),
    );
}

async function subscribed() {
  const hook = await endpoint(await admin(), "ok", ["preferences.updated"]);
  const envelope = { id: crypto.randomUUID(), type: "preferences.updated", data: {} };
  return { hook, envelope };
}

/** Waits for the event's delivery to the endpoint: one row, one job, one POST received. */
async function deliveredOnce(
  hook: { id: string; name: string },
  envelope: { id: string },
  jobs: () => string[],
) {
  const row = await until(
    () => deliveryRow(envelope.id, hook.id),
    (r) => r?.status === "succeeded",
  );
  expect(jobs().filter((id) => id === row?.id)).toHaveLength(1);
  expect(await receivedOf(hook.name, envelope.id)).toHaveLength(1);
  expect(await rowsOf(envelope.id, hook.id)).toHaveLength(1);
  return row;
}

describe("an event arriving more than once", () => {
  it("arriving twice, it is queued and delivered once", async () => {
    const { hook, envelope } = await subscribed();
    const jobs = queuedJobs();
    for (const _ of [1, 2]) {
      expect((await runQueue("webhook-events", envelope)).explicitAcks).toHaveLength(1);
    }
    await deliveredOnce(hook, envelope, jobs);
  });

  it("arriving twice at once, it gets one job: two jobs of one delivery could both send", async () => {
    const { hook, envelope } = await subscribed();
    const jobs = queuedJobs();
    const arrivals = await Promise.all([
      runQueue("webhook-events", envelope),
      runQueue("webhook-events", envelope),
    ]);
    expect(arrivals.map((a) => a.explicitAcks.length)).toEqual([1, 1]);
    await deliveredOnce(hook, envelope, jobs);
  });

  it("a try that inserted its rows but could not queue them is retried, and the retry queues them", async () => {
    const { hook, envelope } = await subscribed();
    const send = vi
      .spyOn(env.WEBHOOK_DELIVERIES, "sendBatch")
      .mockRejectedValueOnce(new Error("queue unavailable"));
    const failed = await runQueue("webhook-events", envelope);
    expect(failed.retryMessages).toHaveLength(1);
    expect(await rowsOf(envelope.id, hook.id)).toMatchObject([{ status: "pending", attempts: 0 }]);
    send.mockRestore();

    const jobs = queuedJobs();
    const retried = await runQueue("webhook-events", envelope, 2);
    expect(retried.explicitAcks).toHaveLength(1);
    const row = await deliveredOnce(hook, envelope, jobs);

    // Once attempted, a delivery is its job's: a later redelivered arrival queues nothing.
    await runQueue("webhook-events", envelope, 3);
    expect(jobs().filter((id) => id === row?.id)).toHaveLength(1);
  });
});
