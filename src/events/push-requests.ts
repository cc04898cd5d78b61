/**
 * The push-request consumer (DESIGN §6): every request from the notification platform ends in
 * delivery jobs or a recorded reason — under redelivery, concurrency, crashes and bad input.
 *
 *   invalid message, unknown user,
 *   a job too large for a queue        → status `failed`, a copy to the dead-letter queue, ack
 *   push off, category off, no device,
 *   deactivated user, over the limit    → status `skipped` with the reason, ack
 *   inside quiet hours                 → sent again with a delay until they end, ack
 *   otherwise                          → one job per active device on PUSH_DELIVERY, `queued`, ack
 *   a transient failure (D1, KV, …)    → retry with exponential backoff and jitter; after the
 *                                        retry limit the queue moves it to the dead letters
 *
 * Idempotent and race-free by construction. Each device's `queued` status is inserted first, by
 * one INSERT … SELECT that also checks the user's frequency limit, so concurrent batches (D1 runs
 * batches one at a time) cannot overshoot it; its dedupe key (user, notification, device) makes a
 * second insert a no-op. A device's job is inserted only if *this* attempt's status row went in,
 * so a redelivered request never makes a second job — even after the published job was purged.
 * Jobs go through the outbox, so a failed send is re-driven by the cron.
 */
import { eq, inArray, sql } from "drizzle-orm";
import { type Db, rawStatement } from "../db/client";
import { notificationStatus, outbox } from "../db/schema";
import { kvKeys, PUSH_ERROR_TTL_SECONDS } from "../kv";
import { errorDetail, log } from "../logging";
import { notificationTargets } from "../lookups";
import type { Preferences } from "../routes/preferences/preferences.schemas";
import {
  deadLetterSchema,
  PUSH_JOB_VERSION,
  type PushDeliveryJob,
  pushDeliveryJobSchema,
  pushRequestSchema,
} from "./contracts";
import { outboxQueues, publishEvents } from "./outbox";

const CONSUMER = "push-request-consumer";
/** Cloudflare Queues delay a message by at most 12 hours; a longer wait is re-checked then. */
const MAX_DELAY_SECONDS = 12 * 60 * 60;
const RETRY_BASE_SECONDS = 5;
const RETRY_MAX_SECONDS = 15 * 60;
/** A queue message may be at most 128 KB; a job must fit with room to spare. */
export const MAX_JOB_BYTES = 100 * 1024;
const DAY_SECONDS = 24 * 60 * 60;

/** Exponential backoff with ±20% jitter: 5 s, 10 s, 20 s, … capped at 15 minutes. */
export function retryDelaySeconds(attempts: number, random: () => number = Math.random): number {
  const base = Math.min(RETRY_MAX_SECONDS, RETRY_BASE_SECONDS * 2 ** Math.max(0, attempts - 1));
  return Math.max(1, Math.round(base * (0.8 + 0.4 * random())));
}

/** Seconds since local midnight of `date` in a time zone. */
function localSecondsOfDay(timeZone: string, date: Date): number {
  const parts = new Intl.DateTimeFormat("en-GB", {
    timeZone,
    hour: "2-digit",
    minute: "2-digit",
    second: "2-digit",
    hourCycle: "h23",
  }).formatToParts(date);
  const part = (type: string) => Number(parts.find((p) => p.type === type)?.value ?? 0);
  return part("hour") * 3600 + part("minute") * 60 + part("second");
}

/**
 * Seconds until the user's quiet hours end, or null outside them. Hours are wall-clock times in
 * the user's time zone; a window whose end is before its start runs across midnight. A daylight-
 * saving change inside the wait is accounted for, so the push goes out at the wall-clock end.
 */
export function quietHoursRemaining(prefs: Preferences, now: Date): number | null {
  const { quiet_hours_start: start, quiet_hours_end: end, timezone } = prefs;
  if (!start || !end || start === end) return null;
  const toSeconds = (hhmm: string) => {
    const [h, m] = hhmm.split(":").map(Number);
    return (h ?? 0) * 3600 + (m ?? 0) * 60;
  };
  const nowSeconds = localSecondsOfDay(timezone, now);
  const from = toSeconds(start);
  const to = toSeconds(end);
  const inside =
    from < to ? nowSeconds >= from && nowSeconds < to : nowSeconds >= from || nowSeconds < to;
  if (!inside) return null;
  const naive = (to - nowSeconds + DAY_SECONDS) % DAY_SECONDS;
  // Where the naive wait lands on the wall clock; the difference is the DST shift in between.
  const landing = localSecondsOfDay(timezone, new Date(now.getTime() + naive * 1000));
  const drift = ((to - landing + DAY_SECONDS * 1.5) % DAY_SECONDS) - DAY_SECONDS / 2;
  return Math.max(1, naive + drift);
}

/** A UUID derived from its input (SHA-256, shaped as an RFC 9562 version 8 UUID). */
export async function derivedUuid(input: string): Promise<string> {
  const bytes = new Uint8Array(
    await crypto.subtle.digest("SHA-256", new TextEncoder().encode(input)),
  );
  bytes[6] = ((bytes[6] ?? 0) & 0x0f) | 0x80;
  bytes[8] = ((bytes[8] ?? 0) & 0x3f) | 0x80;
  const hex = [...bytes.slice(0, 16)].map((b) => b.toString(16).padStart(2, "0")).join("");
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20, 32)}`;
}

/** The dedupe key of one outcome: per user, notification and (for jobs) device. */
export function dedupeKey(userId: string | null, notificationId: string, outcome: string): string {
  return `push:${userId ?? "-"}:${notificationId}:${outcome}`;
}

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
function identify(body: unknown, messageId: string) {
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
    const { notificationId, userId } = identify(body, messageId);
    const reason = `invalid message: ${parsed.error.issues
      .map((i) => `${i.path.join(".") || "body"} ${i.message}`)
      .join("; ")}`.slice(0, 2000);
    return fail(env, db, body, { notificationId, userId, reason, now });
  }
  const request = parsed.data;
  const failure = (reason: string) =>
    fail(env, db, request, {
      notificationId: request.notification_id,
      userId: request.user_id,
      reason,
      now,
    });
  const targets = await notificationTargets(db, env.KV, request.user_id);
  if (!targets) return failure("unknown user");

  const skip = async (reason: string): Promise<PushOutcome> => {
    await statusRow(db, {
      notificationId: request.notification_id,
      userId: request.user_id,
      status: "skipped",
      error: reason,
      dedupeKey: dedupeKey(request.user_id, request.notification_id, "skipped"),
      at: now,
    });
    return { kind: "skipped", reason };
  };
  const prefs = targets.preferences;
  if (!targets.is_active) return skip("user is deactivated");
  if (!prefs.push) return skip("push notifications are off");
  if (request.category && !prefs[`push_${request.category}`]) {
    return skip(`${request.category} push notifications are off`);
  }
  if (targets.push_devices.length === 0) return skip("no active push device");

  const quiet = quietHoursRemaining(prefs, now);
  if (quiet !== null) {
    // Sent again rather than retried: waiting out quiet hours must not use up the retry budget.
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

  // One job per active device, each checked against the queue's size limit before anything is
  // written: a request too big to deliver fails now rather than blocking the outbox later.
  const planned: { statusId: string; key: string; job: PushDeliveryJob; payload: string }[] = [];
  for (const device of targets.push_devices) {
    const job: PushDeliveryJob = {
      job_id: await derivedUuid(`${request.user_id}:${request.notification_id}:${device.id}`),
      version: PUSH_JOB_VERSION,
      notification_id: request.notification_id,
      created_at: now.toISOString(),
      user: { id: targets.user_id, name: targets.name, email: targets.email },
      device: {
        id: device.id,
        token: device.token,
        platform: device.platform,
        provider: device.provider,
      },
      request,
    };
    const payload = JSON.stringify(pushDeliveryJobSchema.parse(job));
    if (new TextEncoder().encode(payload).byteLength > MAX_JOB_BYTES) {
      return failure(`request too large: a delivery job would exceed ${MAX_JOB_BYTES} bytes`);
    }
    planned.push({
      statusId: crypto.randomUUID(),
      key: dedupeKey(request.user_id, request.notification_id, `${device.id}:queued`),
      job,
      payload,
    });
  }

  const since = now.getTime() - DAY_SECONDS * 1000;
  const statements = planned.flatMap(({ statusId, key, job, payload }) => [
    // The status goes in only while the user is under their frequency limit (notifications, not
    // device jobs, counted over 24 hours, this one excluded) — decided inside D1, atomically.
    rawStatement(
      env.DB,
      sql`
      INSERT INTO ${notificationStatus}
        (id, notification_id, user_id, channel, status, error, metadata, created_at, reported_by, dedupe_key)
      SELECT ${statusId}, ${request.notification_id}, ${request.user_id}, 'push', 'queued', NULL,
             ${JSON.stringify({ push_token_id: job.device.id, job_id: job.job_id })}, ${now.getTime()},
             ${CONSUMER}, ${key}
      WHERE (
        SELECT count(DISTINCT notification_id) FROM ${notificationStatus}
        WHERE user_id = ${request.user_id} AND channel = 'push' AND status = 'queued'
          AND created_at > ${since} AND notification_id <> ${request.notification_id}
      ) < ${prefs.frequency_limit}
      ON CONFLICT DO NOTHING`,
    ),
    // The job goes in only if this attempt's status row did.
    rawStatement(
      env.DB,
      sql`
      INSERT INTO ${outbox} (id, destination, type, payload, created_at, attempts)
      SELECT ${job.job_id}, 'push-delivery', 'push.delivery', ${payload}, ${now.getTime()}, 0
      WHERE EXISTS (SELECT 1 FROM ${notificationStatus} WHERE id = ${statusId})
      ON CONFLICT DO NOTHING`,
    ),
  ]);
  await env.DB.batch(statements);

  const recorded = await db
    .select({ id: notificationStatus.id })
    .from(notificationStatus)
    .where(
      inArray(
        notificationStatus.dedupeKey,
        planned.map((p) => p.key),
      ),
    );
  const ours = planned.filter((p) => recorded.some((r) => r.id === p.statusId));
  if (ours.length === 0) {
    if (recorded.length > 0) return { kind: "already_queued" };
    return skip(`over the limit of ${prefs.frequency_limit} pushes in 24 hours`);
  }
  // Committed: the jobs will be delivered (now, or by the cron's re-drive if this send fails).
  await publishEvents(
    db,
    outboxQueues(env),
    ours.map((p) => p.job.job_id),
    now,
  ).catch((err: unknown) => {
    log("error", "push_jobs_publish_failed", {
      notification_id: request.notification_id,
      detail: errorDetail(err),
    });
  });
  return { kind: "queued", jobs: ours.length };
}

/** Records `failed` and puts a copy, with the reason, on the dead-letter queue. */
async function fail(
  env: Env,
  db: Db,
  message: unknown,
  failure: { notificationId: string; userId: string | null; reason: string; now: Date },
): Promise<PushOutcome> {
  await statusRow(db, {
    notificationId: failure.notificationId,
    userId: failure.userId,
    status: "failed",
    error: failure.reason,
    dedupeKey: dedupeKey(failure.userId, failure.notificationId, "failed"),
    at: failure.now,
  });
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

export async function pushRequestsConsumer(batch: MessageBatch<unknown>, env: Env, db: Db) {
  // Different users' requests are independent, so they are handled concurrently (their D1, KV and
  // queue round trips overlap); one user's requests go one after the other.
  const byUser = new Map<string, Message<unknown>[]>();
  for (const message of batch.messages) {
    const key = identify(message.body, message.id).userId ?? message.id;
    byUser.set(key, [...(byUser.get(key) ?? []), message]);
  }
  await Promise.all(
    [...byUser.values()].map(async (messages) => {
      for (const message of messages) await consumeOne(message, env, db);
    }),
  );
}

async function consumeOne(message: Message<unknown>, env: Env, db: Db) {
  const now = new Date();
  try {
    const outcome = await handlePushRequest(env, db, message.body, message.id, now);
    log("info", "push_request", { message_id: message.id, attempts: message.attempts, ...outcome });
    message.ack();
  } catch (err) {
    const delaySeconds = retryDelaySeconds(message.attempts);
    const detail = errorDetail(err);
    log("warn", "push_request_retry", {
      message_id: message.id,
      attempts: message.attempts,
      delaySeconds,
      detail,
    });
    // Remembered for the dead-letter consumer, should this turn out to be the last attempt.
    const { notificationId } = identify(message.body, message.id);
    await env.KV.put(kvKeys.pushRequestError(notificationId), detail.slice(0, 2000), {
      expirationTtl: PUSH_ERROR_TTL_SECONDS,
    }).catch(() => undefined);
    message.retry({ delaySeconds });
  }
}

/**
 * The dead letters of push requests: requests that exhausted their retries (recorded `failed` with
 * the last error seen) and the copies this service sent itself (already recorded; the dedupe key
 * makes this a no-op). What this consumer cannot record after its own retries is parked in
 * `push-requests-parked` (wrangler.toml) for an operator.
 */
export async function pushDeadLetterConsumer(batch: MessageBatch<unknown>, env: Env, db: Db) {
  for (const message of batch.messages) {
    const wrapped = deadLetterSchema.safeParse(message.body);
    const { notificationId, userId } = wrapped.success
      ? {
          notificationId: wrapped.data.dead_letter.notification_id,
          userId: wrapped.data.dead_letter.user_id,
        }
      : identify(message.body, message.id);
    try {
      const reason = wrapped.success
        ? wrapped.data.dead_letter.reason
        : `retries exhausted: ${(await env.KV.get(kvKeys.pushRequestError(notificationId))) ?? "unknown error"}`;
      await statusRow(db, {
        notificationId,
        userId,
        status: "failed",
        error: reason.slice(0, 2000),
        dedupeKey: dedupeKey(userId, notificationId, "failed"),
        at: new Date(),
      });
      message.ack();
    } catch (err) {
      log("error", "push_dead_letter_retry", { message_id: message.id, detail: errorDetail(err) });
      message.retry({ delaySeconds: retryDelaySeconds(message.attempts) });
    }
  }
}

/** The job an outbox row holds, for delivery feedback; null once purged. */
export async function storedJob(db: Db, jobId: string): Promise<PushDeliveryJob | null> {
  const [row] = await db
    .select({ payload: outbox.payload })
    .from(outbox)
    .where(eq(outbox.id, jobId))
    .limit(1);
  return row ? (JSON.parse(row.payload) as PushDeliveryJob) : null;
}
