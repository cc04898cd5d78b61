/**
 * A user's second factors (README: Second factors): listing, authenticator-app enrolment, removal,
 * recovery codes, and an admin's reset. Every change is audited and announced in the batch that
 * makes it. Passkey registration is in passkeys.ts; checking a factor at sign-in in
 * second-factor.ts.
 */
import { and, eq, lt } from "drizzle-orm";
import type { AccessClaims, Scope } from "../app-env";
import { auditEntry } from "../audit/audit-log";
import type { Db } from "../db/client";
import { type FactorRow, type FactorType, mfaFactors, mfaRecoveryCodes } from "../db/mfa-schema";
import { type UserRow, users } from "../db/schema";
import { ApiError, fieldError } from "../errors";
import { commit, outboxEvent } from "../events/outbox";
import { raised, raiseSession, reissuedAccessToken, sessionLive } from "../sessions/assurance";
import { denySessions, revokeSessions } from "../sessions/sessions";
import { legacyIdOf } from "../users/user-object";
import { claimedBy, committedUnlessLost, guardedAudit, newClaim } from "./guard";
import { newRecoveryCodes } from "./recovery-codes";
import { newTotpSecret, totpEnrolment, totpStep } from "./totp";

/** A pending authenticator-app factor not verified within this long is dropped at the next one. */
const PENDING_TTL_MS = 60 * 60 * 1000;

function publicFactor(f: FactorRow) {
  return {
    id: f.id,
    type: f.type,
    name: f.name,
    status: f.status,
    created_at: f.createdAt.toISOString(),
    last_used_at: f.lastUsedAt?.toISOString() ?? null,
  };
}

export async function listFactors(db: Db, userId: string) {
  const rows = await db
    .select()
    .from(mfaFactors)
    .where(eq(mfaFactors.userId, userId))
    .orderBy(mfaFactors.createdAt);
  return rows.map(publicFactor);
}

export function activeFactors(db: Db, userId: string, type?: FactorType) {
  return db
    .select()
    .from(mfaFactors)
    .where(
      and(
        eq(mfaFactors.userId, userId),
        eq(mfaFactors.status, "active"),
        type ? eq(mfaFactors.type, type) : undefined,
      ),
    );
}

/** "This request used the factor" (a code's step, a counter), for the batch's guard. */
export const factorClaimed = (id: string, claim: string) =>
  claimedBy(mfaFactors, mfaFactors.id, id, mfaFactors.claim, claim);

export async function hasActiveFactor(db: Db, userId: string): Promise<boolean> {
  const [row] = await db
    .select({ id: mfaFactors.id })
    .from(mfaFactors)
    .where(and(eq(mfaFactors.userId, userId), eq(mfaFactors.status, "active")))
    .limit(1);
  return row !== undefined;
}

export async function userRow(db: Db, userId: string): Promise<UserRow> {
  const [user] = await db.select().from(users).where(eq(users.id, userId)).limit(1);
  if (!user?.isActive) throw new ApiError("invalid_token", "User not found or inactive");
  return user;
}

const about = (user: UserRow) => ({
  user_id: user.id,
  email: user.email,
  name: user.name,
  ...legacyIdOf(user),
});

/** A pending authenticator-app factor: the secret is shown now and never again. */
export async function enrolTotp(scope: Scope, userId: string, name: string | undefined) {
  const { db, config } = scope;
  const user = await userRow(db, userId);
  const now = new Date();
  const secret = newTotpSecret();
  const id = crypto.randomUUID();
  await db.batch([
    // Abandoned enrolments do not pile up.
    db
      .delete(mfaFactors)
      .where(
        and(
          eq(mfaFactors.userId, userId),
          eq(mfaFactors.status, "pending"),
          lt(mfaFactors.createdAt, new Date(now.getTime() - PENDING_TTL_MS)),
        ),
      ),
    db.insert(mfaFactors).values({
      id,
      userId,
      type: "totp",
      status: "pending",
      name: name ?? "Authenticator app",
      totpSecret: secret,
      createdAt: now,
    }),
  ]);
  return { factor_id: id, secret, ...totpEnrolment(secret, user.email, config.mfa.issuer) };
}

/**
 * Activates a pending authenticator-app factor with a code from it. The user has just shown a
 * second factor, so the session moves to `aal2`; all recovery codes are replaced (returned once).
 * False when the code is wrong (the caller counts the attempt).
 */
export async function activateTotp(
  scope: Scope,
  claims: AccessClaims,
  factorId: string,
  code: string,
) {
  const { db, config, meta } = scope;
  const [factor] = await db
    .select()
    .from(mfaFactors)
    .where(
      and(
        eq(mfaFactors.id, factorId),
        eq(mfaFactors.userId, claims.userId),
        eq(mfaFactors.status, "pending"),
      ),
    )
    .limit(1);
  if (!factor?.totpSecret) throw new ApiError("not_found", "No pending factor with this id");
  const now = new Date();
  const step = totpStep(factor.totpSecret, code, now.getTime());
  if (step === null) return null;
  const user = await userRow(db, claims.userId);
  const recovery = await newRecoveryCodes(db, user.id, now);
  const assurance = raised(claims, "otp", now);
  const claim = newClaim();
  const committed = await committedUnlessLost(() =>
    commit(db, meta, [
      db
        .update(mfaFactors)
        .set({ status: "active", verifiedAt: now, lastUsedAt: now, totpLastStep: step, claim })
        .where(and(eq(mfaFactors.id, factor.id), eq(mfaFactors.status, "pending"))),
      ...recovery.statements,
      raiseSession(db, claims.sid, assurance),
      outboxEvent(
        db,
        meta,
        "security.mfa_enabled",
        { ...about(user), factor_id: factor.id, factor_type: "totp" },
        now,
      ),
      // Last: the guard — this request activated it (not a concurrent one), the session is live.
      guardedAudit(
        db,
        meta,
        {
          userId: user.id,
          action: "mfa_factor_added",
          metadata: { factor_id: factor.id, type: "totp", session_id: claims.sid },
          at: now,
        },
        [factorClaimed(factor.id, claim), sessionLive(claims.sid)],
      ),
    ]),
  );
  if (!committed) throw new ApiError("conflict", "This factor was verified already");
  return {
    recovery_codes: recovery.codes,
    ...(await reissuedAccessToken(config, user, claims.sid, assurance, now)),
  };
}

/** Removes one of the user's factors; the last active one takes the recovery codes with it. */
export async function removeFactor(scope: Scope, claims: AccessClaims, factorId: string) {
  const { db, meta } = scope;
  const [factor] = await db
    .select()
    .from(mfaFactors)
    .where(and(eq(mfaFactors.id, factorId), eq(mfaFactors.userId, claims.userId)))
    .limit(1);
  if (!factor) throw new ApiError("not_found", "Factor not found");
  const user = await userRow(db, claims.userId);
  const others = await activeFactors(db, user.id).then((rows) =>
    rows.filter((f) => f.id !== factor.id),
  );
  const now = new Date();
  const last = others.length === 0;
  await commit(db, meta, [
    db.delete(mfaFactors).where(eq(mfaFactors.id, factor.id)),
    ...(last ? [db.delete(mfaRecoveryCodes).where(eq(mfaRecoveryCodes.userId, user.id))] : []),
    auditEntry(db, meta, {
      userId: user.id,
      action: "mfa_factor_removed",
      metadata: { factor_id: factor.id, type: factor.type, remaining: others.length },
      at: now,
    }),
    ...(factor.status === "active"
      ? [
          outboxEvent(
            db,
            meta,
            "security.mfa_disabled",
            {
              ...about(user),
              factor_id: factor.id,
              factor_type: factor.type,
              remaining: others.length,
            },
            now,
          ),
        ]
      : []),
  ]);
}

/** A new set of recovery codes (the old ones stop working); the user must have a factor. */
export async function replaceRecoveryCodes(scope: Scope, userId: string) {
  const { db, meta } = scope;
  if (!(await hasActiveFactor(db, userId))) {
    throw fieldError("non_field_errors", "Add a second factor first.");
  }
  const now = new Date();
  const recovery = await newRecoveryCodes(db, userId, now);
  await commit(db, meta, [
    ...recovery.statements,
    auditEntry(db, meta, { userId, action: "mfa_recovery_codes_replaced", at: now }),
  ]);
  return { recovery_codes: recovery.codes };
}

/**
 * An admin's reset for a user who lost every factor: all factors and recovery codes go, every
 * session ends, and the user is told (`security.mfa_reset`). False when there is no such user.
 */
export async function resetFactors(scope: Scope, adminId: string, userId: string) {
  const { db, kv, config, meta } = scope;
  const [user] = await db.select().from(users).where(eq(users.id, userId)).limit(1);
  if (!user) throw new ApiError("not_found", "User not found");
  const now = new Date();
  const [, , revoked] = await commit(db, meta, [
    db.delete(mfaFactors).where(eq(mfaFactors.userId, userId)),
    db.delete(mfaRecoveryCodes).where(eq(mfaRecoveryCodes.userId, userId)),
    revokeSessions(db, { userId }, "admin", now),
    auditEntry(db, meta, { userId, action: "mfa_reset", metadata: { by: adminId }, at: now }),
    outboxEvent(db, meta, "security.mfa_reset", { ...about(user), by: adminId }, now),
  ]);
  await denySessions(
    kv,
    config,
    revoked.map((s) => s.id),
  );
  return { revoked_sessions: revoked.length };
}
