/**
 * Signing in with a second factor (README: Second factors):
 *
 * - after the right password, a user with an active factor gets an `mfa_token` (five minutes,
 *   single use, bound to that login, its user and password) and no session; `completeMfaLogin`
 *   exchanges it and a second factor for a session at `aal2`;
 * - `stepUp` raises a signed-in session to `aal2` (and refreshes its authentication time).
 *
 * A passkey alone is passwordless.ts. Every attempt is counted before it is checked
 * (`SecondFactorAttempts`, the route's limiter policies); a failure is audited and answered with
 * one error whatever was wrong — the token, the code, the passkey — and a token survives only a
 * few wrong codes. What a sign-in uses up and the session it opens are one guarded batch
 * (src/mfa/guard.ts, guarded-session.ts).
 */
import { eq } from "drizzle-orm";
import type { AccessClaims, Scope } from "../app-env";
import { auditEntry } from "../audit/audit-log";
import type { ProofAccount } from "../auth/jwt";
import { sha256Hex } from "../auth/tokens";
import { type UserRow, users } from "../db/schema";
import { ApiError } from "../errors";
import { commit } from "../events/outbox";
import { raised, raiseSession, reissuedAccessToken, sessionLive } from "../sessions/assurance";
import { type TokenPair, tokenPair } from "../sessions/token-pair";
import { selectUserWithPreferences } from "../users/user-object";
import {
  CHALLENGE_TTL_MS,
  challengeClaimed,
  claimChallenge,
  countFailure,
  liveChallenge,
  mfaTokenId,
  newCeremony,
  newMfaToken,
} from "./challenges";
import { activeFactors } from "./factors";
import { committedUnlessLost, guardedAudit, newClaim } from "./guard";
import {
  auditFailure,
  failed,
  openGuardedSession,
  type SecondFactorAttempts,
} from "./guarded-session";
import { authenticationOptions } from "./passkeys";
import { checkSecondFactor, type SecondFactorProof } from "./second-factor";

/** A stamp of the stored password hash (it reveals nothing), so the token dies with a change. */
const passwordStamp = async (hash: string) => (await sha256Hex(`mfa-login:${hash}`)).slice(0, 32);

/** The answer of a right password for an account with a second factor: no tokens, a challenge. */
export async function startMfaLogin(
  scope: Scope,
  user: UserRow,
  deviceId: string | null,
  /** How the first step was made (`amr`): a password, an emailed code, an identity provider. */
  firstFactor = "pwd",
) {
  const { db, config, meta } = scope;
  const now = new Date();
  const factors = await activeFactors(db, user.id);
  const passkeys = factors.filter((f) => f.type === "webauthn");
  const options =
    passkeys.length > 0 ? await authenticationOptions(config, passkeys, "preferred") : null;
  const mfa = await newMfaToken(
    db,
    user.id,
    {
      challenge: options?.challenge ?? null,
      context: {
        device: deviceId,
        password: await passwordStamp(user.passwordHash),
        first: firstFactor,
      },
    },
    now,
  );
  await commit(db, meta, [
    mfa.insert,
    auditEntry(db, meta, { userId: user.id, action: "login_mfa_required", at: now }),
  ]);
  return {
    mfa_required: true as const,
    mfa_token: mfa.token,
    expires_in: CHALLENGE_TTL_MS / 1000,
    factors: factors.map((f) => ({ id: f.id, type: f.type, name: f.name })),
    ...(options ? { webauthn_options: options } : {}),
  };
}

/** The `mfa_token` and a second factor → the session, its token pair, and the device to renew. */
export async function completeMfaLogin(
  scope: Scope,
  mfaToken: string,
  proof: SecondFactorProof,
  attempts: SecondFactorAttempts,
): Promise<{ pair: TokenPair; account: ProofAccount; deviceId: string | null }> {
  const { db, config, meta } = scope;
  const now = new Date();
  const id = await mfaTokenId(mfaToken);
  const challenge = await liveChallenge(db, id, "mfa_login", now);
  await attempts.begin(challenge?.userId ?? null);
  if (!challenge?.userId) {
    await auditFailure(scope, null, "invalid_token", now);
    throw failed();
  }
  const userId = challenge.userId;
  const claim = newClaim();
  const check = await checkSecondFactor(db, config, userId, proof, challenge.challenge, now, claim);
  if (!check.ok) {
    await db.batch([
      countFailure(db, id),
      auditEntry(db, meta, {
        userId,
        action: "mfa_failure",
        metadata: { reason: check.reason },
        at: now,
      }),
    ]);
    throw failed();
  }
  const [found] = await selectUserWithPreferences(db).where(eq(users.id, userId)).limit(1);
  if (!found?.user.isActive) {
    await auditFailure(scope, userId, "inactive", now);
    throw failed();
  }
  // Bound to the password of its login: a change or reset since then ends it.
  if (challenge.context?.password !== (await passwordStamp(found.user.passwordHash))) {
    await auditFailure(scope, userId, "password_changed", now);
    throw failed();
  }
  const session = await openGuardedSession(
    scope,
    userId,
    [typeof challenge.context?.first === "string" ? challenge.context.first : "pwd", check.method],
    [claimChallenge(db, id, now, claim), check.claim.statement],
    [challengeClaimed(id, claim), check.claim.claimed],
    { mfa: check.method },
    now,
  );
  attempts.succeeded();
  const user = { ...found.user, lastLoginAt: now };
  const pair = await tokenPair(config, { ...found, user }, session, now);
  const device = challenge.context?.device;
  return {
    pair,
    account: { id: userId, passwordHash: found.user.passwordHash },
    deviceId: typeof device === "string" ? device : null,
  };
}

/** Options for a passkey step-up of the signed-in user (their passkeys only). */
export async function stepUpOptions(scope: Scope, userId: string) {
  const { db, config } = scope;
  const passkeys = await activeFactors(db, userId, "webauthn");
  if (passkeys.length === 0) throw new ApiError("not_found", "No passkey to step up with");
  const options = await authenticationOptions(config, passkeys, "preferred");
  const ceremony = newCeremony(db, "step_up", userId, options.challenge, new Date());
  await ceremony.insert;
  return { challenge_id: ceremony.id, options };
}

/** A second factor shown inside a session: the session moves to `aal2`, authenticated now. */
export async function stepUp(
  scope: Scope,
  claims: AccessClaims,
  proof: SecondFactorProof,
  challengeId: string | undefined,
  attempts: SecondFactorAttempts,
) {
  const { db, config, meta } = scope;
  const now = new Date();
  await attempts.begin(claims.userId);
  const ceremony =
    challengeId && "webauthn" in proof
      ? await liveChallenge(db, challengeId, "step_up", now, claims.userId)
      : null;
  const claim = newClaim();
  const check = await checkSecondFactor(
    db,
    config,
    claims.userId,
    proof,
    ceremony?.challenge ?? null,
    now,
    claim,
  );
  if (!check.ok) {
    await auditFailure(scope, claims.userId, check.reason, now);
    throw failed();
  }
  const assurance = raised(claims, check.method, now);
  const guards = [check.claim.claimed, sessionLive(claims.sid)];
  if (ceremony) guards.push(challengeClaimed(ceremony.id, claim));
  const committed = await committedUnlessLost(() =>
    commit(db, meta, [
      check.claim.statement,
      ...(ceremony ? [claimChallenge(db, ceremony.id, now, claim)] : []),
      raiseSession(db, claims.sid, assurance),
      guardedAudit(
        db,
        meta,
        {
          userId: claims.userId,
          action: "mfa_step_up",
          metadata: { session_id: claims.sid, method: check.method },
          at: now,
        },
        guards,
      ),
    ]),
  );
  if (!committed) {
    await auditFailure(scope, claims.userId, "already_used", now);
    throw failed();
  }
  attempts.succeeded();
  const [user] = await db.select().from(users).where(eq(users.id, claims.userId)).limit(1);
  if (!user?.isActive) throw new ApiError("invalid_token", "User not found or inactive");
  return reissuedAccessToken(config, user, claims.sid, assurance, now);
}
