/**
 * Raising a session's assurance (a second factor shown, the password typed again) and the access
 * token that says so. The session row is the source: refreshes carry its level and time forward.
 */
import { and, eq, isNull, sql } from "drizzle-orm";
import type { Assurance } from "../app-env";
import { signAccessToken } from "../auth/jwt";
import type { Config } from "../config";
import type { Db } from "../db/client";
import { type Role, sessions } from "../db/schema";

/** A session authenticated longer ago than this must re-authenticate for a sensitive action. */
export const RECENT_AUTH_SECONDS = 10 * 60;

/** The assurance after showing `method` now: `aal2` for a second factor, the method added. */
export function raised(current: Assurance, method: string | null, now: Date): Assurance {
  const amr = method && !current.amr.includes(method) ? [...current.amr, method] : current.amr;
  return {
    aal: method ? "aal2" : current.aal,
    amr,
    authTime: Math.floor(now.getTime() / 1000),
  };
}

/** The UPDATE moving a live session to `assurance` (guard the batch with `sessionLive`). */
export function raiseSession(db: Db, sessionId: string, assurance: Assurance) {
  return db
    .update(sessions)
    .set({
      aal: assurance.aal,
      amr: assurance.amr,
      authenticatedAt: new Date(assurance.authTime * 1000),
    })
    .where(and(eq(sessions.id, sessionId), isNull(sessions.revokedAt)));
}

/** A new access token for the same session at its new assurance (the refresh token stays). */
export async function reissuedAccessToken(
  config: Config,
  user: { id: string; email: string; role: Role },
  sessionId: string,
  assurance: Assurance,
  now: Date,
) {
  const access = await signAccessToken(
    config,
    { userId: user.id, sid: sessionId, email: user.email, role: user.role, assurance },
    now.getTime(),
  );
  return {
    access_token: access.token,
    token_type: "Bearer" as const,
    expires_in: access.expiresIn,
    aal: assurance.aal,
    amr: assurance.amr,
  };
}

/** "The session is not revoked", for a batch's guard (src/mfa/guard.ts). */
export const sessionLive = (sessionId: string) =>
  sql`exists (select 1 from ${sessions} where ${sessions.id} = ${sessionId} and ${sessions.revokedAt} is null)`;
