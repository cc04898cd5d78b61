/**
 * Step-up (README: Second factors): what a sensitive action asks of the session making it. A user
 * with an active factor must be at `aal2`; and where the action says so, the user must have proved
 * who they are in the last ten minutes. The answer says which is missing, so a client knows whether
 * to ask for a code (`mfa_required`: POST /auth/mfa/step-up/, which also refreshes the time) or for
 * the password (`reauthentication_required`: POST /auth/reauthenticate/).
 */
import type { AccessClaims } from "../app-env";
import type { Db } from "../db/client";
import { ApiError } from "../errors";
import { RECENT_AUTH_SECONDS } from "../sessions/assurance";
import { hasActiveFactor } from "./factors";

function isRecent(claims: Pick<AccessClaims, "authTime">, now: Date): boolean {
  return now.getTime() / 1000 - claims.authTime <= RECENT_AUTH_SECONDS;
}

const reauthenticationRequired = () =>
  new ApiError(
    "reauthentication_required",
    "Sign in again (or confirm your password) to do this: your last sign-in is too old",
  );

const mfaRequired = () =>
  new ApiError("mfa_required", "Confirm with your second factor to do this");

/**
 * Throws `mfa_required` or `reauthentication_required` unless the session may do a sensitive
 * action. `recent: false` for actions that check the password themselves (changing it or the
 * email): typing it is the recent authentication.
 */
export async function requireStepUp(
  db: Db,
  claims: Pick<AccessClaims, "userId" | "aal" | "authTime">,
  need: { recent: boolean },
  now: Date = new Date(),
): Promise<void> {
  if (claims.aal !== "aal2" && (await hasActiveFactor(db, claims.userId))) throw mfaRequired();
  if (need.recent && !isRecent(claims, now)) throw reauthenticationRequired();
}
