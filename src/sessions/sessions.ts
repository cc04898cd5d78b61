/**
 * Sessions (DESIGN §5): one per login, ended by logout, password changes, deactivation or an
 * admin. Revocation is recorded in D1 and the session id is put on a KV deny-list that the auth
 * middleware checks, because access tokens are stateless and would otherwise live until they
 * expire. Refresh-token rotation is in refresh.ts.
 */
import { and, count, desc, eq, gt, isNull, ne } from "drizzle-orm";
import type { Assurance, Scope } from "../app-env";
import { type AuditAction, auditEntry } from "../audit/audit-log";
import { randomToken, sha256Hex } from "../auth/tokens";
import type { Config } from "../config";
import type { Db } from "../db/client";
import { refreshTokens, type SessionRow, sessions } from "../db/schema";
import { ApiError } from "../errors";
import { commit } from "../events/outbox";
import { isRevokedSession, putRevokedSession } from "../kv";
import { errorDetail, log } from "../logging";

export const USER_AGENT_MAX = 512;

export type RevocationReason =
  | "logout"
  | "logout_all"
  | "refresh_token_reused"
  | "deactivated"
  | "password_changed"
  | "password_reset"
  | "revoked_by_user"
  | "address_claimed"
  | "admin";

export interface NewSession {
  sessionId: string;
  refreshToken: string;
  assurance: Assurance;
  /** The INSERTs (session, first token), to run in the caller's batch. */
  inserts: readonly [ReturnType<typeof insertSession>, ReturnType<typeof recordToken>];
}

function insertSession(db: Db, values: typeof sessions.$inferInsert) {
  return db.insert(sessions).values(values);
}

function recordToken(db: Db, tokenHash: string, sessionId: string, now: Date) {
  return db.insert(refreshTokens).values({ tokenHash, sessionId, issuedAt: now });
}

/** The assurance of a session as stored, for the access tokens it issues. */
export function sessionAssurance(
  row: Pick<SessionRow, "aal" | "amr" | "authenticatedAt" | "createdAt">,
): Assurance {
  const at = row.authenticatedAt ?? row.createdAt;
  return { aal: row.aal, amr: row.amr, authTime: Math.floor(at.getTime() / 1000) };
}

/**
 * A new session for a sign-in (a password alone unless `how` says otherwise); the caller commits
 * `inserts` with its other writes.
 */
export async function newSession(
  { db, config, meta }: Scope,
  userId: string,
  now: Date,
  how: Pick<Assurance, "aal" | "amr"> = { aal: "aal1", amr: ["pwd"] },
): Promise<NewSession> {
  const refreshToken = randomToken();
  const sessionId = crypto.randomUUID();
  const hash = await sha256Hex(refreshToken);
  return {
    sessionId,
    refreshToken,
    assurance: { ...how, authTime: Math.floor(now.getTime() / 1000) },
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
        aal: how.aal,
        amr: how.amr,
        authenticatedAt: now,
      }),
      recordToken(db, hash, sessionId, now),
    ],
  };
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
  const pending = new Set(sessionIds);
  for (let attempt = 1; pending.size > 0; attempt++) {
    const results = await Promise.allSettled(
      [...pending].map(async (sid) => {
        await putRevokedSession(kv, sid, config.accessTokenTtlSeconds);
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

export function isSessionDenied(kv: KVNamespace, sessionId: string): Promise<boolean> {
  return isRevokedSession(kv, sessionId);
}

/**
 * Ends sessions on the user's own request (logout, "log out that device"): revokes them with an
 * audit row in one batch, then denies them. `alsoDeny` is denied even if D1 already had it
 * revoked, so retrying an interrupted logout still takes effect. Returns how many were revoked.
 */
export async function endSessions(
  { db, kv, config, meta }: Scope,
  target: Parameters<typeof revokeSessions>[1],
  reason: RevocationReason,
  audit: { userId: string; action: AuditAction; metadata: Record<string, unknown> },
  alsoDeny: string,
): Promise<number> {
  const now = new Date();
  const [revoked] = await commit(db, meta, [
    revokeSessions(db, target, reason, now),
    auditEntry(db, meta, { ...audit, at: now }),
  ]);
  await denySessions(kv, config, [alsoDeny, ...revoked.map((s) => s.id)]);
  return revoked.length;
}

/** One of the user's sessions that is still active, or 404 (anyone else's is like none). */
export async function ownActiveSession(db: Db, userId: string, sessionId: string) {
  const [target] = await db
    .select({ id: sessions.id })
    .from(sessions)
    .where(and(eq(sessions.id, sessionId), eq(sessions.userId, userId), isNull(sessions.revokedAt)))
    .limit(1);
  if (!target) throw new ApiError("not_found", "Session not found");
  return target;
}

/** A page of the user's active sessions, most recently used first, and how many there are. */
export async function listSessions(
  db: Db,
  userId: string,
  page: { page: number; limit: number },
  now: Date,
): Promise<{ rows: SessionRow[]; total: number }> {
  const active = and(
    eq(sessions.userId, userId),
    isNull(sessions.revokedAt),
    gt(sessions.expiresAt, now),
  );
  const [rows, [total]] = await db.batch([
    db
      .select()
      .from(sessions)
      .where(active)
      .orderBy(desc(sessions.lastUsedAt), desc(sessions.id))
      .limit(page.limit)
      .offset((page.page - 1) * page.limit),
    db.select({ n: count() }).from(sessions).where(active),
  ]);
  return { rows, total: total?.n ?? 0 };
}

/** An admin ends every session of a user (audited with who did it); returns how many. */
export async function endUserSessionsAsAdmin(scope: Scope, userId: string, adminId: string) {
  const { db, kv, config, meta } = scope;
  const now = new Date();
  const [revoked] = await commit(db, meta, [
    revokeSessions(db, { userId }, "admin", now),
    auditEntry(db, meta, {
      userId,
      action: "sessions_ended_by_admin",
      metadata: { by: adminId },
      at: now,
    }),
  ]);
  await denySessions(
    kv,
    config,
    revoked.map((s) => s.id),
  );
  return revoked.length;
}
