/**
 * The delivery-status log (DESIGN §4): statuses reported by the delivery services, read back per
 * notification or per user. A failed push whose device token is dead deactivates that device
 * (delivery feedback), so no further jobs are made for it.
 */
import { and, asc, count, desc, eq, or } from "drizzle-orm";
import { z } from "zod";
import type { Scope } from "../app-env";
import type { Db } from "../db/client";
import {
  type CHANNELS,
  type DELIVERY_STATUSES,
  notificationStatus,
  pushTokens,
  users,
} from "../db/schema";
import { ApiError, fieldError } from "../errors";
import { commit } from "../events/outbox";
import { removedEvent } from "../push/devices";
import { dedupeKey, storedJob } from "../push/jobs";

type Channel = (typeof CHANNELS)[number];
type StatusRow = typeof notificationStatus.$inferSelect;

export interface StatusReport {
  notification_id: string;
  user_id?: string | null | undefined;
  status: (typeof DELIVERY_STATUSES)[number];
  error?: string | null | undefined;
  timestamp?: string | undefined;
  metadata?: Record<string, unknown> | undefined;
}

function toStatusEntry(row: StatusRow) {
  return {
    id: row.id,
    notification_id: row.notificationId,
    user_id: row.userId,
    channel: row.channel,
    status: row.status,
    error: row.error,
    metadata: row.metadata,
    created_at: row.createdAt.toISOString(),
    reported_by: row.reportedBy,
  };
}

export type StatusEntry = ReturnType<typeof toStatusEntry>;

/**
 * The provider error codes that mean a device token is dead for good: FCM's UNREGISTERED (and its
 * SDK spellings), legacy FCM's NotRegistered / InvalidRegistration, APNs' BadDeviceToken /
 * Unregistered / DeviceTokenNotForTopic, and Web Push's 404 / 410. Anything else (quota, auth,
 * outages) must never switch devices off.
 */
const DEAD_TOKEN =
  /\b(UNREGISTERED|NotRegistered|InvalidRegistration|BadDeviceToken|Unregistered|DeviceTokenNotForTopic)\b|registration-token-not-registered|invalid-registration-token|^(404|410)\b/;

/**
 * The device a failed-push report may deactivate: only the device this notification's job went to,
 * only while it still holds the token that job carried (a late report about an old token must not
 * kill the new one), and only for the user the report names.
 */
async function deviceReportedDead(db: Db, report: StatusReport) {
  const deviceId = report.metadata?.push_token_id;
  if (
    report.status !== "failed" ||
    !report.user_id ||
    typeof deviceId !== "string" ||
    !z.uuid().safeParse(deviceId).success ||
    !DEAD_TOKEN.test(report.error ?? "")
  ) {
    return null;
  }
  const [[device], [queued]] = await db.batch([
    db
      .select()
      .from(pushTokens)
      .where(
        and(
          eq(pushTokens.id, deviceId),
          eq(pushTokens.userId, report.user_id),
          eq(pushTokens.isActive, true),
        ),
      )
      .limit(1),
    db
      .select({ metadata: notificationStatus.metadata })
      .from(notificationStatus)
      .where(
        eq(
          notificationStatus.dedupeKey,
          dedupeKey(report.user_id, report.notification_id, `${deviceId}:queued`),
        ),
      )
      .limit(1),
  ]);
  const jobId = queued?.metadata?.job_id;
  if (!device || typeof jobId !== "string") return null;
  const job = await storedJob(db, jobId);
  return job?.device.token === device.token ? device : null;
}

/** Records a reported status (and its delivery feedback); `reportedBy` is the calling service. */
export async function recordStatus(
  { db, meta }: Scope,
  channel: Channel,
  report: StatusReport,
  reportedBy: string | null,
): Promise<StatusEntry> {
  if (report.user_id) {
    const [user] = await db
      .select({ id: users.id })
      .from(users)
      .where(eq(users.id, report.user_id))
      .limit(1);
    if (!user) throw fieldError("user_id", "No user with this id.");
  }
  const now = new Date();
  const insert = db
    .insert(notificationStatus)
    .values({
      id: crypto.randomUUID(),
      notificationId: report.notification_id,
      userId: report.user_id ?? null,
      channel,
      status: report.status,
      error: report.error ?? null,
      metadata: report.metadata ?? null,
      createdAt: report.timestamp ? new Date(report.timestamp) : now,
      reportedBy,
    })
    .returning();
  const device = channel === "push" ? await deviceReportedDead(db, report) : null;
  const [[row]] = device
    ? await commit(db, meta, [
        insert,
        db
          .update(pushTokens)
          .set({ isActive: false, updatedAt: now })
          .where(and(eq(pushTokens.id, device.id), eq(pushTokens.isActive, true))),
        removedEvent(db, meta, device, "invalid", now),
      ])
    : await commit(db, meta, [insert]);
  if (!row) throw new Error("insert returned no row");
  return toStatusEntry(row);
}

type Page = { page: number; limit: number };

async function statusPage(db: Db, where: ReturnType<typeof and>, order: "asc" | "desc", p: Page) {
  const by = order === "asc" ? asc : desc;
  const [rows, [total]] = await db.batch([
    db
      .select()
      .from(notificationStatus)
      .where(where)
      .orderBy(by(notificationStatus.createdAt), by(notificationStatus.id))
      .limit(p.limit)
      .offset((p.page - 1) * p.limit),
    db.select({ n: count() }).from(notificationStatus).where(where),
  ]);
  return { entries: rows.map(toStatusEntry), total: total?.n ?? 0 };
}

/**
 * The status history of one notification on one channel, oldest first; 404 when it has none. The
 * id is whichever its producer has: the notification id, or the request's `request_id` or
 * `correlation_id`.
 */
export async function statusHistory(db: Db, channel: Channel, id: string, p: Page) {
  const where = and(
    eq(notificationStatus.channel, channel),
    or(
      eq(notificationStatus.notificationId, id),
      eq(notificationStatus.requestId, id),
      eq(notificationStatus.correlationId, id),
    ),
  );
  const page = await statusPage(db, where, "asc", p);
  if (page.total === 0) throw new ApiError("not_found", "No status for this notification");
  return page;
}

/** A user's delivery-status history, newest first, by channel and status. */
export function userNotifications(
  db: Db,
  userId: string,
  filter: { channel?: Channel | undefined; status?: StatusReport["status"] | undefined },
  p: Page,
) {
  const where = and(
    eq(notificationStatus.userId, userId),
    filter.channel ? eq(notificationStatus.channel, filter.channel) : undefined,
    filter.status ? eq(notificationStatus.status, filter.status) : undefined,
  );
  return statusPage(db, where, "desc", p);
}

/** Failed deliveries of every user, newest first (the admin console's "failed pushes"). */
export function failedNotifications(db: Db, channel: Channel | undefined, p: Page) {
  const where = and(
    eq(notificationStatus.status, "failed"),
    channel ? eq(notificationStatus.channel, channel) : undefined,
  );
  return statusPage(db, where, "desc", p);
}
