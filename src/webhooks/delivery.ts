/**
 * Delivering events to webhook endpoints, at least once. Two queue consumers and a dead-letter one:
 *
 * - webhook-events (every event the outbox publishes): one delivery row per subscribed, enabled
 *   endpoint — unique per endpoint and event — and one job on webhook-deliveries for each row this
 *   arrival inserted, so an event that arrives twice (even twice at once) is delivered once.
 * - webhook-deliveries: one signed POST per job (Standard Webhooks: `webhook-id` is the delivery
 *   id, the same on every attempt). A 2xx is success; anything else, a timeout or a network error
 *   is retried with exponential backoff, then dead-lettered. An endpoint failing for
 *   WEBHOOK_DISABLE_AFTER_HOURS without one success is disabled, with an event.
 * - webhook-deliveries-dlq: marks the delivery dead in the log (an admin can re-deliver it).
 */
import { and, eq, inArray, isNull } from "drizzle-orm";
import { auditEntry } from "../audit/audit-log";
import type { Config } from "../config";
import type { Db } from "../db/client";
import { webhookDeliveries, webhookEndpoints } from "../db/schema";
import { commit, outboxEvent, outboxQueues, publishEvents, redacted } from "../events/outbox";
import { errorDetail, log } from "../logging";
import { subscribes } from "./endpoints";
import { post } from "./send";

/** What webhook-events carries: an event envelope as the outbox published it. */
interface Envelope {
  id: string;
  type: string;
  occurred_at?: string;
  correlation_id?: string;
}

function isEnvelope(body: unknown): body is Envelope {
  const b = body as Partial<Envelope> | null;
  return (
    typeof b === "object" && b !== null && typeof b.id === "string" && typeof b.type === "string"
  );
}

/**
 * Fans one event out into deliveries and queues a job for each row it inserted; returns their ids.
 * A second arrival of the event inserts nothing and so queues nothing: had it queued every pending
 * row, two jobs of one delivery could be attempted at once and both send. A redelivered message
 * (`retried`) also queues the event's rows never attempted, which its failed try may have inserted
 * without queuing — the one case a delivery can get two jobs (at least once: the same
 * `webhook-id` on both, for the receiver to deduplicate).
 */
async function fanOut(db: Db, queue: Queue, body: unknown, retried: boolean, now = new Date()) {
  if (!isEnvelope(body)) {
    log("error", "webhook_event_invalid", { detail: "not an event envelope" });
    return [];
  }
  const endpoints = await db
    .select({ id: webhookEndpoints.id, eventTypes: webhookEndpoints.eventTypes })
    .from(webhookEndpoints)
    .where(eq(webhookEndpoints.enabled, true));
  const targets = endpoints.filter((e) => subscribes(e.eventTypes, body.type));
  if (targets.length === 0) return [];
  const payload = JSON.stringify(body);
  const [first, ...rest] = targets.map((endpoint) =>
    db
      .insert(webhookDeliveries)
      .values({
        id: crypto.randomUUID(),
        endpointId: endpoint.id,
        eventId: body.id,
        eventType: body.type,
        payload,
        createdAt: now,
        updatedAt: now,
      })
      .onConflictDoNothing()
      .returning({ id: webhookDeliveries.id }),
  );
  const inserted = first ? (await db.batch([first, ...rest])).flat() : [];
  const leftOver = retried
    ? await db
        .select({ id: webhookDeliveries.id })
        .from(webhookDeliveries)
        .where(
          and(
            eq(webhookDeliveries.eventId, body.id),
            eq(webhookDeliveries.status, "pending"),
            eq(webhookDeliveries.attempts, 0),
            inArray(
              webhookDeliveries.endpointId,
              targets.map((t) => t.id),
            ),
          ),
        )
    : [];
  const ids = [...new Set([...inserted, ...leftOver].map((d) => d.id))];
  if (ids.length > 0) {
    await queue.sendBatch(
      ids.map((id) => ({ body: { delivery_id: id }, contentType: "json" as const })),
    );
  }
  return ids;
}

export async function webhookEventsConsumer(batch: MessageBatch<unknown>, env: Env, db: Db) {
  for (const message of batch.messages) {
    try {
      await fanOut(db, env.WEBHOOK_DELIVERIES, message.body, message.attempts > 1);
      message.ack();
    } catch (err) {
      log("error", "webhook_fan_out_failed", { detail: errorDetail(err) });
      message.retry({ delaySeconds: 30 });
    }
  }
}

/** Seconds before retry n (1-based): 30 s, then ×4 each time, at most 12 h (the queue's limit). */
export function retryDelaySeconds(attempt: number): number {
  return Math.min(30 * 4 ** (attempt - 1), 12 * 60 * 60);
}

/**
 * Makes one attempt of a delivery. Returns "retry" when the queue should try again later, or
 * "done" when there is nothing more to do (delivered, cancelled, or already settled).
 */
async function attemptDelivery(
  db: Db,
  env: Env,
  config: Config,
  deliveryId: string,
  now = new Date(),
): Promise<"done" | "retry"> {
  const [found] = await db
    .select({ delivery: webhookDeliveries, endpoint: webhookEndpoints })
    .from(webhookDeliveries)
    .innerJoin(webhookEndpoints, eq(webhookEndpoints.id, webhookDeliveries.endpointId))
    .where(eq(webhookDeliveries.id, deliveryId));
  if (!found) return "done"; // the endpoint was deleted, and its log with it
  const { delivery, endpoint } = found;
  if (delivery.status === "succeeded" || delivery.status === "cancelled") return "done";
  if (!endpoint.enabled) {
    await db
      .update(webhookDeliveries)
      .set({ status: "cancelled", lastError: "endpoint disabled", updatedAt: now })
      .where(eq(webhookDeliveries.id, deliveryId));
    return "done";
  }
  const started = Date.now();
  const outcome = await post(config, endpoint, delivery);
  const latencyMs = Date.now() - started;
  const at = new Date();
  if (outcome.ok) {
    await db.batch([
      db
        .update(webhookDeliveries)
        .set({
          status: "succeeded",
          attempts: delivery.attempts + 1,
          lastStatus: outcome.status,
          lastError: null,
          latencyMs,
          deliveredAt: at,
          updatedAt: at,
          payload: redacted(delivery.eventType, delivery.payload, "[redacted after delivery]"),
        })
        .where(eq(webhookDeliveries.id, deliveryId)),
      db
        .update(webhookEndpoints)
        .set({ failingSince: null })
        .where(eq(webhookEndpoints.id, endpoint.id)),
    ]);
    return "done";
  }
  const failingSince = endpoint.failingSince ?? at;
  const disable = at.getTime() - failingSince.getTime() >= config.webhooks.disableAfterMs;
  const meta = { correlationId: `webhook:${deliveryId}`, eventIds: [] as string[] };
  const requestMeta = { ...meta, ip: null, userAgent: null, userId: null };
  await commit(db, meta, [
    db
      .update(webhookDeliveries)
      .set({
        status: disable ? "cancelled" : "retrying",
        attempts: delivery.attempts + 1,
        lastStatus: outcome.status,
        lastError: outcome.error,
        latencyMs,
        updatedAt: at,
      })
      .where(eq(webhookDeliveries.id, deliveryId)),
    db
      .update(webhookEndpoints)
      .set({ failingSince })
      .where(and(eq(webhookEndpoints.id, endpoint.id), isNull(webhookEndpoints.failingSince))),
    ...(disable
      ? [
          db
            .update(webhookEndpoints)
            .set({ enabled: false, disabledReason: "failing" as const, updatedAt: at })
            .where(eq(webhookEndpoints.id, endpoint.id)),
          auditEntry(db, requestMeta, {
            userId: null,
            action: "webhook_disabled",
            metadata: { endpoint_id: endpoint.id, failing_since: failingSince.toISOString() },
            at,
          }),
          outboxEvent(
            db,
            meta,
            "webhook.endpoint_disabled",
            {
              endpoint_id: endpoint.id,
              url: endpoint.url,
              failing_since: failingSince.toISOString(),
              last_error: outcome.error,
            },
            at,
          ),
        ]
      : []),
  ]);
  if (disable) {
    log("warn", "webhook_endpoint_disabled", { endpoint_id: endpoint.id });
    await publishEvents(db, outboxQueues(env), meta.eventIds);
    return "done";
  }
  log("info", "webhook_delivery_failed", {
    delivery_id: deliveryId,
    endpoint_id: endpoint.id,
    status: outcome.status,
    detail: outcome.error,
  });
  return "retry";
}

function deliveryIdOf(body: unknown): string | null {
  const id = (body as { delivery_id?: unknown } | null)?.delivery_id;
  return typeof id === "string" ? id : null;
}

export async function webhookDeliveriesConsumer(
  batch: MessageBatch<unknown>,
  env: Env,
  db: Db,
  config: Config,
) {
  await Promise.all(
    batch.messages.map(async (message) => {
      const id = deliveryIdOf(message.body);
      if (!id) {
        message.ack();
        return;
      }
      try {
        const next = await attemptDelivery(db, env, config, id);
        if (next === "done") message.ack();
        else message.retry({ delaySeconds: retryDelaySeconds(message.attempts) });
      } catch (err) {
        log("error", "webhook_delivery_error", { delivery_id: id, detail: errorDetail(err) });
        message.retry({ delaySeconds: retryDelaySeconds(message.attempts) });
      }
    }),
  );
}

/** Deliveries whose retries ran out: dead in the log, for an admin to re-deliver. */
export async function webhookDeadLetterConsumer(batch: MessageBatch<unknown>, db: Db) {
  const ids = batch.messages.flatMap((m) => deliveryIdOf(m.body) ?? []);
  if (ids.length > 0) {
    await db
      .update(webhookDeliveries)
      .set({ status: "dead", updatedAt: new Date() })
      .where(and(inArray(webhookDeliveries.id, ids), eq(webhookDeliveries.status, "retrying")));
  }
  batch.ackAll();
}
