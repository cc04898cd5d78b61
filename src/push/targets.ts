/**
 * Where and how a user may be notified: who they are, their preferences and their active push
 * devices — for the push-request consumer, the delivery-target lookup and Workers RPC.
 */
import { and, eq } from "drizzle-orm";
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
  push_devices: PushTarget[];
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
        })
        .from(users)
        .where(eq(users.id, userId))
        .limit(1),
      db
        .select()
        .from(pushTokens)
        .where(and(eq(pushTokens.userId, userId), eq(pushTokens.isActive, true))),
    ]),
    readPreferences(kv, db, userId),
  ]);
  if (!user || !prefs) return null;
  return {
    user_id: user.id,
    email: user.email,
    name: user.name,
    is_active: user.isActive,
    email_verified: user.emailVerifiedAt !== null,
    preferences: prefs,
    push_devices: user.isActive
      ? devices.map((d) => ({
          id: d.id,
          token: d.token,
          platform: d.platform,
          provider: d.provider,
          device_id: d.deviceId,
          device_name: d.deviceName,
        }))
      : [],
  };
}
