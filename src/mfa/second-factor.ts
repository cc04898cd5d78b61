/**
 * Checking a second factor shown by a user: a code from an authenticator app, a recovery code, or
 * a passkey assertion. A check returns the `amr` method and the UPDATE that uses the proof up (the
 * code's time step, the recovery code, the passkey's counter) with its guard condition, for the
 * caller to commit in the batch that acts on it (src/mfa/guard.ts), or why it failed. Failures are
 * not told apart to the client.
 */
import type { AuthenticationResponseJSON } from "@simplewebauthn/server";
import { and, eq, isNull, lt, or, type SQL } from "drizzle-orm";
import type { BatchItem } from "drizzle-orm/batch";
import type { Config } from "../config";
import type { Db } from "../db/client";
import { mfaFactors, mfaRecoveryCodes } from "../db/mfa-schema";
import { activeFactors, factorClaimed } from "./factors";
import { checkAssertion, passkeyOf } from "./passkeys";
import { claimRecoveryCode, recoveryCodeHash } from "./recovery-codes";
import { totpStep } from "./totp";

export type SecondFactorProof =
  | { code: string }
  | { recovery_code: string }
  | { webauthn: AuthenticationResponseJSON };

/** The UPDATE using the proof up for this request, and the guard condition that it did. */
interface Claim {
  statement: BatchItem<"sqlite">;
  claimed: SQL;
}

export type SecondFactorCheck =
  | { ok: true; method: "otp" | "recovery_code" | "webauthn"; claim: Claim }
  | { ok: false; reason: "invalid_code" | "replayed_code" | "invalid_passkey" };

export async function checkSecondFactor(
  db: Db,
  config: Config,
  userId: string,
  proof: SecondFactorProof,
  webauthnChallenge: string | null,
  now: Date,
  claim: string,
): Promise<SecondFactorCheck> {
  if ("code" in proof) {
    let replayed = false;
    for (const factor of await activeFactors(db, userId, "totp")) {
      const step = factor.totpSecret
        ? totpStep(factor.totpSecret, proof.code, now.getTime())
        : null;
      if (step === null) continue;
      if (factor.totpLastStep !== null && step <= factor.totpLastStep) {
        replayed = true;
        continue;
      }
      const statement = db
        .update(mfaFactors)
        .set({ totpLastStep: step, lastUsedAt: now, claim })
        .where(
          and(
            eq(mfaFactors.id, factor.id),
            or(isNull(mfaFactors.totpLastStep), lt(mfaFactors.totpLastStep, step)),
          ),
        );
      return {
        ok: true,
        method: "otp",
        claim: { statement, claimed: factorClaimed(factor.id, claim) },
      };
    }
    return { ok: false, reason: replayed ? "replayed_code" : "invalid_code" };
  }
  if ("recovery_code" in proof) {
    const hash = await recoveryCodeHash(userId, proof.recovery_code);
    const [unused] = await db
      .select({ hash: mfaRecoveryCodes.codeHash })
      .from(mfaRecoveryCodes)
      .where(
        and(
          eq(mfaRecoveryCodes.codeHash, hash),
          eq(mfaRecoveryCodes.userId, userId),
          isNull(mfaRecoveryCodes.usedAt),
        ),
      )
      .limit(1);
    if (!unused) return { ok: false, reason: "invalid_code" };
    return {
      ok: true,
      method: "recovery_code",
      claim: claimRecoveryCode(db, userId, hash, now, claim),
    };
  }
  const factor = webauthnChallenge ? await passkeyOf(db, proof.webauthn, userId) : null;
  const checked =
    factor && webauthnChallenge
      ? await checkAssertion(
          db,
          config,
          factor,
          proof.webauthn,
          webauthnChallenge,
          false,
          now,
          claim,
        )
      : null;
  return checked
    ? { ok: true, method: "webauthn", claim: checked }
    : { ok: false, reason: "invalid_passkey" };
}
