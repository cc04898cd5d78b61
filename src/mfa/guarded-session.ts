/**
 * What every second-factor sign-in shares (sign-in.ts, passwordless.ts): how its attempts are
 * counted, the one answer to any failure and its audit row, and opening the `aal2` session in the
 * guarded batch that uses up what the sign-in showed (src/mfa/guard.ts).
 */
import { eq } from "drizzle-orm";
import type { Scope } from "../app-env";
import { auditEntry } from "../audit/audit-log";
import { users } from "../db/schema";
import { ApiError } from "../errors";
import { commit } from "../events/outbox";
import { newSession } from "../sessions/sessions";
import { committedUnlessLost, guardedAudit } from "./guard";

/** Counts a second-factor attempt (per account when it is known, per client network always). */
export interface SecondFactorAttempts {
  begin(userId: string | null): Promise<void>;
  succeeded(): void;
}

export const failed = () =>
  new ApiError("mfa_verification_failed", "Invalid or expired code or token");

export async function auditFailure(scope: Scope, userId: string | null, reason: string, now: Date) {
  await auditEntry(scope.db, scope.meta, {
    userId,
    action: "mfa_failure",
    metadata: { reason },
    at: now,
  });
}

/** A new session for `userId` at `aal2` whose batch also uses up what `guards` name. */
export async function openGuardedSession(
  scope: Scope,
  userId: string,
  amr: string[],
  uses: Parameters<typeof commit>[2][number][],
  guards: Parameters<typeof guardedAudit>[3],
  metadata: Record<string, unknown>,
  now: Date,
) {
  const { db, meta } = scope;
  const session = await newSession(scope, userId, now, { aal: "aal2", amr });
  const committed = await committedUnlessLost(() =>
    commit(db, meta, [
      ...session.inserts,
      ...uses,
      db.update(users).set({ lastLoginAt: now }).where(eq(users.id, userId)),
      guardedAudit(
        db,
        meta,
        {
          userId,
          action: "login_success",
          metadata: { session_id: session.sessionId, ...metadata },
          at: now,
        },
        guards,
      ),
    ]),
  );
  if (!committed) {
    // Lost a race: the token, the code or the assertion was used by another request first.
    await auditFailure(scope, userId, "already_used", now);
    throw failed();
  }
  return session;
}
