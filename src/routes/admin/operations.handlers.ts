import type { RouteHandler } from "@hono/zod-openapi";
import type { AppEnv } from "../../app-env";
import { adminActor } from "../../auth/callers";
import type { Db } from "../../db/client";
import { ApiError } from "../../errors";
import { scope } from "../../middleware/request-context";
import { failedNotifications as failed } from "../../notifications/status";
import { listDeadLetters, redriveDeadLetter } from "../../push/dead-letters";
import { listDevices } from "../../push/device-object";
import { endUserSessionsAsAdmin, listSessions } from "../../sessions/sessions";
import { userById } from "../../users/lookups";
import { userIdParam } from "../lookups/lookups.handlers";
import { ok } from "../openapi";
import { okList, pageMeta } from "../pagination";
import type * as routes from "./operations.routes";

/** The path's user, or 404 (an admin looking at nobody gets the same answer as for a bad id). */
async function existingUser(db: Db, rawId: string) {
  const id = userIdParam(rawId);
  if (!(await userById(db, id))) throw new ApiError("not_found", "User not found");
  return id;
}

export const userSessions: RouteHandler<typeof routes.userSessions, AppEnv> = async (c) => {
  const id = await existingUser(c.get("db"), c.req.valid("param").id);
  const { page, limit } = c.req.valid("query");
  const { rows, total } = await listSessions(c.get("db"), id, { page, limit }, new Date());
  const data = rows.map((s) => ({
    id: s.id,
    created_at: s.createdAt.toISOString(),
    last_used_at: s.lastUsedAt.toISOString(),
    expires_at: s.expiresAt.toISOString(),
    ip: s.ip,
    user_agent: s.userAgent,
    current: false,
  }));
  return c.json(okList("Sessions retrieved", data, pageMeta(total, page, limit)), 200);
};

export const endUserSessions: RouteHandler<typeof routes.endUserSessions, AppEnv> = async (c) => {
  const id = await existingUser(c.get("db"), c.req.valid("param").id);
  const revoked = await endUserSessionsAsAdmin(scope(c), id, adminActor(c));
  return c.json(ok("Sessions ended", { revoked_sessions: revoked }), 200);
};

export const userDevices: RouteHandler<typeof routes.userDevices, AppEnv> = async (c) => {
  const id = await existingUser(c.get("db"), c.req.valid("param").id);
  const { page, limit } = c.req.valid("query");
  const found = await listDevices(c.get("db"), id, {}, { page, limit });
  return c.json(
    okList("Push devices retrieved", found.devices, pageMeta(found.total, page, limit)),
    200,
  );
};

export const failedNotifications: RouteHandler<typeof routes.failedNotifications, AppEnv> = async (
  c,
) => {
  const { page, limit, channel } = c.req.valid("query");
  const found = await failed(c.get("db"), channel, { page, limit });
  return c.json(
    okList("Failed deliveries", found.entries, pageMeta(found.total, page, limit)),
    200,
  );
};

export const deadLetters: RouteHandler<typeof routes.deadLetters, AppEnv> = async (c) => {
  const { page, limit, state } = c.req.valid("query");
  const found = await listDeadLetters(c.get("db"), { state }, { page, limit });
  return c.json(okList("Dead letters", found.rows, pageMeta(found.total, page, limit)), 200);
};

export const redrive: RouteHandler<typeof routes.redrive, AppEnv> = async (c) => {
  const letter = await redriveDeadLetter(
    scope(c),
    c.env.PUSH_REQUESTS,
    c.req.valid("param").id,
    adminActor(c),
  );
  return c.json(ok("Dead letter queued again", letter), 202);
};
