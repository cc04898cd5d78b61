/**
 * Changing preferences: the row, its `preferences.updated` event and (after the commit) the cache,
 * written together — whether the change comes from /users/preferences/ or from the channel
 * switches of a profile update.
 */
import { and, eq } from "drizzle-orm";
import type { RequestMeta, Scope } from "../app-env";
import type { Db } from "../db/client";
import { type PreferencesRow, preferences, users } from "../db/schema";
import { ApiError, fieldError } from "../errors";
import { commit, outboxEvent } from "../events/outbox";
import { writePreferencesCache } from "./cache";
import {
  PREFERENCE_DEFAULTS,
  PREFERENCE_FIELDS,
  type Preferences,
  type PreferencesInput,
  quietHoursIssue,
  toPreferencesObject,
} from "./preferences";

const inactive = () => new ApiError("invalid_token", "User not found or inactive");

/** The stored preferences of an active user, or the 401 a deactivated account's token gets. */
export async function activeUserPreferences(db: Db, userId: string): Promise<PreferencesRow> {
  const [found] = await db
    .select({ row: preferences })
    .from(preferences)
    .innerJoin(users, eq(users.id, preferences.user_id))
    .where(and(eq(preferences.user_id, userId), eq(users.isActive, true)))
    .limit(1);
  if (!found) throw inactive();
  return found.row;
}

/**
 * The statements of one preferences change, to commit in the caller's batch, or null when `write`
 * changes nothing. Only the fields in `write` are written, so concurrent updates of other fields
 * survive; the event carries the names that changed and the whole object after the change.
 */
export function preferencesChange(
  db: Db,
  meta: RequestMeta,
  current: Preferences & { user_id: string },
  write: PreferencesInput,
  now: Date,
) {
  const changed = PREFERENCE_FIELDS.filter(
    (field) => write[field] !== undefined && write[field] !== current[field],
  );
  if (changed.length === 0) return null;
  const { user_id: userId, ...before } = current;
  const after = { ...before, ...write, updated_at: now.toISOString() };
  return [
    db
      .update(preferences)
      .set({ ...write, updated_at: now })
      .where(eq(preferences.user_id, userId))
      .returning(),
    outboxEvent(
      db,
      meta,
      "preferences.updated",
      { user_id: userId, changed, preferences: after },
      now,
    ),
  ] as const;
}

/**
 * A preferences change from the API: PUT (`replace`) resets what it does not send to the
 * defaults, PATCH keeps it.
 */
export async function updatePreferences(
  { db, kv, meta }: Scope,
  userId: string,
  input: PreferencesInput,
  replace: boolean,
): Promise<Preferences> {
  const row = await activeUserPreferences(db, userId);
  const current = toPreferencesObject(row);
  const next = { ...(replace ? PREFERENCE_DEFAULTS : current), ...input };
  const issue = quietHoursIssue(next.quiet_hours_start, next.quiet_hours_end);
  if (issue) throw fieldError(issue.field, issue.message);

  const change = preferencesChange(
    db,
    meta,
    { ...current, user_id: userId },
    replace ? next : input,
    new Date(),
  );
  if (!change) return current;
  const [[updated]] = await commit(db, meta, change);
  if (!updated) throw inactive();
  await writePreferencesCache(kv, userId, updated);
  return toPreferencesObject(updated);
}
