import type { RouteHandler } from "@hono/zod-openapi";
import { and, asc, count, desc, eq } from "drizzle-orm";
import type { Context } from "hono";
import { z } from "zod";
import type { AppEnv } from "../../app-env";
import { authorizeUserAccess } from "../../auth/callers";
import { getDb } from "../../db/client";
import { type CHANNELS, notificationStatus, pushTokens, users } from "../../db/schema";
import { ApiError, fieldError } from "../../errors";
import { outboxEvent } from "../../events/outbox";
import { requestMeta } from "../../middleware/request-context";
import { userIdParam } from "../lookups/lookups.handlers";
import { ok } from "../openapi";
import { okList, pageMeta } from "../pagination";
import type * as routes from "./notifications.routes";
import { type StatusReportSchema, toStatusEntry } from "./notifications.schemas";

type Channel = (typeof CHANNELS)[number];
type Report = z.infer<typeof StatusReportSchema>;

/**
 * What push providers say when a device token is dead: FCM's UNREGISTERED, APNs' BadDeviceToken and
 * Unregistered, Web Push's 404/410 Gone, and the common spellings of "invalid token".
 */
const DEAD_TOKEN =
  /unregistered|not[\s_-]?registered|invalid[\s_-]?(registration|token|device)|bad[\s_-]?device[\s_-]?token|\bgone\b/i;

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
  const deviceId = body.metadata?.push_token_id;
  const dead =
    channel === "push" &&
    body.status === "failed" &&
    typeof deviceId === "string" &&
    z.uuid().safeParse(deviceId).success &&
    DEAD_TOKEN.test(body.error ?? "");
  const [device] = dead
    ? await db
        .select()
        .from(pushTokens)
        .where(
          and(
            eq(pushTokens.id, deviceId),
            eq(pushTokens.isActive, true),
            body.user_id ? eq(pushTokens.userId, body.user_id) : undefined,
          ),
        )
        .limit(1)
    : [];
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
