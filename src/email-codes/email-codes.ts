/**
 * Sign-in by an emailed code (README: Sign-in by email code). `POST /auth/otp/` mails a six-digit
 * code and a link (a 256-bit token) through `user.sign_in_code_requested`, the queue the email
 * service already reads; `POST /auth/otp/verify/` takes the code with its address, or the link's
 * token, and signs in.
 *
 * - The answer to a request is the same whether or not the address has an account, and both paths
 *   do the same kind of work (a code and token made and hashed, one D1 write), as a password-reset
 *   request does.
 * - Only hashes are stored: the code's is bound to its row's id, the token's is unique.
 * - A code is good once, for EMAIL_CODE_LIFETIME_MINUTES, and dies after five wrong tries; a new
 *   request kills the address's older codes. Tries per address and per network are also counted
 *   by the route, before anything is checked.
 * - Using a code proves the address: an unverified account becomes verified, and with
 *   EMAIL_CODE_SIGN_UP an address with no account gets one (with no password) on first use.
 */
import { and, desc, eq, gt, isNull, lt, sql } from "drizzle-orm";
import type { Scope } from "../app-env";
import { auditEntry } from "../audit/audit-log";
import { randomToken, sha256Hex } from "../auth/tokens";
import { uniqueViolation } from "../db/errors";
import { users } from "../db/schema";
import { emailCodes } from "../db/sign-in-schema";
import { ApiError } from "../errors";
import { commit, outboxEvent } from "../events/outbox";
import { claimedBy, newClaim } from "../mfa/guard";
import { type FirstFactorOutcome, signInByFirstFactor } from "../sessions/first-factor";
import { accountLink } from "../users/account-mail";
import { claimUnverifiedAccount } from "../users/address-claim";
import { passwordlessAccount } from "../users/registration";
import { selectUserForLogin } from "../users/user-object";

/** Wrong codes a row survives. */
const CODE_ATTEMPTS = 5;

const codeHash = (id: string, code: string) => sha256Hex(`email-code:${id}:${code}`);

/** Six decimal digits, uniformly (rejection sampling: no modulo bias). */
function sixDigits(): string {
  const buffer = new Uint32Array(1);
  for (;;) {
    crypto.getRandomValues(buffer);
    const value = buffer[0] ?? 0;
    if (value < 4_294_000_000) return String(value % 1_000_000).padStart(6, "0");
  }
}

const invalidCode = () => new ApiError("invalid_code", "Invalid or expired code");

/** Mails a code and link to `email` if it may sign in (or sign up); the caller answers 202 either way. */
export async function requestEmailCode({ db, config, meta }: Scope, email: string) {
  const now = new Date();
  const [user] = await db
    .select({ id: users.id, email: users.email, name: users.name, isActive: users.isActive })
    .from(users)
    .where(eq(users.email, email))
    .limit(1);
  const id = crypto.randomUUID();
  const code = sixDigits();
  const token = randomToken();
  const [hashedCode, hashedToken] = await Promise.all([codeHash(id, code), sha256Hex(token)]);
  const signUp = !user && config.emailCodes.signUp;
  if (!user?.isActive && !signUp) {
    await auditEntry(db, meta, {
      userId: null,
      action: "email_code_requested",
      metadata: { email, account: user ? "inactive" : "none" },
      at: now,
    });
    return;
  }
  const expiresAt = new Date(now.getTime() + config.emailCodes.ttlMs);
  await commit(db, meta, [
    // The address's earlier codes die: only the newest one mailed works.
    db.delete(emailCodes).where(and(eq(emailCodes.email, email), isNull(emailCodes.usedAt))),
    db.insert(emailCodes).values({
      id,
      email,
      userId: user?.id ?? null,
      codeHash: hashedCode,
      linkHash: hashedToken,
      expiresAt,
      createdAt: now,
    }),
    outboxEvent(
      db,
      meta,
      "user.sign_in_code_requested",
      {
        user_id: user?.id ?? null,
        email,
        name: user?.name ?? "",
        code,
        token,
        link: accountLink(config, "/sign-in/code", token),
        expires_at: expiresAt.toISOString(),
      },
      now,
    ),
    auditEntry(db, meta, {
      userId: user?.id ?? null,
      action: "email_code_requested",
      metadata: user ? {} : { email, account: "new" },
      at: now,
    }),
  ]);
}

export type EmailCodeProof = { email: string; code: string } | { token: string };

/** The live code row a proof names, or null. */
async function liveRow({ db }: Scope, proof: EmailCodeProof, now: Date) {
  const live = and(isNull(emailCodes.usedAt), gt(emailCodes.expiresAt, now));
  const where =
    "token" in proof
      ? and(eq(emailCodes.linkHash, await sha256Hex(proof.token)), live)
      : and(eq(emailCodes.email, proof.email), live);
  const [row] = await db
    .select()
    .from(emailCodes)
    .where(where)
    .orderBy(desc(emailCodes.createdAt))
    .limit(1);
  return row ?? null;
}

async function failure(scope: Scope, userId: string | null, reason: string, now: Date) {
  await auditEntry(scope.db, scope.meta, {
    userId,
    action: "email_code_failure",
    metadata: { reason },
    at: now,
  });
  return invalidCode();
}

/** A code (with its address) or a link's token → a session, or the second factor's challenge. */
export async function verifyEmailCode(
  scope: Scope,
  proof: EmailCodeProof,
): Promise<Exclude<FirstFactorOutcome, { kind: "lost" }>> {
  const { db } = scope;
  const now = new Date();
  const row = await liveRow(scope, proof, now);
  if (!row) throw await failure(scope, null, "no_code", now);
  if ("code" in proof) {
    // A try is taken before the code is compared, in one conditional statement: concurrent
    // guesses get no more than CODE_ATTEMPTS comparisons between them.
    const [tried] = await db
      .update(emailCodes)
      .set({ attempts: sql`${emailCodes.attempts} + 1` })
      .where(and(eq(emailCodes.id, row.id), lt(emailCodes.attempts, CODE_ATTEMPTS)))
      .returning({ attempts: emailCodes.attempts });
    if (!tried) throw await failure(scope, row.userId, "too_many_attempts", now);
    if ((await codeHash(row.id, proof.code)) !== row.codeHash) {
      throw await failure(scope, row.userId, "wrong_code", now);
    }
  }
  // The account the code was mailed for — or, for a sign-up code, whoever holds the address now.
  const [found] = await selectUserForLogin(db).where(eq(users.email, row.email)).limit(1);
  if (found && (!found.user.isActive || (row.userId !== null && found.user.id !== row.userId))) {
    throw await failure(scope, found.user.id, "inactive", now);
  }
  if (!found && (row.userId !== null || !scope.config.emailCodes.signUp)) {
    throw await failure(scope, row.userId, "no_account", now);
  }
  const claim = newClaim();
  const use = db
    .update(emailCodes)
    .set({ usedAt: now, claim })
    .where(and(eq(emailCodes.id, row.id), isNull(emailCodes.usedAt)));
  const guard = claimedBy(emailCodes, emailCodes.id, row.id, emailCodes.claim, claim);
  const created = found
    ? null
    : await passwordlessAccount(scope, { email: row.email, emailVerified: true }, now);
  const account = found ?? created?.account;
  if (!account) throw invalidCode();
  // The code proves the address: an account that had not proved it becomes the prover's alone.
  const claimed =
    found && found.user.emailVerifiedAt === null
      ? await claimUnverifiedAccount(scope, found.user.id, now)
      : null;
  let outcome: FirstFactorOutcome;
  try {
    outcome = await signInByFirstFactor(
      scope,
      {
        account: found
          ? {
              ...found,
              user: { ...found.user, emailVerifiedAt: found.user.emailVerifiedAt ?? now },
            }
          : account,
        // A claim removes every factor the account had.
        mfa: (found?.mfa ?? false) && !claimed,
        method: "email_otp",
        uses: [use, ...(created?.statements ?? []), ...(claimed?.statements ?? [])],
        guards: [guard],
        metadata: {
          method: "email_code",
          ...(created ? { created: true } : {}),
          ...(claimed ? { claimed: true } : {}),
        },
        ...(claimed ? { afterCommit: () => claimed.deny(scope) } : {}),
      },
      now,
    );
  } catch (err) {
    // Two uses of one sign-up code: the loser's new account meets the winner's address.
    if (uniqueViolation(err) !== "users.email") throw err;
    outcome = { kind: "lost" };
  }
  if (outcome.kind === "lost") throw await failure(scope, row.userId, "already_used", now);
  return outcome;
}
