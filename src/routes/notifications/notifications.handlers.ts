import type { RouteHandler } from "@hono/zod-openapi";
import { and, asc, count, desc, eq } from "drizzle-orm";
import type { AppEnv } from "../../app-env";
import { authorizeUserAccess } from "../../auth/callers";
import { getDb } from "../../db/client";
import { CHANNELS, notificationStatus, users } from "../../db/schema";
import { ApiError, fieldError } from "../../errors";
import { userIdParam } from "../lookups/lookups.handlers";
import { ok } from "../openapi";
import { okList, pageMeta } from "../pagination";
import type * as routes from "./notifications.routes";
import { toStatusEntry } from "./notifications.schemas";

function channelParam(channel: string): (typeof CHANNELS)[number] {
  const found = CHANNELS.find((known) => known === channel);
  if (!found) throw new ApiError("not_found", "Not found");
  return found;
}

export const report: RouteHandler<typeof routes.report, AppEnv> = async (c) => {
  const channel = channelParam(c.req.valid("param").channel);
  const body = c.req.valid("json");
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
  const [row] = await db
    .insert(notificationStatus)
    .values({
      id: crypto.randomUUID(),
      notificationId: body.notification_id,
      userId: body.user_id ?? null,
      channel,
      status: body.status,
      error: body.error ?? null,
      metadata: body.metadata ?? null,
      createdAt: body.timestamp ? new Date(body.timestamp) : new Date(),
      reportedBy: caller.kind === "service" ? caller.name : null,
    })
    .returning();
  if (!row) throw new Error("insert returned no row");
  return c.json(ok("Status recorded", toStatusEntry(row)), 201);
};

export const history: RouteHandler<typeof routes.history, AppEnv> = async (c) => {
  const params = c.req.valid("param");
  const channel = channelParam(params.channel);
  const { page, limit } = c.req.valid("query");
  const db = getDb(c.env);
  const where = and(
    eq(notificationStatus.channel, channel),
    eq(notificationStatus.notificationId, params.notification_id),
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
  if ((total?.n ?? 0) === 0) throw new ApiError("not_found", "No status for this notification");
  return c.json(
    okList(
      "Status history retrieved",
      rows.map(toStatusEntry),
      pageMeta(total?.n ?? 0, page, limit),
    ),
    200,
  );
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
