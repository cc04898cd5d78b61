/**
 * A passwordless sign-in (README: Second factors). A discoverable passkey with user
 * verification (the authenticator's PIN or biometric is the second factor) opens a session at
 * `aal2` with `amr` `["webauthn"]`.
 */
import type { AuthenticationResponseJSON } from "@simplewebauthn/server";
import { eq } from "drizzle-orm";
import type { Scope } from "../app-env";
import type { ProofAccount } from "../auth/jwt";
import { users } from "../db/schema";
import { type TokenPair, tokenPair } from "../sessions/token-pair";
import { selectUserWithPreferences } from "../users/user-object";
import { challengeClaimed, claimChallenge, liveChallenge, newCeremony } from "./challenges";
import { newClaim } from "./guard";
import {
  auditFailure,
  failed,
  openGuardedSession,
  type SecondFactorAttempts,
} from "./guarded-session";
import { authenticationOptions, checkAssertion, passkeyOf } from "./passkeys";

/** Options for a passwordless sign-in: whichever discoverable passkey, user verification required. */
export async function passkeyOptions(scope: Scope) {
  const { db, config } = scope;
  const options = await authenticationOptions(config, [], "required");
  const ceremony = newCeremony(db, "passkey_login", null, options.challenge, new Date());
  await ceremony.insert;
  return { challenge_id: ceremony.id, options };
}

/** A passkey alone (verified user) → a session at `aal2`. */
export async function passkeySignIn(
  scope: Scope,
  challengeId: string,
  response: AuthenticationResponseJSON,
  attempts: SecondFactorAttempts,
): Promise<{ pair: TokenPair; account: ProofAccount }> {
  const { db, config } = scope;
  const now = new Date();
  const ceremony = await liveChallenge(db, challengeId, "passkey_login", now);
  const factor = ceremony ? await passkeyOf(db, response) : null;
  await attempts.begin(factor?.userId ?? null);
  const claim = newClaim();
  const checked =
    ceremony?.challenge && factor
      ? await checkAssertion(db, config, factor, response, ceremony.challenge, true, now, claim)
      : null;
  if (!ceremony || !factor || !checked) {
    await auditFailure(scope, factor?.userId ?? null, "invalid_passkey", now);
    throw failed();
  }
  const [found] = await selectUserWithPreferences(db).where(eq(users.id, factor.userId)).limit(1);
  const user = found?.user;
  const unverified = config.requireEmailVerification && user?.emailVerifiedAt === null;
  if (!found || !user?.isActive || unverified) {
    await auditFailure(scope, factor.userId, "inactive", now);
    throw failed();
  }
  const session = await openGuardedSession(
    scope,
    user.id,
    ["webauthn"],
    [claimChallenge(db, ceremony.id, now, claim), checked.statement],
    [challengeClaimed(ceremony.id, claim), checked.claimed],
    { method: "passkey" },
    now,
  );
  attempts.succeeded();
  const pair = await tokenPair(
    config,
    { ...found, user: { ...user, lastLoginAt: now } },
    session,
    now,
  );
  return { pair, account: { id: user.id, passwordHash: user.passwordHash } };
}
