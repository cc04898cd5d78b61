/**
 * POST /auth/reauthenticate/: the password typed again inside a session refreshes its
 * authentication time (the 10-minute rule of sensitive actions); its assurance level stays.
 */
import type { AccessClaims, Scope } from "../app-env";
import type { PasswordAttempts } from "../auth/passwords";
import { ApiError } from "../errors";
import { commit } from "../events/outbox";
import { raised, raiseSession, reissuedAccessToken, sessionLive } from "../sessions/assurance";
import { reauthenticate } from "../users/reauthentication";
import { activeUser } from "../users/user-object";
import { committedUnlessLost, guardedAudit } from "./guard";

export async function confirmPassword(
  scope: Scope,
  claims: AccessClaims,
  password: string,
  attempts: PasswordAttempts,
) {
  const { db, config, meta } = scope;
  const { user } = await activeUser(db, claims.userId);
  await reauthenticate(scope, user, password, attempts, {
    field: "password",
    message: "Password is incorrect.",
    purpose: "reauthentication",
  });
  const now = new Date();
  const assurance = raised(claims, null, now);
  const committed = await committedUnlessLost(() =>
    commit(db, meta, [
      raiseSession(db, claims.sid, assurance),
      guardedAudit(
        db,
        meta,
        {
          userId: user.id,
          action: "reauthenticated",
          metadata: { session_id: claims.sid },
          at: now,
        },
        [sessionLive(claims.sid)],
      ),
    ]),
  );
  if (!committed) throw new ApiError("invalid_token", "Session has been revoked");
  return reissuedAccessToken(config, user, claims.sid, assurance, now);
}
