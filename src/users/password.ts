/**
 * Passwords of an account: changing it (knowing the old one) and resetting it (through an emailed
 * single-use token). Both end in `setPassword`, which writes the hash, ends the other sessions,
 * kills unused reset links and announces `user.password_changed`, in one batch.
 */
import { eq } from "drizzle-orm";
import type { BatchItem } from "drizzle-orm/batch";
import type { AccessClaims, Scope } from "../app-env";
import { auditEntry } from "../audit/audit-log";
import {
  applyTokenUse,
  findUsableToken,
  invalidateUnusedTokens,
  markTokenUsed,
  tokenOwner,
  tokenUseAudit,
} from "../auth/one-time-tokens";
import { hashPassword, type PasswordAttempts, passwordPolicyErrors } from "../auth/passwords";
import { randomToken, sha256Hex } from "../auth/tokens";
import { type UserRow, users } from "../db/schema";
import { ApiError } from "../errors";
import { commit, outboxEvent } from "../events/outbox";
import { requireStepUp } from "../mfa/step-up";
import { denySessions, revokeSessions } from "../sessions/sessions";
import { accountMail } from "./account-mail";
import { claimUnverifiedAccount } from "./address-claim";
import { reauthenticate } from "./reauthentication";
import { activeUser, legacyIdOf } from "./user-object";

type Statement = BatchItem<"sqlite">;

interface PasswordChange {
  reason: "change" | "reset";
  /** The session that stays signed in (a change from this device); none on a reset. */
  keepSessionId?: string;
  /** Other columns the change sets (a reset also proves the email address). */
  alsoSet?: Partial<Pick<UserRow, "emailVerifiedAt">>;
  /** Statements that must run before the rest (a token's use). */
  guard?: Statement[];
  /** The audit row; a token's use writes its own (see auth/one-time-tokens.ts). */
  audit: Statement;
}

/** Writes a new password and everything it implies, then denies the sessions it ended. */
async function setPassword(
  { db, kv, config, meta }: Scope,
  user: Pick<UserRow, "id" | "email" | "name" | "legacyId">,
  password: string,
  change: PasswordChange,
  now: Date,
): Promise<void> {
  const passwordHash = hashPassword(password, config.passwordHash);
  // A token's use is marked first: unused reset links die below, and this one must not be among
  // them. The revocation leads so its result has a fixed place.
  const [revoked] = await commit(db, meta, [
    // Whoever else held a session (or a reset link) no longer does.
    change.keepSessionId
      ? revokeSessions(
          db,
          { userId: user.id, exceptSessionId: change.keepSessionId },
          "password_changed",
          now,
        )
      : revokeSessions(db, { userId: user.id }, "password_reset", now),
    ...(change.guard ?? []),
    db
      .update(users)
      .set({ ...change.alsoSet, passwordHash, updatedAt: now })
      .where(eq(users.id, user.id)),
    invalidateUnusedTokens(db, user.id, "password_reset"),
    change.audit,
    outboxEvent(
      db,
      meta,
      "user.password_changed",
      {
        user_id: user.id,
        email: user.email,
        name: user.name,
        reason: change.reason,
        ...legacyIdOf(user),
      },
      now,
    ),
  ]);
  await denySessions(
    kv,
    config,
    revoked.map((s) => s.id),
  );
}

function checkPolicy(field: string, password: string, user: UserRow, extra: string[] = []) {
  const policy = [...passwordPolicyErrors(password, user), ...extra];
  if (policy.length > 0) {
    throw new ApiError("validation_failed", "Validation failed", { details: { [field]: policy } });
  }
}

/**
 * A signed-in user's change, knowing the old password (a re-authentication, counted like a login);
 * this session stays signed in.
 */
export async function changePassword(
  scope: Scope,
  session: Pick<AccessClaims, "userId" | "sid" | "aal" | "authTime">,
  body: { old_password: string; new_password: string },
  attempts: PasswordAttempts,
): Promise<void> {
  const { db, meta } = scope;
  // The old password below is the recent authentication; a second factor is still due.
  await requireStepUp(db, session, { recent: false });
  const { user } = await activeUser(db, session.userId);
  await reauthenticate(scope, user, body.old_password, attempts, {
    field: "old_password",
    message: "Your old password was entered incorrectly. Please enter it again.",
    purpose: "password_change",
  });
  checkPolicy(
    "new_password",
    body.new_password,
    user,
    body.new_password === body.old_password
      ? ["The new password must be different from the old password."]
      : [],
  );
  const now = new Date();
  await setPassword(
    scope,
    user,
    body.new_password,
    {
      reason: "change",
      keepSessionId: session.sid,
      audit: auditEntry(db, meta, { userId: user.id, action: "password_changed", at: now }),
    },
    now,
  );
}

/**
 * Mails a reset link if the email has an active account. Otherwise the same kind of work — a
 * token made and hashed, one D1 write — so neither the answer nor its timing tells whether it has.
 */
export async function requestPasswordReset({ db, config, meta }: Scope, email: string) {
  const now = new Date();
  const [user] = await db
    .select({ id: users.id, email: users.email, name: users.name, isActive: users.isActive })
    .from(users)
    .where(eq(users.email, email))
    .limit(1);
  if (user?.isActive) {
    await commit(db, meta, [
      ...(await accountMail(db, config, meta, user, "password_reset", now)),
      auditEntry(db, meta, { userId: user.id, action: "password_reset_requested", at: now }),
    ]);
    return;
  }
  await sha256Hex(randomToken());
  await auditEntry(db, meta, {
    userId: null,
    action: "password_reset_requested",
    metadata: { email, account: user ? "inactive" : "none" },
    at: now,
  });
}

/** Sets the password from an emailed reset token; every session of the account ends. */
export async function confirmPasswordReset(
  scope: Scope,
  body: { token: string; password: string },
): Promise<void> {
  const { db, meta } = scope;
  const now = new Date();
  const stored = await findUsableToken(db, body.token, "password_reset", now);
  const user = await tokenOwner(db, stored);
  checkPolicy("password", body.password, user);
  // The link proves the address: an account that had not proved it becomes the prover's alone
  // (its identities, factors and devices go; the new password is set after).
  const claimed =
    user.emailVerifiedAt === null ? await claimUnverifiedAccount(scope, user.id, now) : null;
  await applyTokenUse(() =>
    setPassword(
      scope,
      user,
      body.password,
      {
        reason: "reset",
        // Following the emailed link also proves the address, as verification would.
        alsoSet: { emailVerifiedAt: user.emailVerifiedAt ?? now },
        guard: [markTokenUsed(db, stored.id, now), ...(claimed?.statements ?? [])],
        audit: tokenUseAudit(db, meta, stored, "password_reset", now),
      },
      now,
    ),
  );
}
