/**
 * Where and how a user may be notified: who they are, their preferences and their active push
 * devices — for the push-request consumer, the delivery-target lookup and Workers RPC.
 */
import { and, desc, eq } from "drizzle-orm";
import type { Db } from "../db/client";
import { type PLATFORMS, type PROVIDERS, pushTokens, users } from "../db/schema";
import { readPreferences } from "../preferences/cache";
import type { Preferences } from "../preferences/preferences";

interface PushTarget {
  id: string;
  /** The device token: only services see it. */
  token: string;
  platform: (typeof PLATFORMS)[number];
  provider: (typeof PROVIDERS)[number];
  device_id: string | null;
  device_name: string | null;
}

export interface NotificationTargets {
  user_id: string;
  email: string;
  name: string;
  is_active: boolean;
  email_verified: boolean;
  preferences: Preferences;
  /**
   * The channel switches under the names the replaced services' email and push services read;
   * false for a deactivated account, whatever its preferences say.
   */
  email_enabled: boolean;
  push_enabled: boolean;
  /** Active devices, most recently updated first. */
  push_devices: PushTarget[];
  /**
   * The primary device token, for callers that know one token per user: the first device's,
   * else the account's own `push_token` (kept for older clients); null when there is none.
   */
  push_token: string | null;
}

/**
 * Everything a delivery decision needs about a user: who they are, their preferences (from the KV
 * cache when present) and their active push devices. Null for an unknown user.
 */
export async function notificationTargets(
  db: Db,
  kv: KVNamespace,
  userId: string,
): Promise<NotificationTargets | null> {
  const [[[user], devices], prefs] = await Promise.all([
    db.batch([
      db
        .select({
          id: users.id,
          email: users.email,
          name: users.name,
          isActive: users.isActive,
          emailVerifiedAt: users.emailVerifiedAt,
          pushToken: users.pushToken,
        })
        .from(users)
        .where(eq(users.id, userId))
        .limit(1),
      db
        .select()
        .from(pushTokens)
        .where(and(eq(pushTokens.userId, userId), eq(pushTokens.isActive, true)))
        .orderBy(desc(pushTokens.updatedAt), desc(pushTokens.id)),
    ]),
    readPreferences(kv, db, userId),
  ]);
  if (!user || !prefs) return null;
  const active = user.isActive ? devices : [];
  return {
    user_id: user.id,
    email: user.email,
    name: user.name,
    is_active: user.isActive,
    email_verified: user.emailVerifiedAt !== null,
    preferences: prefs,
    email_enabled: user.isActive && prefs.email,
    push_enabled: user.isActive && prefs.push,
    push_devices: active.map((d) => ({
      id: d.id,
      token: d.token,
      platform: d.platform,
      provider: d.provider,
      device_id: d.deviceId,
      device_name: d.deviceName,
    })),
    push_token: user.isActive ? (active[0]?.token ?? user.pushToken) : null,
  };
}
