/**
 * Whether an access token is good right now, for other services (HTTP with a service key, and
 * Workers RPC): one implementation, so a revoked session is refused the same way everywhere.
 */
import { and, eq, gt, isNull } from "drizzle-orm";
import { verifyAccessToken } from "../auth/jwt";
import type { Config } from "../config";
import type { Db } from "../db/client";
import { sessions, users } from "../db/schema";
import { ApiError } from "../errors";
import { isSessionDenied } from "./sessions";

export type TokenValidation =
  | {
      valid: true;
      user_id: string;
      sid: string;
      email: string;
      role: "user" | "admin";
      /** ISO 8601: when the access token expires. */
      expires_at: string;
      aal: "aal1" | "aal2";
      amr: string[];
      /** ISO 8601: when the user last proved who they are (sign-in, step-up). */
      auth_time: string;
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
    aal: claims.aal,
    amr: claims.amr,
    auth_time: new Date(claims.authTime * 1000).toISOString(),
  };
}
