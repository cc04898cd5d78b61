/**
 * What other services ask of this one — a user by id or email, whether an access token is valid,
 * where and how a user may be notified. One implementation, served both over HTTP (service key)
 * and over Workers RPC (src/rpc/user-service.ts), so both answer — and refuse — alike.
 */
import { and, eq, gt, isNull } from "drizzle-orm";
import { verifyAccessToken } from "./auth/jwt";
import { isSessionDenied } from "./auth/sessions";
import type { Config } from "./config";
import type { Db } from "./db/client";
import { type PLATFORMS, type PROVIDERS, pushTokens, sessions, users } from "./db/schema";
import { ApiError } from "./errors";
import { readPreferences } from "./routes/preferences/preferences.cache";
import type { Preferences } from "./routes/preferences/preferences.schemas";
import {
  selectUserWithPreferences,
  toUserObject,
  type UserObject,
} from "./routes/users/user-object";

/** A user object by id (active or not), or null. */
export async function userById(db: Db, id: string): Promise<UserObject | null> {
  const [row] = await selectUserWithPreferences(db).where(eq(users.id, id)).limit(1);
  return row ? toUserObject(row) : null;
}

/** A user object by email (normalised like registration does), or null. */
export async function userByEmail(db: Db, email: string): Promise<UserObject | null> {
  const [row] = await selectUserWithPreferences(db)
    .where(eq(users.email, email.trim().toLowerCase()))
    .limit(1);
  return row ? toUserObject(row) : null;
}

export type TokenValidation =
  | {
      valid: true;
      user_id: string;
      sid: string;
      email: string;
      role: "user" | "admin";
      /** ISO 8601: when the access token expires. */
      expires_at: string;
    }
  | { valid: false; reason: "invalid" | "expired" | "revoked" | "inactive" };

/**
 * Whether an access token is good right now: signature, claims and expiry (as the auth middleware
 * checks), then the revocation deny-list, then D1's truth — an active session of an active user —
 * so a caller gets a definite answer even where the deny-list has not propagated yet.
 */
export async function validateAccessToken(
  db: Db,
  kv: KVNamespace,
  config: Config,
  token: string,
  now: Date = new Date(),
): Promise<TokenValidation> {
  let claims: Awaited<ReturnType<typeof verifyAccessToken>>;
  try {
    claims = await verifyAccessToken(config, token);
  } catch (err) {
    if (err instanceof ApiError && err.code === "token_expired")
      return { valid: false, reason: "expired" };
    if (err instanceof ApiError && err.code === "invalid_token")
      return { valid: false, reason: "invalid" };
    throw err;
  }
  if (await isSessionDenied(kv, claims.sid)) return { valid: false, reason: "revoked" };
  const [row] = await db
    .select({
      active: users.isActive,
      email: users.email,
      role: users.role,
      sessionId: sessions.id,
    })
    .from(users)
    .leftJoin(
      sessions,
      and(
        eq(sessions.id, claims.sid),
        eq(sessions.userId, users.id),
        isNull(sessions.revokedAt),
        gt(sessions.expiresAt, now),
      ),
    )
    .where(eq(users.id, claims.userId))
    .limit(1);
  if (!row?.active) return { valid: false, reason: "inactive" };
  if (!row.sessionId) return { valid: false, reason: "revoked" };
  return {
    valid: true,
    user_id: claims.userId,
    sid: claims.sid,
    // The current values, which a role change or new email may have made newer than the token's.
    email: row.email,
    role: row.role,
    expires_at: new Date(claims.exp * 1000).toISOString(),
  };
}

export interface PushTarget {
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
