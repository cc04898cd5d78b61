/**
 * Refresh-token rotation (DESIGN §5). A refresh token is opaque and stored only as a SHA-256. Each
 * refresh rotates it with one conditional UPDATE, so of two concurrent refreshes of the same token
 * exactly one rotates it. Every hash a session ever issued is kept (`refresh_tokens`), so any
 * earlier token presented again is recognised:
 * - the previous token inside the grace window is a client that lost the response: it gets a pair;
 * - any other earlier token (including the pair that lost response carried) is a replay — someone
 *   else may hold the session — and the whole session is revoked, audited and announced;
 * - a token nobody issued is just invalid (so garbage cannot be used to revoke others' sessions).
 */
import { and, eq, gt, isNull, type SQL, sql } from "drizzle-orm";
import type { Assurance, Scope } from "../app-env";
import { auditEntry } from "../audit/audit-log";
import { randomToken, sha256Hex } from "../auth/tokens";
import type { Db } from "../db/client";
import { refreshTokens, sessions, users } from "../db/schema";
import { ApiError } from "../errors";
import { commit, outboxEvent } from "../events/outbox";
import { log } from "../logging";
import { selectUserWithPreferences, type UserWithPreferences } from "../users/user-object";
import { denySessions, revokeSessions, sessionAssurance, USER_AGENT_MAX } from "./sessions";

const invalidRefreshToken = () =>
  new ApiError("invalid_token", "Refresh token is invalid or expired");

/** The SQL condition "this session's user is active". */
const userIsActive = sql`exists (select 1 from ${users} where ${users.id} = ${sessions.userId} and ${users.isActive} = 1)`;

/**
 * Records a hash just made current by an UPDATE earlier in the same batch. Written as INSERT ...
 * SELECT through the session that now holds it, so nothing is recorded if that UPDATE did not
 * happen.
 */
function recordIssuedToken(db: Db, tokenHash: string, now: Date) {
  return db.insert(refreshTokens).select(
    db
      .select({
        tokenHash: sql<string>`${tokenHash}`.as("token_hash"),
        sessionId: sessions.id,
        issuedAt: sql<number>`${now.getTime()}`.as("issued_at"),
      })
      .from(sessions)
      .where(eq(sessions.refreshTokenHash, tokenHash)),
  );
}

export interface RotatedSession {
  sessionId: string;
  refreshToken: string;
  assurance: Assurance;
  user: UserWithPreferences;
}

/**
 * Moves the session matching `where` (and still live, of an active user) onto a new refresh token
 * in one round trip: the conditional UPDATE, the new hash recorded, and the user read through it
 * (a batch runs in order, in one transaction). Null when nothing matched.
 */
async function moveToNewToken(
  db: Db,
  set: Partial<typeof sessions.$inferInsert>,
  where: SQL | undefined,
  now: Date,
): Promise<RotatedSession | null> {
  const refreshToken = randomToken();
  const newHash = await sha256Hex(refreshToken);
  const [moved, , found] = await db.batch([
    db
      .update(sessions)
      .set({ ...set, refreshTokenHash: newHash, lastUsedAt: now })
      .where(and(where, isNull(sessions.revokedAt), userIsActive))
      .returning({
        id: sessions.id,
        aal: sessions.aal,
        amr: sessions.amr,
        authenticatedAt: sessions.authenticatedAt,
        createdAt: sessions.createdAt,
      }),
    recordIssuedToken(db, newHash, now),
    selectUserWithPreferences(db)
      .innerJoin(sessions, eq(sessions.userId, users.id))
      .where(eq(sessions.refreshTokenHash, newHash)),
  ]);
  const session = moved[0];
  const user = found[0];
  return session && user
    ? { sessionId: session.id, refreshToken, user, assurance: sessionAssurance(session) }
    : null;
}

/** The session that once issued this token hash, with what rotation needs to know. */
async function issuedToken(db: Db, tokenHash: string) {
  const [known] = await db
    .select({
      sessionId: sessions.id,
      userId: sessions.userId,
      current: sessions.refreshTokenHash,
      previous: sessions.previousRefreshTokenHash,
      rotatedAt: sessions.rotatedAt,
      revokedAt: sessions.revokedAt,
      expiresAt: sessions.expiresAt,
      userActive: users.isActive,
    })
    .from(refreshTokens)
    .innerJoin(sessions, eq(sessions.id, refreshTokens.sessionId))
    .innerJoin(users, eq(users.id, sessions.userId))
    .where(eq(refreshTokens.tokenHash, tokenHash))
    .limit(1);
  return known;
}

/**
 * Exchanges a refresh token for a new one. Throws `invalid_token` for anything unknown, expired or
 * revoked, and `refresh_token_reused` (after revoking the session) for a replayed earlier token.
 */
export async function rotateRefreshToken(
  scope: Scope,
  presented: string,
  now: Date,
): Promise<RotatedSession> {
  const { db, config, meta } = scope;
  const presentedHash = await sha256Hex(presented);
  const client = { ip: meta.ip, userAgent: meta.userAgent?.slice(0, USER_AGENT_MAX) ?? null };

  // The common case: the presented token is the current one.
  const rotated = await moveToNewToken(
    db,
    { ...client, previousRefreshTokenHash: presentedHash, rotatedAt: now },
    and(eq(sessions.refreshTokenHash, presentedHash), gt(sessions.expiresAt, now)),
    now,
  );
  if (rotated) return rotated;

  // Not the current token. Did this service ever issue it, and for which session?
  const known = await issuedToken(db, presentedHash);
  // A deactivated account's tokens are simply dead; so is the current token when it failed to
  // rotate (which only a deactivated account or an expired session explains).
  if (
    !known ||
    known.revokedAt ||
    known.expiresAt <= now ||
    !known.userActive ||
    known.current === presentedHash
  ) {
    throw invalidRefreshToken();
  }

  const inGrace =
    known.previous === presentedHash &&
    known.rotatedAt !== null &&
    now.getTime() < known.rotatedAt.getTime() + config.refreshReuseGraceSeconds * 1000;
  if (inGrace) {
    // A client that lost the response to its refresh: issue a new pair. The pair that response
    // carried was never received (or the client raced itself); if it turns up later it is treated
    // as a replay like any other superseded token. `rotatedAt` stays, so repeated replays cannot
    // stretch the window.
    const regranted = await moveToNewToken(
      db,
      client,
      and(
        eq(sessions.id, known.sessionId),
        eq(sessions.refreshTokenHash, known.current),
        eq(sessions.previousRefreshTokenHash, presentedHash),
      ),
      now,
    );
    if (regranted) return regranted;
    throw invalidRefreshToken();
  }

  await revokeReplayedSession(scope, known, now);
  throw new ApiError(
    "refresh_token_reused",
    "Refresh token was already used; the session has been revoked",
  );
}

/** A replay of an earlier token outside the grace window: someone else may hold this session. */
async function revokeReplayedSession(
  { db, kv, config, meta }: Scope,
  known: { sessionId: string; userId: string },
  now: Date,
) {
  const [revoked] = await commit(db, meta, [
    revokeSessions(db, { sessionId: known.sessionId }, "refresh_token_reused", now),
    auditEntry(db, meta, {
      userId: known.userId,
      action: "refresh_token_reused",
      metadata: { session_id: known.sessionId },
      at: now,
    }),
    outboxEvent(
      db,
      meta,
      "security.refresh_token_reused",
      {
        user_id: known.userId,
        session_id: known.sessionId,
        ip: meta.ip,
        user_agent: meta.userAgent?.slice(0, USER_AGENT_MAX) ?? null,
      },
      now,
    ),
  ]);
  await denySessions(kv, config, [known.sessionId, ...revoked.map((s) => s.id)]);
  log("warn", "refresh_token_reused", {
    correlation_id: meta.correlationId,
    user_id: known.userId,
    session_id: known.sessionId,
  });
}
