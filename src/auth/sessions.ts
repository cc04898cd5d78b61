/**
 * Sessions and refresh tokens (DESIGN §5).
 *
 * One session per login. Its refresh token is opaque and stored only as a SHA-256. Each refresh
 * rotates it with one conditional UPDATE, so of two concurrent refreshes of the same token exactly
 * one rotates it. Presenting the previous token again is either a client that lost the response
 * (inside the grace window: it gets a fresh pair) or a replay of a stolen token (after the window:
 * the whole session is revoked and the event audited).
 *
 * Revocation is recorded in D1 and the session id is put on a KV deny-list that the auth
 * middleware checks, because access tokens are stateless and would otherwise live until they expire.
 */
import { and, eq, gt, isNull, ne, sql } from "drizzle-orm";
import { auditEntry, type RequestMeta } from "../audit/audit-log";
import type { Config } from "../config";
import type { Db } from "../db/client";
import { sessions, users } from "../db/schema";
import { ApiError } from "../errors";
import { outboxEvent } from "../events/outbox";
import { kvKeys, revokedSessionTtl } from "../kv";
import { log } from "../logging";
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

export interface NewSession {
  sessionId: string;
  refreshToken: string;
  /** The INSERT, to run in the caller's batch. */
  insert: ReturnType<typeof insertSession>;
}

function insertSession(
  db: Db,
  values: {
    id: string;
    userId: string;
    hash: string;
    meta: RequestMeta;
    now: Date;
    expiresAt: Date;
  },
) {
  return db.insert(sessions).values({
    id: values.id,
    userId: values.userId,
    refreshTokenHash: values.hash,
    expiresAt: values.expiresAt,
    createdAt: values.now,
    lastUsedAt: values.now,
    ip: values.meta.ip,
    userAgent: values.meta.userAgent?.slice(0, USER_AGENT_MAX) ?? null,
  });
}

/** A new session for a login or registration; the caller commits `insert` with its other writes. */
export async function newSession(
  db: Db,
  config: Config,
  userId: string,
  meta: RequestMeta,
  now: Date,
): Promise<NewSession> {
  const refreshToken = randomToken();
  const sessionId = crypto.randomUUID();
  const insert = insertSession(db, {
    id: sessionId,
    userId,
    hash: await sha256Hex(refreshToken),
    meta,
    now,
    expiresAt: new Date(now.getTime() + config.refreshTokenTtlSeconds * 1000),
  });
  return { sessionId, refreshToken, insert };
}

export interface RotatedSession {
  sessionId: string;
  refreshToken: string;
  user: UserWithPreferences;
}

/**
 * Exchanges a refresh token for a new one. Throws `invalid_token` for anything unknown, expired or
 * revoked, and `refresh_token_reused` (after revoking the session) for a replay outside the grace
 * window.
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

  // The common case in one round trip: rotate if the token is current, then read the user through
  // the new hash (statements in a batch run in order, in one transaction).
  const [rotated, found] = await db.batch([
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
          sql`exists (select 1 from ${users} where ${users.id} = ${sessions.userId} and ${users.isActive} = 1)`,
        ),
      )
      .returning({ id: sessions.id }),
    selectUserWithPreferences(db)
      .innerJoin(sessions, eq(sessions.userId, users.id))
      .where(eq(sessions.refreshTokenHash, newHash)),
  ]);
  const session = rotated[0];
  const user = found[0];
  if (session && user) {
    return {
      sessionId: session.id,
      refreshToken,
      user: { user: user.user, preferences: user.preferences },
    };
  }

  // Not the current token. Was it the previous one?
  const [previous] = await db
    .select({
      id: sessions.id,
      userId: sessions.userId,
      rotatedAt: sessions.rotatedAt,
      revokedAt: sessions.revokedAt,
      expiresAt: sessions.expiresAt,
    })
    .from(sessions)
    .where(eq(sessions.previousRefreshTokenHash, presentedHash))
    .limit(1);
  if (!previous || previous.revokedAt || previous.expiresAt <= now || !previous.rotatedAt) {
    throw new ApiError("invalid_token", "Refresh token is invalid or expired");
  }

  const graceEnds = previous.rotatedAt.getTime() + config.refreshReuseGraceSeconds * 1000;
  if (now.getTime() < graceEnds) {
    // A client that lost the response to its refresh: issue a new pair. `rotatedAt` is left alone
    // so repeated replays cannot stretch the window.
    const [regranted, regrantedUser] = await db.batch([
      db
        .update(sessions)
        .set({ refreshTokenHash: newHash, lastUsedAt: now, ip: meta.ip, userAgent })
        .where(
          and(
            eq(sessions.id, previous.id),
            eq(sessions.previousRefreshTokenHash, presentedHash),
            isNull(sessions.revokedAt),
            sql`exists (select 1 from ${users} where ${users.id} = ${sessions.userId} and ${users.isActive} = 1)`,
          ),
        )
        .returning({ id: sessions.id }),
      selectUserWithPreferences(db)
        .innerJoin(sessions, eq(sessions.userId, users.id))
        .where(eq(sessions.refreshTokenHash, newHash)),
    ]);
    const again = regranted[0];
    const againUser = regrantedUser[0];
    if (again && againUser) {
      return {
        sessionId: again.id,
        refreshToken,
        user: { user: againUser.user, preferences: againUser.preferences },
      };
    }
    throw new ApiError("invalid_token", "Refresh token is invalid or expired");
  }

  // A replay after the grace window: someone else may hold this session. End it.
  const [revoked] = await db.batch([
    revokeSessions(db, { sessionId: previous.id }, "refresh_token_reused", now),
    auditEntry(db, meta, {
      userId: previous.userId,
      action: "refresh_token_reused",
      metadata: { session_id: previous.id },
      at: now,
    }),
    outboxEvent(
      db,
      meta,
      "security.refresh_token_reused",
      { user_id: previous.userId, session_id: previous.id, ip: meta.ip, user_agent: userAgent },
      now,
    ),
  ]);
  await denySessions(
    kv,
    config,
    revoked.map((s) => s.id),
  );
  log("warn", "refresh_token_reused", {
    correlation_id: meta.correlationId,
    user_id: previous.userId,
    session_id: previous.id,
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

/**
 * Puts revoked session ids on the KV deny-list for as long as their access tokens may live. KV is
 * eventually consistent: within seconds in the same location, about a minute worldwide.
 */
export async function denySessions(kv: KVNamespace, config: Config, sessionIds: string[]) {
  const expirationTtl = revokedSessionTtl(config.accessTokenTtlSeconds);
  await Promise.all(
    sessionIds.map((sid) => kv.put(kvKeys.revokedSession(sid), "1", { expirationTtl })),
  );
}

export async function isSessionDenied(kv: KVNamespace, sessionId: string): Promise<boolean> {
  return (await kv.get(kvKeys.revokedSession(sessionId))) !== null;
}
