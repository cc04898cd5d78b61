/**
 * A push request from the notification platform (DESIGN §6), in any shape its real producers send
 * (events/push-messages.ts normalises them), ends in delivery jobs or a recorded reason — under
 * redelivery, concurrency, crashes and bad input:
 *
 *   not a push request (`type`)        → status `skipped`
 *   invalid message, unknown user,
 *   a job too large for a queue        → status `failed`, a copy to the dead-letter queue
 *   push off, category off, no device,
 *   deactivated user, over the limit    → status `skipped` with the reason
 *   inside quiet hours                 → sent again with a delay until they end
 *   otherwise                          → one job per active device on PUSH_DELIVERY, `queued`
 *
 * Every status is filed under the notification id and the producer's request and correlation
 * ids, so the producer finds it by whichever it has. A transient failure (D1, KV, …) throws, for
 * the consumer to retry.
 */
import type { Db } from "../db/client";
import { notificationStatus } from "../db/schema";
import { normalizePushRequest, pushRequestSchema, requestChannel } from "../events/push-messages";
import { CONSUMER, dedupeKey, MAX_JOB_BYTES, planJobs, queueJobs } from "./jobs";
import { decide } from "./policy";
import { notificationTargets } from "./targets";

/** Cloudflare Queues delay a message by at most 12 hours; a longer wait is re-checked then. */
const MAX_DELAY_SECONDS = 12 * 60 * 60;

type StatusValue = "pending" | "queued" | "failed" | "skipped";

/** Who a request is about and how its producer knows it: what every status row is filed under. */
export interface RequestIds {
  notificationId: string;
  userId: string | null;
  requestId: string | null;
  correlationId: string | null;
}

/** A status row keyed for deduplication: recording the same outcome twice records it once. */
function statusRow(
  db: Db,
  ids: RequestIds,
  values: {
    status: StatusValue;
    error?: string | null;
    metadata?: Record<string, unknown>;
    dedupeKey: string;
    at: Date;
  },
) {
  return db
    .insert(notificationStatus)
    .values({
      id: crypto.randomUUID(),
      notificationId: ids.notificationId,
      userId: ids.userId,
      requestId: ids.requestId,
      correlationId: ids.correlationId,
      channel: "push",
      status: values.status,
      error: values.error ?? null,
      metadata: values.metadata ?? null,
      createdAt: values.at,
      reportedBy: CONSUMER,
      dedupeKey: values.dedupeKey,
    })
    .onConflictDoNothing();
}

const text = (value: unknown) =>
  typeof value === "string" && value.length > 0 ? value.slice(0, 255) : null;

/**
 * The ids of a message that may not be a valid request: its notification id (else its request
 * or correlation id), else the queue's message id; its user, if it names one.
 */
export function identify(body: unknown, messageId: string): RequestIds {
  const normalized = normalizePushRequest(body);
  const record =
    typeof normalized === "object" && normalized !== null
      ? (normalized as Record<string, unknown>)
      : {};
  const userId = pushRequestSchema.shape.user_id.safeParse(record.user_id);
  return {
    notificationId: text(record.notification_id) ?? `message:${messageId}`,
    userId: userId.success ? userId.data : null,
    requestId: text(record.request_id),
    correlationId: text(record.correlation_id),
  };
}

export type PushOutcome =
  | { kind: "queued"; jobs: number }
  | { kind: "already_queued" }
  | { kind: "skipped"; reason: string }
  | { kind: "failed"; reason: string }
  | { kind: "deferred"; seconds: number };

/** Decides one request and writes its outcome. Throws only on a transient failure (retry it). */
export async function handlePushRequest(
  env: Env,
  db: Db,
  body: unknown,
  messageId: string,
  now: Date,
): Promise<PushOutcome> {
  const ids = identify(body, messageId);
  const channel = requestChannel(body);
  if (channel !== null && channel !== "push") {
    return skip(db, ids, `not a push request (type "${channel.slice(0, 32)}")`, now);
  }
  const parsed = pushRequestSchema.safeParse(normalizePushRequest(body));
  if (!parsed.success) {
    const reason = `invalid message: ${parsed.error.issues
      .map((i) => `${i.path.join(".") || "body"} ${i.message}`)
      .join("; ")}`.slice(0, 2000);
    return fail(env, db, body, ids, reason, now);
  }
  const request = parsed.data;
  const targets = await notificationTargets(db, env.KV, request.user_id);
  if (!targets) return fail(env, db, body, ids, "unknown user", now);

  const decision = decide(request, targets, now);
  if (decision.kind === "skip") return skip(db, ids, decision.reason, now);
  if (decision.kind === "defer") return defer(env, db, body, ids, decision.seconds, now);

  const planned = await planJobs(request, body, targets, now);
  if (typeof planned === "string") return fail(env, db, body, ids, planned, now);
  const limit = targets.preferences.frequency_limit;
  const queued = await queueJobs(env, db, request, limit, planned, now);
  if (queued === "already") return { kind: "already_queued" };
  if (queued === "over_limit") {
    return skip(db, ids, `over the limit of ${limit} pushes in 24 hours`, now);
  }
  return { kind: "queued", jobs: queued.queued };
}

async function skip(db: Db, ids: RequestIds, reason: string, now: Date): Promise<PushOutcome> {
  await statusRow(db, ids, {
    status: "skipped",
    error: reason,
    dedupeKey: dedupeKey(ids.userId, ids.notificationId, "skipped"),
    at: now,
  });
  return { kind: "skipped", reason };
}

/**
 * Sent again, as its producer sent it, rather than retried: waiting out quiet hours must not use
 * up the retry budget.
 */
async function defer(
  env: Env,
  db: Db,
  body: unknown,
  ids: RequestIds,
  quiet: number,
  now: Date,
): Promise<PushOutcome> {
  const seconds = Math.min(quiet, MAX_DELAY_SECONDS);
  await env.PUSH_REQUESTS.send(body, { delaySeconds: seconds, contentType: "json" });
  await statusRow(db, ids, {
    status: "pending",
    error: "deferred until quiet hours end",
    metadata: { deliver_after: new Date(now.getTime() + seconds * 1000).toISOString() },
    dedupeKey: dedupeKey(
      ids.userId,
      ids.notificationId,
      `deferred:${Math.floor(now.getTime() / 3_600_000)}`,
    ),
    at: now,
  });
  return { kind: "deferred", seconds };
}

/** Records `failed` and puts a copy, with the reason, on the dead-letter queue. */
async function fail(
  env: Env,
  db: Db,
  message: unknown,
  ids: RequestIds,
  reason: string,
  now: Date,
): Promise<PushOutcome> {
  await recordFailure(db, ids, reason, now);
  const deadLetter = {
    reason,
    failed_at: now.toISOString(),
    notification_id: ids.notificationId,
    user_id: ids.userId,
  };
  // The copy must fit in a queue message too; an oversized original is left out of it.
  const copy = { dead_letter: deadLetter, message };
  const fits = new TextEncoder().encode(JSON.stringify(copy)).byteLength <= MAX_JOB_BYTES;
  await env.PUSH_REQUESTS_DLQ.send(fits ? copy : { dead_letter: deadLetter, message: null }, {
    contentType: "json",
  });
  return { kind: "failed", reason };
}

/** Status `failed`, once per (user, notification): what the dead-letter consumer records too. */
export async function recordFailure(db: Db, ids: RequestIds, reason: string, at: Date) {
  await statusRow(db, ids, {
    status: "failed",
    error: reason.slice(0, 2000),
    dedupeKey: dedupeKey(ids.userId, ids.notificationId, "failed"),
    at,
  });
}
