/**
 * Password login (DESIGN §3, §5): one session per login, the same answer for an unknown email, a
 * wrong password and a deactivated account, and the same hashing work on every path, so neither
 * the answer nor its timing tells who has an account.
 */
import { and, eq } from "drizzle-orm";
import type { Scope } from "../app-env";
import { auditEntry } from "../audit/audit-log";
import type { ProofAccount } from "../auth/jwt";
import {
  hashPassword,
  type PasswordAttempts,
  spendPasswordWork,
  verifyPassword,
} from "../auth/passwords";
import { type UserRow, users } from "../db/schema";
import { ApiError } from "../errors";
import { commit } from "../events/outbox";
import { selectUserForLogin } from "../users/user-object";
import { newSession } from "./sessions";
import { type TokenPair, tokenPair } from "./token-pair";

/**
 * Checks the credentials and opens a session. The attempt is counted on `attempts` before the
 * password is checked, and reported right as soon as it is known to be (before the
 * email-verification check): whatever follows, this was no guess. Also returns the account as a
 * device proof names it (its id and the password hash now stored).
 */
export async function logIn(
  scope: Scope,
  credentials: { email: string; password: string },
  attempts: PasswordAttempts,
): Promise<
  { pair: TokenPair; account: ProofAccount; mfa?: never } | { mfa: UserRow; pair?: never }
> {
  const { db, config, meta } = scope;
  const { email, password } = credentials;
  // The lookup and the counts that need no device proof run at once.
  const lookup = selectUserForLogin(db)
    .where(eq(users.email, email))
    .limit(1)
    .then(([row]) => row);
  const [found] = await Promise.all([
    lookup,
    attempts.begin(
      email,
      lookup.then((row) => row?.user ?? null),
    ),
  ]);
  // Every path does exactly one password-hash computation.
  let check = { ok: false, needsRehash: false };
  if (found) check = await verifyPassword(found.user.passwordHash, password, config.passwordHash);
  else spendPasswordWork(password, config.passwordHash);

  const now = new Date();
  if (!found || !check.ok || !found.user.isActive) {
    const reason = !found ? "unknown_email" : !check.ok ? "wrong_password" : "inactive";
    await auditEntry(db, meta, {
      userId: found?.user.id ?? null,
      action: "login_failure",
      metadata: found ? { reason } : { reason, email },
      at: now,
    });
    throw new ApiError("invalid_credentials", "Invalid email or password");
  }

  const { user } = found;
  attempts.succeeded();
  if (config.requireEmailVerification && user.emailVerifiedAt === null) {
    // Only reachable with the right password, so it reveals nothing about who has an account.
    await auditEntry(db, meta, {
      userId: user.id,
      action: "login_failure",
      metadata: { reason: "email_not_verified" },
      at: now,
    });
    throw new ApiError("email_not_verified", "Verify your email address before logging in");
  }
  // An outdated or imported (Django) hash is replaced while we hold the plaintext.
  const passwordHash = check.needsRehash ? hashPassword(password, config.passwordHash) : undefined;
  // Conditional on the hash we verified: a password change committed meanwhile must not be
  // overwritten with a hash of the old password.
  const rehash = passwordHash
    ? [
        db
          .update(users)
          .set({ passwordHash })
          .where(and(eq(users.id, user.id), eq(users.passwordHash, user.passwordHash))),
      ]
    : [];
  if (found.mfa) {
    // No session yet: the caller asks for the second factor (src/mfa/sign-in.ts).
    const [first] = rehash;
    if (first) await first;
    return { mfa: { ...user, passwordHash: passwordHash ?? user.passwordHash } };
  }
  const session = await newSession(scope, user.id, now);
  await commit(db, meta, [
    ...session.inserts,
    db.update(users).set({ lastLoginAt: now }).where(eq(users.id, user.id)),
    ...rehash,
    auditEntry(db, meta, {
      userId: user.id,
      action: "login_success",
      metadata: { session_id: session.sessionId, ...(passwordHash ? { rehashed: true } : {}) },
      at: now,
    }),
  ]);
  const pair = await tokenPair(
    config,
    { ...found, user: { ...user, lastLoginAt: now } },
    session,
    now,
  );
  // Were the rehash lost to a concurrent password change, the proof is merely not honoured.
  return { pair, account: { id: user.id, passwordHash: passwordHash ?? user.passwordHash } };
}
