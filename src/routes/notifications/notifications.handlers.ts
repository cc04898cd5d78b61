import type { RouteHandler } from "@hono/zod-openapi";
import type { Context } from "hono";
import type { AppEnv } from "../../app-env";
import { authorizeUserAccess } from "../../auth/callers";
import { scope } from "../../middleware/request-context";
import { recordStatus, statusHistory, userNotifications } from "../../notifications/status";
import { userIdParam } from "../lookups/lookups.handlers";
import { ok } from "../openapi";
import { okList, pageMeta } from "../pagination";
import type * as routes from "./notifications.routes";

function reporter(c: Context<AppEnv>): string | null {
  const caller = c.get("caller");
  return caller.kind === "service" ? caller.name : null;
}

export const reportEmail: RouteHandler<typeof routes.email.report, AppEnv> = async (c) => {
  const entry = await recordStatus(scope(c), "email", c.req.valid("json"), reporter(c));
  return c.json(ok("Status recorded", entry), 201);
};

export const reportPush: RouteHandler<typeof routes.push.report, AppEnv> = async (c) => {
  const entry = await recordStatus(scope(c), "push", c.req.valid("json"), reporter(c));
  return c.json(ok("Status recorded", entry), 201);
};

/** The status history of one notification on a channel, oldest first. */
function historyOf(channel: "email" | "push") {
  return async (
    c: Context<AppEnv>,
    notificationId: string,
    query: { page: number; limit: number },
  ) => {
    const { entries, total } = await statusHistory(c.get("db"), channel, notificationId, query);
    return okList("Status history retrieved", entries, pageMeta(total, query.page, query.limit));
  };
}
const emailStatuses = historyOf("email");
const pushStatuses = historyOf("push");

export const emailHistory: RouteHandler<typeof routes.email.history, AppEnv> = async (c) =>
  c.json(await emailStatuses(c, c.req.valid("param").notification_id, c.req.valid("query")), 200);

export const pushHistory: RouteHandler<typeof routes.push.history, AppEnv> = async (c) =>
  c.json(await pushStatuses(c, c.req.valid("param").notification_id, c.req.valid("query")), 200);

export const forUser: RouteHandler<typeof routes.forUser, AppEnv> = async (c) => {
  const id = userIdParam(c.req.valid("param").id);
  const { page, limit, channel, status } = c.req.valid("query");
  await authorizeUserAccess(c, id, { services: true });
  const found = await userNotifications(c.get("db"), id, { channel, status }, { page, limit });
  return c.json(
    okList("Notifications retrieved", found.entries, pageMeta(found.total, page, limit)),
    200,
  );
};
