/**
 * Passkeys (WebAuthn) through `@simplewebauthn/server`: registering one for a signed-in user, and
 * checking an assertion, whether as a second factor after a password or as a passwordless sign-in
 * (which needs user verification: the authenticator's PIN or biometric is the second factor). The
 * relying party's id and origins are configuration (WEBAUTHN_RP_ID, WEBAUTHN_ORIGINS).
 */
import {
  type AuthenticationResponseJSON,
  generateAuthenticationOptions,
  generateRegistrationOptions,
  type RegistrationResponseJSON,
  verifyAuthenticationResponse,
  verifyRegistrationResponse,
} from "@simplewebauthn/server";
import { and, eq } from "drizzle-orm";
import type { AccessClaims, Scope } from "../app-env";
import type { Config } from "../config";
import type { Db } from "../db/client";
import { uniqueViolation } from "../db/errors";
import { type FactorRow, mfaFactors } from "../db/mfa-schema";
import { fieldError } from "../errors";
import { commit, outboxEvent } from "../events/outbox";
import { raised, raiseSession, reissuedAccessToken, sessionLive } from "../sessions/assurance";
import { legacyIdOf } from "../users/user-object";
import { challengeClaimed, claimChallenge, liveChallenge, newCeremony } from "./challenges";
import { activeFactors, factorClaimed, hasActiveFactor, userRow } from "./factors";
import { committedUnlessLost, guardedAudit, newClaim } from "./guard";
import { newRecoveryCodes } from "./recovery-codes";

type Transport = NonNullable<RegistrationResponseJSON["response"]["transports"]>[number];

const bytes = (base64url: string) => Uint8Array.fromBase64(base64url, { alphabet: "base64url" });
const base64url = (data: Uint8Array) => data.toBase64({ alphabet: "base64url", omitPadding: true });

/** Registration options for the user's next passkey (their existing ones excluded). */
export async function registrationOptions(scope: Scope, userId: string) {
  const { db, config } = scope;
  const user = await userRow(db, userId);
  const existing = await activeFactors(db, userId, "webauthn");
  const options = await generateRegistrationOptions({
    rpName: config.mfa.rpName,
    rpID: config.mfa.rpId,
    userName: user.email,
    userDisplayName: user.name || user.email,
    userID: new Uint8Array(new TextEncoder().encode(user.id)),
    attestationType: "none",
    excludeCredentials: existing.flatMap((f) =>
      f.credentialId
        ? [{ id: f.credentialId, transports: (f.transports ?? []) as Transport[] }]
        : [],
    ),
    authenticatorSelection: { residentKey: "preferred", userVerification: "preferred" },
  });
  const ceremony = newCeremony(db, "webauthn_registration", userId, options.challenge, new Date());
  await ceremony.insert;
  return { challenge_id: ceremony.id, options };
}

/**
 * Verifies a new passkey and makes it an active factor. The user has just shown it, so the session
 * moves to `aal2`; a first factor also brings the recovery codes (returned once).
 */
export async function registerPasskey(
  scope: Scope,
  claims: AccessClaims,
  input: { challenge_id: string; credential: RegistrationResponseJSON; name?: string | undefined },
) {
  const { db, config, meta } = scope;
  const now = new Date();
  const ceremony = await liveChallenge(
    db,
    input.challenge_id,
    "webauthn_registration",
    now,
    claims.userId,
  );
  if (!ceremony?.challenge) throw fieldError("challenge_id", "Unknown or expired challenge.");
  let verified: Awaited<ReturnType<typeof verifyRegistrationResponse>>;
  try {
    verified = await verifyRegistrationResponse({
      response: input.credential,
      expectedChallenge: ceremony.challenge,
      expectedOrigin: config.mfa.origins,
      expectedRPID: config.mfa.rpId,
      requireUserVerification: false,
    });
  } catch {
    verified = { verified: false };
  }
  if (!verified.verified || !verified.registrationInfo) {
    throw fieldError("credential", "The passkey could not be verified.");
  }
  const { credential } = verified.registrationInfo;
  const user = await userRow(db, claims.userId);
  const first = !(await hasActiveFactor(db, user.id));
  const recovery = first ? await newRecoveryCodes(db, user.id, now) : null;
  const id = crypto.randomUUID();
  const assurance = raised(claims, "webauthn", now);
  const claim = newClaim();
  const committed = await committedUnlessLost(() =>
    commit(db, meta, [
      claimChallenge(db, ceremony.id, now, claim),
      db.insert(mfaFactors).values({
        id,
        userId: user.id,
        type: "webauthn",
        status: "active",
        name: input.name ?? "Passkey",
        credentialId: credential.id,
        publicKey: base64url(credential.publicKey),
        signCount: credential.counter,
        transports: credential.transports ?? [],
        createdAt: now,
        verifiedAt: now,
      }),
      ...(recovery?.statements ?? []),
      raiseSession(db, claims.sid, assurance),
      outboxEvent(
        db,
        meta,
        "security.mfa_enabled",
        {
          user_id: user.id,
          email: user.email,
          name: user.name,
          ...legacyIdOf(user),
          factor_id: id,
          factor_type: "webauthn",
        },
        now,
      ),
      // Last: the guard (src/mfa/guard.ts) — the challenge was this request's, the session live.
      guardedAudit(
        db,
        meta,
        {
          userId: user.id,
          action: "mfa_factor_added",
          metadata: { factor_id: id, type: "webauthn", session_id: claims.sid },
          at: now,
        },
        [challengeClaimed(ceremony.id, claim), sessionLive(claims.sid)],
      ),
    ]),
  ).catch((err: unknown) => {
    // The same authenticator registered twice (its credential id is unique).
    if (uniqueViolation(err) === "mfa_factors.credential_id") {
      throw fieldError("credential", "This passkey is registered already.");
    }
    throw err;
  });
  if (!committed) throw fieldError("challenge_id", "Unknown or expired challenge.");
  return {
    factor_id: id,
    ...(recovery ? { recovery_codes: recovery.codes } : {}),
    ...(await reissuedAccessToken(config, user, claims.sid, assurance, now)),
  };
}

/** Options asking for an assertion from one of `factors` (all of them), or any discoverable one. */
export function authenticationOptions(
  config: Config,
  factors: FactorRow[],
  userVerification: "preferred" | "required",
) {
  return generateAuthenticationOptions({
    rpID: config.mfa.rpId,
    userVerification,
    allowCredentials: factors.flatMap((f) =>
      f.credentialId
        ? [{ id: f.credentialId, transports: (f.transports ?? []) as Transport[] }]
        : [],
    ),
  });
}

/** The active passkey an assertion names (of `userId`, when given). */
export async function passkeyOf(db: Db, response: AuthenticationResponseJSON, userId?: string) {
  const [factor] = await db
    .select()
    .from(mfaFactors)
    .where(
      and(
        eq(mfaFactors.credentialId, response.id),
        eq(mfaFactors.type, "webauthn"),
        eq(mfaFactors.status, "active"),
        userId === undefined ? undefined : eq(mfaFactors.userId, userId),
      ),
    )
    .limit(1);
  return factor ?? null;
}

/**
 * Checks an assertion against a stored passkey and the challenge it should sign. Returns the
 * UPDATE that records the new signature counter — conditional on the counter still being the one
 * checked, so two uses of one assertion cannot both pass — with its guard condition
 * (src/mfa/guard.ts), or null when it does not verify. A counter that did not move forward (a
 * cloned authenticator) does not verify.
 */
export async function checkAssertion(
  db: Db,
  config: Config,
  factor: FactorRow,
  response: AuthenticationResponseJSON,
  challenge: string,
  requireUserVerification: boolean,
  now: Date,
  claim: string,
) {
  if (!factor.credentialId || !factor.publicKey) return null;
  try {
    const result = await verifyAuthenticationResponse({
      response,
      expectedChallenge: challenge,
      expectedOrigin: config.mfa.origins,
      expectedRPID: config.mfa.rpId,
      requireUserVerification,
      credential: {
        id: factor.credentialId,
        publicKey: bytes(factor.publicKey),
        counter: factor.signCount ?? 0,
        transports: (factor.transports ?? []) as Transport[],
      },
    });
    if (!result.verified) return null;
    // Wrapped: an async function returning the query itself would run it (it is a thenable).
    return {
      statement: db
        .update(mfaFactors)
        .set({ signCount: result.authenticationInfo.newCounter, lastUsedAt: now, claim })
        .where(and(eq(mfaFactors.id, factor.id), eq(mfaFactors.signCount, factor.signCount ?? 0))),
      claimed: factorClaimed(factor.id, claim),
    };
  } catch {
    // Malformed structures, a wrong origin, challenge or key, a counter gone backwards.
    return null;
  }
}
