/**
 * Sessions and refresh tokens (DESIGN §5).
 *
 * One session per login. Its refresh token is opaque and stored only as a SHA-256. Each refresh
 * rotates it with one conditional UPDATE, so of two concurrent refreshes of the same token exactly
 * one rotates it. Every hash a session ever issued is kept (`refresh_tokens`), so any earlier token
 * presented again is recognised:
 * - the previous token inside the grace window is a client that lost the response: it gets a pair;
 * - any other earlier token (including the pair that lost response carried) is a replay — someone
 *   else may hold the session — and the whole session is revoked, audited and announced;
 * - a token nobody issued is just invalid (so garbage cannot be used to revoke others' sessions).
 *
 * Revocation is recorded in D1 and the session id is put on a KV deny-list that the auth
 * middleware checks, because access tokens are stateless and would otherwise live until they expire.
 */
import { and, eq, gt, isNull, ne, sql } from "drizzle-orm";
import { auditEntry, type RequestMeta } from "../audit/audit-log";
import type { Config } from "../config";
import type { Db } from "../db/client";
import { refreshTokens, sessions, users } from "../db/schema";
import { ApiError } from "../errors";
import { outboxEvent } from "../events/outbox";
import { kvKeys, revokedSessionTtl } from "../kv";
import { errorDetail, log } from "../logging";
import { selectUserWithPreferences, type UserWithPreferences } from "../routes/users/user-object";
import { randomToken, sha256Hex } from "./tokens";

const USER_AGENT_MAX = 512;

export const REVOCATION_REASONS = [
  "logout",
  "logout_all",
  "refresh_token_reused",
  "deactivated",
  "password_changed",
  "password_reset",
  "revoked_by_user",
  "admin",
] as const;
export type RevocationReason = (typeof REVOCATION_REASONS)[number];

const invalidRefreshToken = () =>
  new ApiError("invalid_token", "Refresh token is invalid or expired");

/** The SQL condition "this session's user is active". */
const userIsActive = sql`exists (select 1 from ${users} where ${users.id} = ${sessions.userId} and ${users.isActive} = 1)`;

export interface NewSession {
  sessionId: string;
  refreshToken: string;
  /** The INSERTs (session, first token), to run in the caller's batch. */
  inserts: readonly [ReturnType<typeof insertSession>, ReturnType<typeof recordToken>];
}

function insertSession(db: Db, values: typeof sessions.$inferInsert) {
  return db.insert(sessions).values(values);
}

function recordToken(db: Db, tokenHash: string, sessionId: string, now: Date) {
  return db.insert(refreshTokens).values({ tokenHash, sessionId, issuedAt: now });
}

/** A new session for a login or registration; the caller commits `inserts` with its other writes. */
export async function newSession(
  db: Db,
  config: Config,
  userId: string,
  meta: RequestMeta,
  now: Date,
): Promise<NewSession> {
  const refreshToken = randomToken();
  const sessionId = crypto.randomUUID();
  const hash = await sha256Hex(refreshToken);
  return {
    sessionId,
    refreshToken,
    inserts: [
      insertSession(db, {
        id: sessionId,
        userId,
        refreshTokenHash: hash,
        expiresAt: new Date(now.getTime() + config.refreshTokenTtlSeconds * 1000),
        createdAt: now,
        lastUsedAt: now,
        ip: meta.ip,
        userAgent: meta.userAgent?.slice(0, USER_AGENT_MAX) ?? null,
      }),
      recordToken(db, hash, sessionId, now),
    ],
  };
}

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
  user: UserWithPreferences;
}

/**
 * Exchanges a refresh token for a new one. Throws `invalid_token` for anything unknown, expired or
 * revoked, and `refresh_token_reused` (after revoking the session) for a replayed earlier token.
 */
export async function rotateRefreshToken(
  db: Db,
  kv: KVNamespace,
  config: Config,
  presented: string,
  meta: RequestMeta,
  now: Date,
): Promise<RotatedSession> {
  const presentedHash = await sha256Hex(presented);
  const refreshToken = randomToken();
  const newHash = await sha256Hex(refreshToken);
  const userAgent = meta.userAgent?.slice(0, USER_AGENT_MAX) ?? null;

  // The common case in one round trip: rotate if the token is current, record the new hash, and
  // read the user through it (a batch runs in order, in one transaction).
  const [rotated, , found] = await db.batch([
    db
      .update(sessions)
      .set({
        refreshTokenHash: newHash,
        previousRefreshTokenHash: presentedHash,
        rotatedAt: now,
        lastUsedAt: now,
        ip: meta.ip,
        userAgent,
      })
      .where(
        and(
          eq(sessions.refreshTokenHash, presentedHash),
          isNull(sessions.revokedAt),
          gt(sessions.expiresAt, now),
          userIsActive,
        ),
      )
      .returning({ id: sessions.id }),
    recordIssuedToken(db, newHash, now),
    selectUserWithPreferences(db)
      .innerJoin(sessions, eq(sessions.userId, users.id))
      .where(eq(sessions.refreshTokenHash, newHash)),
  ]);
  const session = rotated[0];
  const user = found[0];
  if (session && user) return { sessionId: session.id, refreshToken, user };

  // Not the current token. Did this service ever issue it, and for which session?
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
    .where(eq(refreshTokens.tokenHash, presentedHash))
    .limit(1);
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
    const [regranted, , regrantedUser] = await db.batch([
      db
        .update(sessions)
        .set({ refreshTokenHash: newHash, lastUsedAt: now, ip: meta.ip, userAgent })
        .where(
          and(
            eq(sessions.id, known.sessionId),
            eq(sessions.refreshTokenHash, known.current),
            eq(sessions.previousRefreshTokenHash, presentedHash),
            isNull(sessions.revokedAt),
            userIsActive,
          ),
        )
        .returning({ id: sessions.id }),
      recordIssuedToken(db, newHash, now),
      selectUserWithPreferences(db)
        .innerJoin(sessions, eq(sessions.userId, users.id))
        .where(eq(sessions.refreshTokenHash, newHash)),
    ]);
    const again = regranted[0];
    const againUser = regrantedUser[0];
    if (again && againUser) return { sessionId: again.id, refreshToken, user: againUser };
    throw invalidRefreshToken();
  }

  // A replay of an earlier token outside the grace window: someone else may hold this session.
  const [revoked] = await db.batch([
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
      { user_id: known.userId, session_id: known.sessionId, ip: meta.ip, user_agent: userAgent },
      now,
    ),
  ]);
  await denySessions(kv, config, [known.sessionId, ...revoked.map((s) => s.id)]);
  log("warn", "refresh_token_reused", {
    correlation_id: meta.correlationId,
    user_id: known.userId,
    session_id: known.sessionId,
  });
  throw new ApiError(
    "refresh_token_reused",
    "Refresh token was already used; the session has been revoked",
  );
}

/**
 * The UPDATE that revokes sessions still active: one session, all sessions of a user, or all but
 * one (e.g. the current one after a password change). RETURNING the revoked ids, which the caller
 * passes to `denySessions` after the batch commits.
 */
export function revokeSessions(
  db: Db,
  target: { sessionId: string; userId?: string } | { userId: string; exceptSessionId?: string },
  reason: RevocationReason,
  now: Date,
) {
  const conditions = [isNull(sessions.revokedAt)];
  if ("sessionId" in target) {
    conditions.push(eq(sessions.id, target.sessionId));
    if (target.userId) conditions.push(eq(sessions.userId, target.userId));
  } else {
    conditions.push(eq(sessions.userId, target.userId));
    if (target.exceptSessionId) conditions.push(ne(sessions.id, target.exceptSessionId));
  }
  return db
    .update(sessions)
    .set({ revokedAt: now, revokedReason: reason })
    .where(and(...conditions))
    .returning({ id: sessions.id });
}

const DENY_ATTEMPTS = 3;

/**
 * Puts revoked session ids on the KV deny-list for as long as their access tokens may live,
 * retrying a failed write: D1 already says "revoked", and a client retrying the request would find
 * nothing left to revoke, so this is the only chance to deny the tokens quickly. KV is eventually
 * consistent: seconds in the same location, up to about a minute worldwide.
 */
export async function denySessions(kv: KVNamespace, config: Config, sessionIds: string[]) {
  const expirationTtl = revokedSessionTtl(config.accessTokenTtlSeconds);
  const pending = new Set(sessionIds);
  for (let attempt = 1; pending.size > 0; attempt++) {
    const results = await Promise.allSettled(
      [...pending].map(async (sid) => {
        await kv.put(kvKeys.revokedSession(sid), "1", { expirationTtl });
        pending.delete(sid);
      }),
    );
    if (pending.size === 0) return;
    const failure = results.find((r) => r.status === "rejected");
    if (attempt >= DENY_ATTEMPTS) {
      log("error", "deny_list_write_failed", {
        sessions: [...pending],
        detail: failure?.status === "rejected" ? errorDetail(failure.reason) : undefined,
      });
      throw new ApiError(
        "service_unavailable",
        "Sessions were revoked but could not be propagated",
      );
    }
    await new Promise((resolve) => setTimeout(resolve, 50 * 2 ** attempt));
  }
}

export async function isSessionDenied(kv: KVNamespace, sessionId: string): Promise<boolean> {
  return (await kv.get(kvKeys.revokedSession(sessionId))) !== null;
}
