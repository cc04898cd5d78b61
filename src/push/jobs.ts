/**
 * Delivery jobs: one per active device of a request that is to be delivered, on PUSH_DELIVERY
 * through the outbox. Race-free by construction: each device's `queued` status is inserted first,
 * by one INSERT … SELECT that also checks the user's frequency limit, so concurrent batches (D1
 * runs batches one at a time) cannot overshoot it; its dedupe key (user, notification, device)
 * makes a second insert a no-op. A device's job is inserted only if *this* attempt's status row
 * went in, so a redelivered request never makes a second job — even after the published job was
 * purged. A failed send is re-driven by the cron.
 */
import { eq, inArray, sql } from "drizzle-orm";
import { type Db, rawStatement } from "../db/client";
import { notificationStatus, outbox } from "../db/schema";
import { outboxQueues, publishEvents } from "../events/outbox";
import {
  PUSH_JOB_VERSION,
  type PushDeliveryJob,
  type PushRequest,
  pushDeliveryJobSchema,
} from "../events/push-messages";
import { errorDetail, log } from "../logging";
import type { NotificationTargets } from "./targets";

/** Who the consumer's status rows say reported them. */
export const CONSUMER = "push-request-consumer";
/** A queue message may be at most 128 KB; a job must fit with room to spare. */
export const MAX_JOB_BYTES = 100 * 1024;
const DAY_MS = 24 * 60 * 60 * 1000;

/** A UUID derived from its input (SHA-256, shaped as an RFC 9562 version 8 UUID). */
async function derivedUuid(input: string): Promise<string> {
  const bytes = new Uint8Array(
    await crypto.subtle.digest("SHA-256", new TextEncoder().encode(input)),
  );
  bytes[6] = ((bytes[6] ?? 0) & 0x0f) | 0x80;
  bytes[8] = ((bytes[8] ?? 0) & 0x3f) | 0x80;
  const hex = bytes.slice(0, 16).toHex();
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20, 32)}`;
}

/** The dedupe key of one outcome: per user, notification and (for jobs) device. */
export function dedupeKey(userId: string | null, notificationId: string, outcome: string): string {
  return `push:${userId ?? "-"}:${notificationId}:${outcome}`;
}

interface PlannedJob {
  statusId: string;
  key: string;
  job: PushDeliveryJob;
  payload: string;
}

/**
 * One job per active device, each checked against the queue's size limit before anything is
 * written: a request too big to deliver fails now rather than blocking the outbox later. Returns
 * the reason instead when one does not fit.
 */
export async function planJobs(
  request: PushRequest,
  original: unknown,
  targets: NotificationTargets,
  now: Date,
): Promise<PlannedJob[] | string> {
  const planned: PlannedJob[] = [];
  for (const device of targets.push_devices) {
    const job: PushDeliveryJob = {
      job_id: await derivedUuid(`${request.user_id}:${request.notification_id}:${device.id}`),
      version: PUSH_JOB_VERSION,
      notification_id: request.notification_id,
      request_id: request.request_id ?? null,
      correlation_id: request.correlation_id ?? null,
      created_at: now.toISOString(),
      user: { id: targets.user_id, name: targets.name, email: targets.email },
      device: {
        id: device.id,
        token: device.token,
        platform: device.platform,
        provider: device.provider,
      },
      request,
      original,
    };
    const payload = JSON.stringify(pushDeliveryJobSchema.parse(job));
    if (new TextEncoder().encode(payload).byteLength > MAX_JOB_BYTES) {
      return `request too large: a delivery job would exceed ${MAX_JOB_BYTES} bytes`;
    }
    planned.push({
      statusId: crypto.randomUUID(),
      key: dedupeKey(request.user_id, request.notification_id, `${device.id}:queued`),
      job,
      payload,
    });
  }
  return planned;
}

/** The two statements of one device: its `queued` status under the limit, then its job. */
function jobStatements(
  d1: D1Database,
  request: PushRequest,
  limit: number,
  p: PlannedJob,
  now: Date,
) {
  const since = now.getTime() - DAY_MS;
  return [
    // The status goes in only while the user is under their frequency limit (notifications, not
    // device jobs, counted over 24 hours, this one excluded) — decided inside D1, atomically.
    rawStatement(
      d1,
      sql`
      INSERT INTO ${notificationStatus}
        (id, notification_id, user_id, channel, status, error, metadata, created_at, reported_by,
         dedupe_key, request_id, correlation_id)
      SELECT ${p.statusId}, ${request.notification_id}, ${request.user_id}, 'push', 'queued', NULL,
             ${JSON.stringify({ push_token_id: p.job.device.id, job_id: p.job.job_id })}, ${now.getTime()},
             ${CONSUMER}, ${p.key}, ${p.job.request_id}, ${p.job.correlation_id}
      WHERE (
        SELECT count(DISTINCT notification_id) FROM ${notificationStatus}
        WHERE user_id = ${request.user_id} AND channel = 'push' AND status = 'queued'
          AND created_at > ${since} AND notification_id <> ${request.notification_id}
      ) < ${limit}
      ON CONFLICT DO NOTHING`,
    ),
    // The job goes in only if this attempt's status row did.
    rawStatement(
      d1,
      sql`
      INSERT INTO ${outbox} (id, destination, type, payload, created_at, attempts)
      SELECT ${p.job.job_id}, 'push-delivery', 'push.delivery', ${p.payload}, ${now.getTime()}, 0
      WHERE EXISTS (SELECT 1 FROM ${notificationStatus} WHERE id = ${p.statusId})
      ON CONFLICT DO NOTHING`,
    ),
  ];
}

/**
 * Writes the planned jobs under the frequency limit and publishes the ones this attempt wrote.
 * Returns how many it queued, or that an earlier attempt had (`already`), or that the limit
 * refused them (`over_limit`).
 */
export async function queueJobs(
  env: Env,
  db: Db,
  request: PushRequest,
  frequencyLimit: number,
  planned: PlannedJob[],
  now: Date,
): Promise<{ queued: number } | "already" | "over_limit"> {
  await env.DB.batch(
    planned.flatMap((p) => jobStatements(env.DB, request, frequencyLimit, p, now)),
  );
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
  if (ours.length === 0) return recorded.length > 0 ? "already" : "over_limit";
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
  return { queued: ours.length };
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
