/**
 * A push request from the notification platform (DESIGN §6) ends in delivery jobs or a recorded
 * reason — under redelivery, concurrency, crashes and bad input:
 *
 *   invalid message, unknown user,
 *   a job too large for a queue        → status `failed`, a copy to the dead-letter queue
 *   push off, category off, no device,
 *   deactivated user, over the limit    → status `skipped` with the reason
 *   inside quiet hours                 → sent again with a delay until they end
 *   otherwise                          → one job per active device on PUSH_DELIVERY, `queued`
 *
 * A transient failure (D1, KV, …) throws, for the consumer to retry.
 */
import type { Db } from "../db/client";
import { notificationStatus } from "../db/schema";
import { type PushRequest, pushRequestSchema } from "../events/contracts";
import { CONSUMER, dedupeKey, MAX_JOB_BYTES, planJobs, queueJobs } from "./jobs";
import { decide } from "./policy";
import { notificationTargets } from "./targets";

/** Cloudflare Queues delay a message by at most 12 hours; a longer wait is re-checked then. */
const MAX_DELAY_SECONDS = 12 * 60 * 60;

type StatusValue = "pending" | "queued" | "failed" | "skipped";

/** A status row keyed for deduplication: recording the same outcome twice records it once. */
function statusRow(
  db: Db,
  values: {
    notificationId: string;
    userId: string | null;
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
      notificationId: values.notificationId,
      userId: values.userId,
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

/** The notification id and user of a message that may not be a valid request. */
export function identify(body: unknown, messageId: string) {
  const record = typeof body === "object" && body !== null ? (body as Record<string, unknown>) : {};
  const notificationId =
    typeof record.notification_id === "string" && record.notification_id.length > 0
      ? record.notification_id.slice(0, 255)
      : `message:${messageId}`;
  const userId = pushRequestSchema.shape.user_id.safeParse(record.user_id);
  return { notificationId, userId: userId.success ? userId.data : null };
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
  const parsed = pushRequestSchema.safeParse(body);
  if (!parsed.success) {
    const reason = `invalid message: ${parsed.error.issues
      .map((i) => `${i.path.join(".") || "body"} ${i.message}`)
      .join("; ")}`.slice(0, 2000);
    return fail(env, db, body, { ...identify(body, messageId), reason, now });
  }
  const request = parsed.data;
  const ids = { notificationId: request.notification_id, userId: request.user_id };
  const targets = await notificationTargets(db, env.KV, request.user_id);
  if (!targets) return fail(env, db, request, { ...ids, reason: "unknown user", now });

  const decision = decide(request, targets, now);
  if (decision.kind === "skip") return skip(db, request, decision.reason, now);
  if (decision.kind === "defer") return defer(env, db, request, decision.seconds, now);

  const planned = await planJobs(request, targets, now);
  if (typeof planned === "string") return fail(env, db, request, { ...ids, reason: planned, now });
  const limit = targets.preferences.frequency_limit;
  const queued = await queueJobs(env, db, request, limit, planned, now);
  if (queued === "already") return { kind: "already_queued" };
  if (queued === "over_limit") {
    return skip(db, request, `over the limit of ${limit} pushes in 24 hours`, now);
  }
  return { kind: "queued", jobs: queued.queued };
}

async function skip(db: Db, request: PushRequest, reason: string, now: Date): Promise<PushOutcome> {
  await statusRow(db, {
    notificationId: request.notification_id,
    userId: request.user_id,
    status: "skipped",
    error: reason,
    dedupeKey: dedupeKey(request.user_id, request.notification_id, "skipped"),
    at: now,
  });
  return { kind: "skipped", reason };
}

/** Sent again rather than retried: waiting out quiet hours must not use up the retry budget. */
async function defer(
  env: Env,
  db: Db,
  request: PushRequest,
  quiet: number,
  now: Date,
): Promise<PushOutcome> {
  const seconds = Math.min(quiet, MAX_DELAY_SECONDS);
  await env.PUSH_REQUESTS.send(request, { delaySeconds: seconds, contentType: "json" });
  await statusRow(db, {
    notificationId: request.notification_id,
    userId: request.user_id,
    status: "pending",
    error: "deferred until quiet hours end",
    metadata: { deliver_after: new Date(now.getTime() + seconds * 1000).toISOString() },
    dedupeKey: dedupeKey(
      request.user_id,
      request.notification_id,
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
  failure: { notificationId: string; userId: string | null; reason: string; now: Date },
): Promise<PushOutcome> {
  await recordFailure(db, failure.notificationId, failure.userId, failure.reason, failure.now);
  const deadLetter = {
    reason: failure.reason,
    failed_at: failure.now.toISOString(),
    notification_id: failure.notificationId,
    user_id: failure.userId,
  };
  // The copy must fit in a queue message too; an oversized original is left out of it.
  const copy = { dead_letter: deadLetter, message };
  const fits = new TextEncoder().encode(JSON.stringify(copy)).byteLength <= MAX_JOB_BYTES;
  await env.PUSH_REQUESTS_DLQ.send(fits ? copy : { dead_letter: deadLetter, message: null }, {
    contentType: "json",
  });
  return { kind: "failed", reason: failure.reason };
}

/** Status `failed`, once per (user, notification): what the dead-letter consumer records too. */
export async function recordFailure(
  db: Db,
  notificationId: string,
  userId: string | null,
  reason: string,
  at: Date,
) {
  await statusRow(db, {
    notificationId,
    userId,
    status: "failed",
    error: reason.slice(0, 2000),
    dedupeKey: dedupeKey(userId, notificationId, "failed"),
    at,
  });
}
