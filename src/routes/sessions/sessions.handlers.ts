import type { RouteHandler } from "@hono/zod-openapi";
import { z } from "zod";
import type { AppEnv } from "../../app-env";
import { ApiError } from "../../errors";
import { scope } from "../../middleware/request-context";
import { endSessions, listSessions, ownActiveSession } from "../../sessions/sessions";
import { ok } from "../openapi";
import { okList, pageMeta } from "../pagination";
import type * as routes from "./sessions.routes";

export const list: RouteHandler<typeof routes.list, AppEnv> = async (c) => {
  const query = c.req.valid("query");
  const auth = c.get("auth");
  const { rows, total } = await listSessions(c.get("db"), auth.userId, query, new Date());
  const data = rows.map((s) => ({
    id: s.id,
    created_at: s.createdAt.toISOString(),
    last_used_at: s.lastUsedAt.toISOString(),
    expires_at: s.expiresAt.toISOString(),
    ip: s.ip,
    user_agent: s.userAgent,
    current: s.id === auth.sid,
  }));
  return c.json(okList("Sessions retrieved", data, pageMeta(total, query.page, query.limit)), 200);
};

export const revoke: RouteHandler<typeof routes.revoke, AppEnv> = async (c) => {
  const { id } = c.req.valid("param");
  const { userId, sid } = c.get("auth");
  if (!z.uuid().safeParse(id).success) throw new ApiError("not_found", "Session not found");
  await ownActiveSession(c.get("db"), userId, id);
  await endSessions(
    scope(c),
    { sessionId: id, userId },
    "revoked_by_user",
    { userId, action: "session_revoked", metadata: { session_id: id, current: id === sid } },
    id,
  );
  return c.json(ok("Session revoked", null), 200);
};
