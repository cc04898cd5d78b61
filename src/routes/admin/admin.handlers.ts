import type { RouteHandler } from "@hono/zod-openapi";
import { and, count, desc, eq, or, type SQL, sql } from "drizzle-orm";
import type { SQLiteColumn } from "drizzle-orm/sqlite-core";
import type { AppEnv } from "../../app-env";
import { auditEntry } from "../../audit/audit-log";
import { denySessions, revokeSessions } from "../../auth/sessions";
import { getDb, runBatch } from "../../db/client";
import { users } from "../../db/schema";
import { ApiError } from "../../errors";
import { outboxEvent } from "../../events/outbox";
import { requestMeta } from "../../middleware/request-context";
import { userIdParam } from "../lookups/lookups.handlers";
import { ok } from "../openapi";
import { okList, pageMeta } from "../pagination";
import { selectUserWithPreferences, toUserObject } from "../users/user-object";
import type * as routes from "./admin.routes";

/**
 * Whether `column` contains q, ignoring ASCII case. `instr`, not LIKE: D1 refuses LIKE patterns
 * longer than 50 bytes (a search of 49 characters would fail), and q's `%` and `_` need no escaping.
 */
function contains(column: SQLiteColumn, q: string): SQL {
  // SQLite's lower() folds ASCII only; fold q the same way so "ÉB" still finds "Ébert".
  const folded = q.replace(/[A-Z]/g, (ch) => ch.toLowerCase());
  return sql`instr(lower(${column}), ${folded}) > 0`;
}

export const list: RouteHandler<typeof routes.list, AppEnv> = async (c) => {
  const { page, limit, q, is_active } = c.req.valid("query");
  const db = getDb(c.env);
  const conditions: (SQL | undefined)[] = [];
  if (is_active !== undefined) conditions.push(eq(users.isActive, is_active));
  if (q) {
    conditions.push(
      or(contains(users.email, q), contains(users.usernameKey, q), contains(users.name, q)),
    );
  }
  const where = and(...conditions);
  const [rows, [total]] = await db.batch([
    selectUserWithPreferences(db)
      .where(where)
      .orderBy(desc(users.createdAt), desc(users.id))
      .limit(limit)
      .offset((page - 1) * limit),
    db.select({ n: count() }).from(users).where(where),
  ]);
  return c.json(
    okList("Users retrieved", rows.map(toUserObject), pageMeta(total?.n ?? 0, page, limit)),
    200,
  );
};

export const update: RouteHandler<typeof routes.update, AppEnv> = async (c) => {
  const id = userIdParam(c.req.valid("param").id);
  const body = c.req.valid("json");
  const caller = c.get("caller");
  const db = getDb(c.env);
  const meta = requestMeta(c);
  const now = new Date();
  if (
    caller.kind === "user" &&
    caller.userId === id &&
    (body.role !== undefined || body.is_active !== undefined)
  ) {
    throw new ApiError("forbidden", "Admins cannot change their own role or status");
  }
  const [found] = await selectUserWithPreferences(db).where(eq(users.id, id)).limit(1);
  if (!found) throw new ApiError("not_found", "User not found");
  const { user } = found;
  const by = caller.kind === "user" ? caller.userId : null;

  const next = { ...user, updatedAt: now };
  const changed: string[] = [];
  const statements = [];
  let revoking = false;

  if (body.role !== undefined && body.role !== user.role) {
    next.role = body.role;
    changed.push("role");
    statements.push(
      auditEntry(db, meta, {
        userId: id,
        action: "role_changed",
        metadata: { from: user.role, to: body.role, by },
        at: now,
      }),
    );
  }
  if (body.is_active !== undefined && body.is_active !== user.isActive) {
    next.isActive = body.is_active;
    next.deletedAt = body.is_active ? null : now;
    changed.push("is_active");
    if (body.is_active) {
      statements.push(
        auditEntry(db, meta, {
          userId: id,
          action: "account_reactivated",
          metadata: { by },
          at: now,
        }),
      );
    } else {
      revoking = true;
      statements.push(
        auditEntry(db, meta, {
          userId: id,
          action: "account_deactivated",
          metadata: { by },
          at: now,
        }),
        outboxEvent(
          db,
          meta,
          "user.deactivated",
          { user_id: id, email: user.email, reason: "admin" },
          now,
        ),
      );
    }
  }
  if (changed.length === 0) return c.json(ok("User unchanged", toUserObject(found)), 200);

  statements.push(
    outboxEvent(
      db,
      meta,
      "user.updated",
      { user_id: id, email: user.email, username: user.username, name: user.name, changed },
      now,
    ),
  );
  const change = db
    .update(users)
    .set({ role: next.role, isActive: next.isActive, deletedAt: next.deletedAt, updatedAt: now })
    .where(eq(users.id, id));
  if (revoking) {
    const [, revoked] = await db.batch([
      change,
      revokeSessions(db, { userId: id }, "admin", now),
      ...statements,
    ]);
    await denySessions(
      c.env.KV,
      c.get("config"),
      revoked.map((s) => s.id),
    );
  } else {
    await runBatch(db, [change, ...statements]);
  }
  return c.json(
    ok("User updated", toUserObject({ user: next, preferences: found.preferences })),
    200,
  );
};
