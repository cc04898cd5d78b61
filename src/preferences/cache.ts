/**
 * The KV cache of preferences: read-through on a miss, written through by every change, so the
 * notification pipeline and GET /users/preferences/ read them without touching D1. KV is eventually
 * consistent: a reader in the same location sees its own write at once, elsewhere within about a
 * minute.
 */
import { eq } from "drizzle-orm";
import type { Db } from "../db/client";
import { type PreferencesRow, preferences } from "../db/schema";
import {
  deleteCachedPreferences,
  getCachedPreferences,
  kvKeys,
  parseCachedPreferences,
  putCachedPreferences,
} from "../kv";
import { errorDetail, log } from "../logging";
import { type Preferences, toPreferencesObject } from "./preferences";

/** The KV key of a user's cached preferences (for a read that fetches it with the deny-list). */
export const preferencesCacheKey = (userId: string) => kvKeys.preferences(userId);

/**
 * A user's preferences: from KV, else from D1 (then cached). Null if the user has none.
 * `prefetched` is the cache entry's text when the caller has read it already.
 */
export async function readPreferences(
  kv: KVNamespace,
  db: Db,
  userId: string,
  prefetched?: Promise<string | null>,
): Promise<Preferences | null> {
  const cached = prefetched
    ? parseCachedPreferences<Preferences>(await prefetched)
    : await getCachedPreferences<Preferences>(kv, userId);
  if (cached) return cached;
  const [row] = await db.select().from(preferences).where(eq(preferences.user_id, userId)).limit(1);
  if (!row) return null;
  const value = toPreferencesObject(row);
  // A write may have committed (and written through) since our read: never put an older row over
  // a newer one. What remains is the instant between this check and the put.
  const meanwhile = await getCachedPreferences<Preferences>(kv, userId);
  if (meanwhile && meanwhile.updated_at >= value.updated_at) return meanwhile;
  await writePreferencesCache(kv, userId, row);
  return value;
}

/**
 * Writes the committed preferences to the cache. If KV refuses, the entry is deleted instead so
 * no stale value is served; if that fails too, the TTL bounds the staleness (and it is logged).
 */
export async function writePreferencesCache(
  kv: KVNamespace,
  userId: string,
  row: PreferencesRow,
): Promise<void> {
  try {
    await putCachedPreferences(kv, userId, toPreferencesObject(row));
  } catch (err) {
    log("error", "preferences_cache_write_failed", { user_id: userId, detail: errorDetail(err) });
    await deleteCachedPreferences(kv, userId).catch(() => undefined);
  }
}
