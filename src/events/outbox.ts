/**
 * The transactional outbox (DESIGN §2). An event is a row written in the same `DB.batch` as the
 * change it announces, so a committed change never loses its event and an uncommitted one never
 * emits it. After the response (or the consumer's commit), the rows are published to their queues —
 * USER_EVENTS and WEBHOOK_EVENTS for events, PUSH_DELIVERY for push jobs; whatever is left unpublished (a failed send,
 * a crash) is re-driven by the cron.
 */
import { and, asc, eq, inArray, isNull, lt, lte, or, sql } from "drizzle-orm";
import type { BatchItem, BatchResponse } from "drizzle-orm/batch";
import type { RequestMeta } from "../app-env";
import type { Db } from "../db/client";
import { type OutboxDestination, outbox } from "../db/schema";
import { errorDetail, log } from "../logging";
import {
  EVENT_VERSION,
  type EventData,
  type EventEnvelope,
  type EventType,
  eventSchema,
  SECRET_FIELDS,
} from "./contracts";

/** How long a publisher owns the rows it claimed; after that another may send them. */
export const OUTBOX_LEASE_MS = 30_000;
/** Cloudflare Queues accept at most 100 messages and 256 KB per sendBatch, 128 KB per message. */
const SEND_BATCH_MAX = 100;
const SEND_BATCH_MAX_BYTES = 240 * 1024;
const MESSAGE_MAX_BYTES = 120 * 1024;
/**
 * A row that has failed this many publish attempts is left alone ("parked") by the re-drive, so it
 * cannot hold up the rows behind it; it stays in the outbox for an operator to inspect.
 */
export const OUTBOX_MAX_ATTEMPTS = 30;

/** Groups rows into sendBatch calls within the queue's count and size limits. */
function chunksForSending<T extends { payload: string }>(rows: T[]): T[][] {
  const chunks: T[][] = [];
  let current: T[] = [];
  let bytes = 0;
  for (const row of rows) {
    const size = new TextEncoder().encode(row.payload).byteLength;
    if (
      current.length > 0 &&
      (current.length >= SEND_BATCH_MAX || bytes + size > SEND_BATCH_MAX_BYTES)
    ) {
      chunks.push(current);
      current = [];
      bytes = 0;
    }
    current.push(row);
    bytes += size;
  }
  if (current.length > 0) chunks.push(current);
  return chunks;
}

/**
 * The insert statement for one event, validated against its contract (a mismatch is a bug and
 * fails the whole write), carrying its event id. Run it with `commit`, which records the id for
 * publishing once the batch has committed.
 */
export function outboxEvent<T extends EventType>(
  db: Db,
  meta: Pick<RequestMeta, "correlationId">,
  type: T,
  data: EventData<T>,
  at: Date,
  /**
   * A user whose integer id (`legacy_id`) the database gives out in the same batch: the event
   * carries the number as committed, read by the statement itself.
   */
  options: { legacyIdOf?: string } = {},
) {
  const envelope = eventSchema(type).parse({
    id: crypto.randomUUID(),
    type,
    version: EVENT_VERSION,
    occurred_at: at.toISOString(),
    correlation_id: meta.correlationId,
    data,
  }) as EventEnvelope<T>;
  const json = JSON.stringify(envelope);
  const number = sql`(SELECT legacy_id FROM users WHERE id = ${options.legacyIdOf ?? null})`;
  const insert = db.insert(outbox).values({
    id: envelope.id,
    type,
    payload:
      options.legacyIdOf === undefined
        ? json
        : sql`iif(${number} IS NULL, ${json}, json_set(${json}, '$.data.legacy_id', ${number}))`,
    createdAt: at,
  });
  return Object.assign(insert, { eventId: envelope.id });
}

type Statement = BatchItem<"sqlite">;

function eventIdOf(statement: Statement): string | null {
  return "eventId" in statement && typeof statement.eventId === "string" ? statement.eventId : null;
}

/**
 * Runs one change as one D1 batch (one transaction) and, once it has committed, records the ids of
 * the outbox events it wrote in `meta.eventIds`, so exactly what was committed is published after
 * the response. Keeps each statement's result type, like `db.batch`.
 */
export async function commit<U extends Statement, T extends Readonly<[U, ...U[]]>>(
  db: Db,
  meta: Pick<RequestMeta, "eventIds">,
  statements: T,
): Promise<BatchResponse<T>> {
  const results = await db.batch(statements);
  for (const statement of statements) {
    const id = eventIdOf(statement);
    if (id) meta.eventIds.push(id);
  }
  return results;
}

/** `commit` for a list assembled at run time (results unused); an empty list commits nothing. */
export async function commitAll(
  db: Db,
  meta: Pick<RequestMeta, "eventIds">,
  statements: Statement[],
): Promise<void> {
  const [first, ...rest] = statements;
  if (first) await commit(db, meta, [first, ...rest]);
}

/**
 * The queues each outbox destination is published to. Every event also goes to webhook-events,
 * whose consumer delivers it to the webhook endpoints subscribed to it (src/webhooks/).
 */
export function outboxQueues(env: Env): Record<OutboxDestination, Queue[]> {
  return {
    "user-events": [env.USER_EVENTS, env.WEBHOOK_EVENTS],
    "push-delivery": [env.PUSH_DELIVERY],
  };
}

/**
 * A stored payload once it has been handed on (published, or delivered to a webhook): its secret
 * fields (one-time tokens and their links) blanked.
 */
export function redacted(type: string, payload: string, note = "[redacted after publication]") {
  const fields = SECRET_FIELDS[type as EventType];
  if (!fields) return payload;
  const envelope = JSON.parse(payload) as { data: Record<string, unknown> };
  for (const field of fields) {
    if (field in envelope.data) envelope.data[field] = note;
  }
  return JSON.stringify(envelope);
}

/**
 * Publishes these outbox rows, each at most once per successful send: rows are first claimed with
 * a lease (so a concurrent publisher skips them), sent, then marked published. A failed send
 * leaves them unpublished for the re-drive. Returns how many were published.
 */
export async function publishEvents(
  db: Db,
  queues: Record<OutboxDestination, Queue[]>,
  ids: string[],
  now: Date = new Date(),
): Promise<number> {
  if (ids.length === 0) return 0;
  const claimed = await db
    .update(outbox)
    .set({
      attempts: sql`${outbox.attempts} + 1`,
      lockedUntil: new Date(now.getTime() + OUTBOX_LEASE_MS),
    })
    .where(
      and(
        inArray(outbox.id, ids),
        isNull(outbox.publishedAt),
        or(isNull(outbox.lockedUntil), lte(outbox.lockedUntil, now)),
      ),
    )
    .returning({
      id: outbox.id,
      type: outbox.type,
      destination: outbox.destination,
      payload: outbox.payload,
    });

  let published = 0;
  for (const destination of new Set(claimed.map((row) => row.destination))) {
    const rows = claimed.filter((row) => row.destination === destination);
    const fits = (row: { payload: string }) =>
      new TextEncoder().encode(row.payload).byteLength <= MESSAGE_MAX_BYTES;
    const oversized = rows.filter((row) => !fits(row));
    if (oversized.length > 0) {
      // Can never be sent; its attempts grow until the re-drive parks it.
      log("error", "outbox_row_too_large", { destination, events: oversized.map((r) => r.id) });
    }
    for (const chunk of chunksForSending(rows.filter(fits))) {
      try {
        // A row is published once every queue has it; if one send fails the re-drive sends to all
        // again (at least once: consumers deduplicate by event id).
        const messages = chunk.map((row) => ({
          body: JSON.parse(row.payload) as unknown,
          contentType: "json" as const,
        }));
        await Promise.all(queues[destination].map((queue) => queue.sendBatch(messages)));
      } catch (err) {
        // This chunk stays unpublished for the re-drive; the others still go.
        log("error", "outbox_publish_failed", {
          destination,
          events: chunk.map((r) => r.id),
          detail: errorDetail(err),
        });
        continue;
      }
      const [first, ...rest] = chunk.map((row) =>
        db
          .update(outbox)
          .set({
            publishedAt: new Date(),
            lockedUntil: null,
            payload: redacted(row.type, row.payload),
          })
          .where(eq(outbox.id, row.id)),
      );
      if (first) await db.batch([first, ...rest]);
      published += chunk.length;
    }
  }
  return published;
}

/** Rows younger than this are left to the request that wrote them. */
export const REDRIVE_AFTER_MS = 60_000;
const REDRIVE_BATCH = 100;
const REDRIVE_BATCHES_PER_RUN = 10;

/**
 * The cron's re-drive: publishes rows left unpublished (a failed send, a crash before
 * `waitUntil` ran) once they are a minute old and nobody holds their lease. At least once:
 * consumers deduplicate by event id. Rows that failed OUTBOX_MAX_ATTEMPTS times are parked (left
 * for an operator) so they cannot hold up the others. Returns how many were published.
 */
export async function redriveOutbox(
  db: Db,
  queues: Record<OutboxDestination, Queue[]>,
  now: Date = new Date(),
): Promise<number> {
  let published = 0;
  for (let run = 0; run < REDRIVE_BATCHES_PER_RUN; run++) {
    const stale = await db
      .select({ id: outbox.id })
      .from(outbox)
      .where(
        and(
          isNull(outbox.publishedAt),
          lt(outbox.createdAt, new Date(now.getTime() - REDRIVE_AFTER_MS)),
          or(isNull(outbox.lockedUntil), lte(outbox.lockedUntil, now)),
          lt(outbox.attempts, OUTBOX_MAX_ATTEMPTS),
        ),
      )
      .orderBy(asc(outbox.createdAt))
      .limit(REDRIVE_BATCH);
    if (stale.length === 0) break;
    const sent = await publishEvents(
      db,
      queues,
      stale.map((r) => r.id),
      now,
    );
    published += sent;
    // Nothing at all went out: the queue is failing; let the next run try again.
    if (sent === 0) break;
  }
  return published;
}
