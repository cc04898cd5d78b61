/**
 * Re-importing a user who is already here: only the fields the import's `update` list allows
 * change, in one batch with an audit row and `user.updated`; everything else stays as it is.
 */
import { and, eq, inArray } from "drizzle-orm";
import type { BatchItem } from "drizzle-orm/batch";
import type { Scope } from "../app-env";
import { auditEntry } from "../audit/audit-log";
import { classifyPasswordHash } from "../auth/passwords";
import { preferences, pushTokens, sessions, type UserRow, users } from "../db/schema";
import { commitAll } from "../events/outbox";
import { toPreferencesObject } from "../preferences/preferences";
import { preferencesChange } from "../preferences/update";
import { denySessions, revokeSessions } from "../sessions/sessions";
import { usernameKey } from "./identity";
import type { UpdatableField } from "./import-fields";
import { type ImportUser, importedDevices, storedPassword } from "./import-rows";
import { userUpdated } from "./user-object";

/** The user columns an update may set, with the names of what changed. */
function userChanges(existing: UserRow, row: ImportUser, allowed: Set<UpdatableField>) {
  const set: Partial<UserRow> = {};
  const changed: string[] = [];
  const warnings: string[] = [];
  const change = <K extends keyof UserRow>(field: UpdatableField, key: K, value: UserRow[K]) => {
    if (!allowed.has(field) || value === existing[key]) return;
    set[key] = value;
    if (!changed.includes(field)) changed.push(field);
  };
  change("email", "email", row.email);
  if (row.username !== undefined) {
    change("username", "username", row.username || null);
    if (set.username !== undefined) set.usernameKey = usernameKey(set.username);
  }
  const name = row.name ?? [row.first_name, row.last_name].filter(Boolean).join(" ");
  if (name) change("name", "name", name);
  change("is_active", "isActive", row.is_active);
  if (set.isActive !== undefined) set.deletedAt = set.isActive ? null : new Date();
  change("role", "role", row.role);
  if (allowed.has("email_verified") && row.email_verified !== (existing.emailVerifiedAt !== null)) {
    set.emailVerifiedAt = row.email_verified ? new Date() : null;
    changed.push("email_verified");
  }
  if (row.last_login_at !== undefined) {
    const at = row.last_login_at ? new Date(row.last_login_at) : null;
    if (at?.getTime() !== existing.lastLoginAt?.getTime())
      change("last_login_at", "lastLoginAt", at);
  }
  if (row.legacy_id !== undefined && existing.legacyId === null) {
    change("legacy_id", "legacyId", row.legacy_id);
  }
  if (allowed.has("password") && row.password_hash !== undefined) {
    const same =
      row.password_hash === existing.passwordHash ||
      (classifyPasswordHash(row.password_hash ?? "").kind !== "verifiable" &&
        existing.passwordHash.startsWith("!"));
    if (!same) {
      const password = storedPassword(row.password_hash);
      set.passwordHash = password.hash;
      changed.push("password");
      if (password.warning) warnings.push(password.warning);
    }
  }
  return { set, changed, warnings };
}

/** Applies what the import may change of an existing account; `changed` false when nothing. */
export async function updateImported(
  scope: Scope,
  existing: UserRow,
  row: ImportUser,
  opts: { update: readonly UpdatableField[]; dryRun: boolean },
): Promise<{ changed: boolean; warnings: string[] }> {
  const { db, kv, config, meta } = scope;
  const allowed = new Set(opts.update);
  const { set, changed, warnings } = userChanges(existing, row, allowed);
  const now = new Date();
  const statements: BatchItem<"sqlite">[] = [];

  if (allowed.has("preferences") && row.preferences) {
    const [current] = await db
      .select()
      .from(preferences)
      .where(eq(preferences.user_id, existing.id))
      .limit(1);
    const prefs = current
      ? preferencesChange(
          db,
          meta,
          { ...toPreferencesObject(current), user_id: existing.id },
          row.preferences,
          now,
        )
      : null;
    if (prefs) {
      statements.push(...prefs);
      changed.push("preferences");
    }
  }
  if (allowed.has("push_devices") && row.push_devices.length > 0) {
    const tokens = row.push_devices.map((d) => d.token);
    const held = await db
      .select({ token: pushTokens.token })
      .from(pushTokens)
      .where(and(eq(pushTokens.userId, existing.id), inArray(pushTokens.token, tokens)));
    const fresh = importedDevices(
      {
        ...row,
        push_devices: row.push_devices.filter((d) => !held.some((h) => h.token === d.token)),
      },
      existing.id,
      now,
    );
    if (fresh.length > 0) {
      statements.push(...fresh.map((d) => db.insert(pushTokens).values(d)));
      changed.push("push_devices");
    }
  }
  if (changed.length === 0) return { changed: false, warnings };
  if (opts.dryRun) return { changed: true, warnings };

  const next = { ...existing, ...set };
  const endsSessions = set.isActive === false || set.passwordHash !== undefined;
  const revoke = endsSessions
    ? revokeSessions(
        db,
        { userId: existing.id },
        set.isActive === false ? "admin" : "password_reset",
        now,
      )
    : null;
  await commitAll(db, meta, [
    ...(revoke ? [revoke] : []),
    ...(Object.keys(set).length > 0
      ? [
          db
            .update(users)
            .set({ ...set, updatedAt: now })
            .where(eq(users.id, existing.id)),
        ]
      : []),
    ...statements,
    auditEntry(db, meta, {
      userId: existing.id,
      action: "import_updated",
      metadata: { changed, ...(row.source ? { source: row.source } : {}) },
      at: now,
    }),
    userUpdated(db, meta, next, changed, now),
  ]);
  if (revoke) {
    // Which sessions the revocation ended is not returned by commitAll; deny them all: a
    // deny-list entry for a session already revoked is harmless.
    const ended = await db
      .select({ id: sessions.id })
      .from(sessions)
      .where(eq(sessions.userId, existing.id));
    await denySessions(
      kv,
      config,
      ended.map((s) => s.id),
    );
  }
  return { changed: true, warnings };
}
