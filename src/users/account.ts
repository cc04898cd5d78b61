/**
 * An account's status and role (DESIGN §4): deactivation (a soft delete, by the owner or an admin)
 * ends every session; an admin can reactivate an account and change its role, never their own.
 */
import { and, count, desc, eq, or, type SQL, sql } from "drizzle-orm";
import type { SQLiteColumn } from "drizzle-orm/sqlite-core";
import type { RequestMeta, Scope } from "../app-env";
import { auditEntry } from "../audit/audit-log";
import type { Db } from "../db/client";
import { type Role, type UserRow, users } from "../db/schema";
import { ApiError } from "../errors";
import { commit, outboxEvent } from "../events/outbox";
import { denySessions, revokeSessions } from "../sessions/sessions";
import {
  legacyIdOf,
  selectUserWithPreferences,
  toUserObject,
  type UserObject,
  userUpdated,
} from "./user-object";

type Deactivator = { reason: "self"; by: null } | { reason: "admin"; by: string | null };

/** What deactivating an account writes besides the user row: sessions, audit, event. */
function deactivationWrites(
  db: Db,
  meta: RequestMeta,
  user: Pick<UserRow, "id" | "email" | "legacyId">,
  who: Deactivator,
  now: Date,
) {
  return [
    revokeSessions(db, { userId: user.id }, who.reason === "self" ? "deactivated" : "admin", now),
    auditEntry(db, meta, {
      userId: user.id,
      action: "account_deactivated",
      ...(who.reason === "admin" ? { metadata: { by: who.by } } : {}),
      at: now,
    }),
    outboxEvent(
      db,
      meta,
      "user.deactivated",
      { user_id: user.id, email: user.email, reason: who.reason, ...legacyIdOf(user) },
      now,
    ),
  ] as const;
}

const deactivate = (db: Db, userId: string, now: Date, set: Partial<UserRow> = {}) =>
  db
    .update(users)
    .set({ ...set, isActive: false, deletedAt: now, updatedAt: now })
    .where(eq(users.id, userId));

/** Deactivates an account and denies the sessions that ended. */
export async function deactivation(
  { db, kv, config, meta }: Scope,
  user: Pick<UserRow, "id" | "email" | "legacyId">,
  who: Deactivator,
): Promise<void> {
  const now = new Date();
  const [, revoked] = await commit(db, meta, [
    deactivate(db, user.id, now),
    ...deactivationWrites(db, meta, user, who, now),
  ]);
  await denySessions(
    kv,
    config,
    revoked.map((s) => s.id),
  );
}

/** The audit rows and `user.updated` event of an admin's change (deactivation's are apart). */
function accountChangeWrites(
  db: Db,
  meta: RequestMeta,
  user: UserRow,
  change: { role: Role | null; active: boolean | null; by: string | null },
  now: Date,
) {
  const changed = [
    ...(change.role ? ["role"] : []),
    ...(change.active !== null ? ["is_active"] : []),
  ];
  const { by } = change;
  return [
    ...(change.role
      ? [
          auditEntry(db, meta, {
            userId: user.id,
            action: "role_changed",
            metadata: { from: user.role, to: change.role, by },
            at: now,
          }),
        ]
      : []),
    ...(change.active
      ? [
          auditEntry(db, meta, {
            userId: user.id,
            action: "account_reactivated",
            metadata: { by },
            at: now,
          }),
        ]
      : []),
    userUpdated(db, meta, user, changed, now),
  ];
}

/** An admin's change of another account's role or status; returns the user object after it. */
export async function updateAccount(
  scope: Scope,
  adminId: string | null,
  targetId: string,
  change: { role?: Role | undefined; is_active?: boolean | undefined },
): Promise<{ user: UserObject; changed: boolean }> {
  const { db, kv, config, meta } = scope;
  if (adminId === targetId && (change.role !== undefined || change.is_active !== undefined)) {
    throw new ApiError("forbidden", "Admins cannot change their own role or status");
  }
  const [found] = await selectUserWithPreferences(db).where(eq(users.id, targetId)).limit(1);
  if (!found) throw new ApiError("not_found", "User not found");
  const { user } = found;
  const role = change.role !== undefined && change.role !== user.role ? change.role : null;
  const active =
    change.is_active !== undefined && change.is_active !== user.isActive ? change.is_active : null;
  if (role === null && active === null) return { user: toUserObject(found), changed: false };

  const now = new Date();
  const next: UserRow = {
    ...user,
    role: role ?? user.role,
    isActive: active ?? user.isActive,
    deletedAt: active === null ? user.deletedAt : active ? null : now,
    updatedAt: now,
  };
  const others = accountChangeWrites(db, meta, user, { role, active, by: adminId }, now);
  if (active === false) {
    const [, revoked] = await commit(db, meta, [
      deactivate(db, targetId, now, { role: next.role }),
      ...deactivationWrites(db, meta, user, { reason: "admin", by: adminId }, now),
      ...others,
    ]);
    await denySessions(
      kv,
      config,
      revoked.map((s) => s.id),
    );
  } else {
    const set = {
      role: next.role,
      isActive: next.isActive,
      deletedAt: next.deletedAt,
      updatedAt: now,
    };
    await commit(db, meta, [db.update(users).set(set).where(eq(users.id, targetId)), ...others]);
  }
  return { user: toUserObject({ user: next, preferences: found.preferences }), changed: true };
}

/**
 * Whether `column` contains q, ignoring ASCII case. `instr`, not LIKE: D1 refuses LIKE patterns
 * longer than 50 bytes (a search of 49 characters would fail), and q's `%` and `_` need no escaping.
 */
function contains(column: SQLiteColumn, q: string): SQL {
  // SQLite's lower() folds ASCII only; fold q the same way so "ÉB" still finds "Ébert".
  const folded = q.replace(/[A-Z]/g, (ch) => ch.toLowerCase());
  return sql`instr(lower(${column}), ${folded}) > 0`;
}

/** A page of users for admins, newest first, by search text and status. */
export async function searchUsers(
  db: Db,
  filter: { q?: string | undefined; is_active?: boolean | undefined },
  page: { page: number; limit: number },
): Promise<{ rows: UserObject[]; total: number }> {
  const conditions: (SQL | undefined)[] = [];
  if (filter.is_active !== undefined) conditions.push(eq(users.isActive, filter.is_active));
  if (filter.q) {
    conditions.push(
      or(
        contains(users.email, filter.q),
        contains(users.usernameKey, filter.q),
        contains(users.name, filter.q),
      ),
    );
  }
  const where = and(...conditions);
  const [rows, [total]] = await db.batch([
    selectUserWithPreferences(db)
      .where(where)
      .orderBy(desc(users.createdAt), desc(users.id))
      .limit(page.limit)
      .offset((page.page - 1) * page.limit),
    db.select({ n: count() }).from(users).where(where),
  ]);
  return { rows: rows.map(toUserObject), total: total?.n ?? 0 };
}
