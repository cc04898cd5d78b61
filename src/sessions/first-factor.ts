/**
 * Signing in by a first factor other than a password — an emailed code (src/email-codes/), an
 * identity provider (src/oauth/). What the sign-in uses up (the code, the state) and the session
 * it opens are one guarded batch (src/mfa/guard.ts): of two concurrent uses exactly one writes
 * anything. An account with an active second factor gets no session but the second step's
 * challenge, exactly as after a right password (src/mfa/sign-in.ts).
 */
import { eq, type SQL } from "drizzle-orm";
import type { BatchItem } from "drizzle-orm/batch";
import type { Scope } from "../app-env";
import { users } from "../db/schema";
import { commitAll } from "../events/outbox";
import { committedUnlessLost, guardedAudit } from "../mfa/guard";
import { startMfaLogin } from "../mfa/sign-in";
import type { UserWithPreferences } from "../users/user-object";
import { newSession } from "./sessions";
import { type TokenPair, tokenPair } from "./token-pair";

type Statement = BatchItem<"sqlite">;

export type FirstFactorOutcome =
  | { kind: "signed_in"; pair: TokenPair; userId: string }
  | { kind: "mfa"; challenge: Awaited<ReturnType<typeof startMfaLogin>> }
  /** The guard refused the batch: another request used the same code or state first. */
  | { kind: "lost" };

export interface FirstFactorSignIn {
  account: UserWithPreferences;
  /** Whether the account has an active second factor. */
  mfa: boolean;
  /** The `amr` of the session: `email_otp`, `oauth`. */
  method: string;
  /** What the sign-in uses up and changes (e.g. a new account's rows), before the session. */
  uses: Statement[];
  /** Conditions that hold only if this request's uses won (its claims). */
  guards: SQL[];
  metadata: Record<string, unknown>;
  /** Once the batch committed (e.g. denying the sessions an address claim ended). */
  afterCommit?: () => Promise<void>;
}

export async function signInByFirstFactor(
  scope: Scope,
  signIn: FirstFactorSignIn,
  now: Date,
): Promise<FirstFactorOutcome> {
  const { db, config, meta } = scope;
  const { user } = signIn.account;
  const entry = (action: "login_success" | "login_mfa_required", extra = {}) =>
    guardedAudit(
      db,
      meta,
      { userId: user.id, action, metadata: { ...signIn.metadata, ...extra }, at: now },
      signIn.guards,
    );
  if (signIn.mfa) {
    const used = await committedUnlessLost(() =>
      commitAll(db, meta, [...signIn.uses, entry("login_mfa_required")]),
    );
    if (!used) return { kind: "lost" };
    await signIn.afterCommit?.();
    return { kind: "mfa", challenge: await startMfaLogin(scope, user, null, signIn.method) };
  }
  const session = await newSession(scope, user.id, now, { aal: "aal1", amr: [signIn.method] });
  const committed = await committedUnlessLost(() =>
    commitAll(db, meta, [
      ...signIn.uses,
      ...session.inserts,
      db.update(users).set({ lastLoginAt: now }).where(eq(users.id, user.id)),
      entry("login_success", { session_id: session.sessionId }),
    ]),
  );
  if (!committed) return { kind: "lost" };
  await signIn.afterCommit?.();
  const pair = await tokenPair(
    config,
    { ...signIn.account, user: { ...user, lastLoginAt: now } },
    session,
    now,
  );
  return { kind: "signed_in", pair, userId: user.id };
}
