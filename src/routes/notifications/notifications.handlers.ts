import type { RouteHandler } from "@hono/zod-openapi";
import { and, asc, count, desc, eq } from "drizzle-orm";
import type { Context } from "hono";
import { z } from "zod";
import type { AppEnv } from "../../app-env";
import { authorizeUserAccess } from "../../auth/callers";
import { type Db, getDb } from "../../db/client";
import { type CHANNELS, notificationStatus, pushTokens, users } from "../../db/schema";
import { ApiError, fieldError } from "../../errors";
import { outboxEvent } from "../../events/outbox";
import { dedupeKey, storedJob } from "../../events/push-requests";
import { requestMeta } from "../../middleware/request-context";
import { userIdParam } from "../lookups/lookups.handlers";
import { ok } from "../openapi";
import { okList, pageMeta } from "../pagination";
import type * as routes from "./notifications.routes";
import { type StatusReportSchema, toStatusEntry } from "./notifications.schemas";

type Channel = (typeof CHANNELS)[number];
type Report = z.infer<typeof StatusReportSchema>;

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
async function deviceReportedDead(db: Db, body: Report) {
  const deviceId = body.metadata?.push_token_id;
  if (
    body.status !== "failed" ||
    !body.user_id ||
    typeof deviceId !== "string" ||
    !z.uuid().safeParse(deviceId).success ||
    !DEAD_TOKEN.test(body.error ?? "")
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
          eq(pushTokens.userId, body.user_id),
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
          dedupeKey(body.user_id, body.notification_id, `${deviceId}:queued`),
        ),
      )
      .limit(1),
  ]);
  const jobId = queued?.metadata?.job_id;
  if (!device || typeof jobId !== "string") return null;
  const job = await storedJob(db, jobId);
  return job?.device.token === device.token ? device : null;
}

async function record(c: Context<AppEnv>, channel: Channel, body: Report) {
  const caller = c.get("caller");
  const db = getDb(c.env);
  if (body.user_id) {
    const [user] = await db
      .select({ id: users.id })
      .from(users)
      .where(eq(users.id, body.user_id))
      .limit(1);
    if (!user) throw fieldError("user_id", "No user with this id.");
  }
  const now = new Date();
  const insert = db
    .insert(notificationStatus)
    .values({
      id: crypto.randomUUID(),
      notificationId: body.notification_id,
      userId: body.user_id ?? null,
      channel,
      status: body.status,
      error: body.error ?? null,
      metadata: body.metadata ?? null,
      createdAt: body.timestamp ? new Date(body.timestamp) : now,
      reportedBy: caller.kind === "service" ? caller.name : null,
    })
    .returning();

  // Delivery feedback: a push that failed because its device token is dead deactivates the device,
  // so no further jobs are made for it.
  const device = channel === "push" ? await deviceReportedDead(db, body) : null;
  if (device) {
    const [[row]] = await db.batch([
      insert,
      db
        .update(pushTokens)
        .set({ isActive: false, updatedAt: now })
        .where(and(eq(pushTokens.id, device.id), eq(pushTokens.isActive, true))),
      outboxEvent(
        db,
        requestMeta(c),
        "push_token.removed",
        {
          user_id: device.userId,
          push_token_id: device.id,
          platform: device.platform,
          reason: "invalid",
        },
        now,
      ),
    ]);
    if (!row) throw new Error("insert returned no row");
    return toStatusEntry(row);
  }
  const [row] = await insert;
  if (!row) throw new Error("insert returned no row");
  return toStatusEntry(row);
}

async function historyOf(
  c: Context<AppEnv>,
  channel: Channel,
  notificationId: string,
  page: number,
  limit: number,
) {
  const db = getDb(c.env);
  const where = and(
    eq(notificationStatus.channel, channel),
    eq(notificationStatus.notificationId, notificationId),
  );
  const [rows, [total]] = await db.batch([
    db
      .select()
      .from(notificationStatus)
      .where(where)
      .orderBy(asc(notificationStatus.createdAt), asc(notificationStatus.id))
      .limit(limit)
      .offset((page - 1) * limit),
    db.select({ n: count() }).from(notificationStatus).where(where),
  ]);
  const n = total?.n ?? 0;
  if (n === 0) throw new ApiError("not_found", "No status for this notification");
  return okList("Status history retrieved", rows.map(toStatusEntry), pageMeta(n, page, limit));
}

export const reportEmail: RouteHandler<typeof routes.email.report, AppEnv> = async (c) =>
  c.json(ok("Status recorded", await record(c, "email", c.req.valid("json"))), 201);

export const reportPush: RouteHandler<typeof routes.push.report, AppEnv> = async (c) =>
  c.json(ok("Status recorded", await record(c, "push", c.req.valid("json"))), 201);

export const emailHistory: RouteHandler<typeof routes.email.history, AppEnv> = async (c) => {
  const { page, limit } = c.req.valid("query");
  return c.json(
    await historyOf(c, "email", c.req.valid("param").notification_id, page, limit),
    200,
  );
};

export const pushHistory: RouteHandler<typeof routes.push.history, AppEnv> = async (c) => {
  const { page, limit } = c.req.valid("query");
  return c.json(await historyOf(c, "push", c.req.valid("param").notification_id, page, limit), 200);
};

export const forUser: RouteHandler<typeof routes.forUser, AppEnv> = async (c) => {
  const id = userIdParam(c.req.valid("param").id);
  const { page, limit, channel, status } = c.req.valid("query");
  await authorizeUserAccess(c, id, { services: true });
  const db = getDb(c.env);
  const where = and(
    eq(notificationStatus.userId, id),
    channel ? eq(notificationStatus.channel, channel) : undefined,
    status ? eq(notificationStatus.status, status) : undefined,
  );
  const [rows, [total]] = await db.batch([
    db
      .select()
      .from(notificationStatus)
      .where(where)
      .orderBy(desc(notificationStatus.createdAt), desc(notificationStatus.id))
      .limit(limit)
      .offset((page - 1) * limit),
    db.select({ n: count() }).from(notificationStatus).where(where),
  ]);
  return c.json(
    okList(
      "Notifications retrieved",
      rows.map(toStatusEntry),
      pageMeta(total?.n ?? 0, page, limit),
    ),
    200,
  );
};
