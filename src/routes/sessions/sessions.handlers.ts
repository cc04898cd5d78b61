import type { RouteHandler } from "@hono/zod-openapi";
import { and, count, desc, eq, gt, isNull } from "drizzle-orm";
import { z } from "zod";
import type { AppEnv } from "../../app-env";
import { auditEntry } from "../../audit/audit-log";
import { denySessions, revokeSessions } from "../../auth/sessions";
import { getDb } from "../../db/client";
import { sessions } from "../../db/schema";
import { ApiError } from "../../errors";
import { requestMeta } from "../../middleware/request-context";
import { ok } from "../openapi";
import { okList, pageMeta } from "../pagination";
import type * as routes from "./sessions.routes";

export const list: RouteHandler<typeof routes.list, AppEnv> = async (c) => {
  const { page, limit } = c.req.valid("query");
  const auth = c.get("auth");
  const db = getDb(c.env);
  const now = new Date();
  const active = and(
    eq(sessions.userId, auth.userId),
    isNull(sessions.revokedAt),
    gt(sessions.expiresAt, now),
  );
  const [rows, [total]] = await db.batch([
    db
      .select()
      .from(sessions)
      .where(active)
      .orderBy(desc(sessions.lastUsedAt), desc(sessions.id))
      .limit(limit)
      .offset((page - 1) * limit),
    db.select({ n: count() }).from(sessions).where(active),
  ]);
  const data = rows.map((s) => ({
    id: s.id,
    created_at: s.createdAt.toISOString(),
    last_used_at: s.lastUsedAt.toISOString(),
    expires_at: s.expiresAt.toISOString(),
    ip: s.ip,
    user_agent: s.userAgent,
    current: s.id === auth.sid,
  }));
  return c.json(okList("Sessions retrieved", data, pageMeta(total?.n ?? 0, page, limit)), 200);
};

export const revoke: RouteHandler<typeof routes.revoke, AppEnv> = async (c) => {
  const { id } = c.req.valid("param");
  const auth = c.get("auth");
  const db = getDb(c.env);
  const now = new Date();
  const notFound = () => new ApiError("not_found", "Session not found");
  if (!z.uuid().safeParse(id).success) throw notFound();

  // Only the caller's own, still active session: anyone else's is indistinguishable from none.
  const [target] = await db
    .select({ id: sessions.id })
    .from(sessions)
    .where(and(eq(sessions.id, id), eq(sessions.userId, auth.userId), isNull(sessions.revokedAt)))
    .limit(1);
  if (!target) throw notFound();

  const [revoked] = await db.batch([
    revokeSessions(db, { sessionId: id, userId: auth.userId }, "revoked_by_user", now),
    auditEntry(db, requestMeta(c), {
      userId: auth.userId,
      action: "session_revoked",
      metadata: { session_id: id, current: id === auth.sid },
      at: now,
    }),
  ]);
  await denySessions(c.env.KV, c.get("config"), [id, ...revoked.map((s) => s.id)]);
  return c.json(ok("Session revoked", null), 200);
};
