/**
 * Re-authentication: a signed-in user proving they know the password again before a sensitive
 * change (the password itself, the email address, and every later step-up). A stolen access or
 * refresh token must not become a password-guessing oracle, so each check spends from the same
 * per-account budget as login (src/rate-limit/attempts.ts) and every wrong guess is audited.
 */
import type { Scope } from "../app-env";
import { auditEntry } from "../audit/audit-log";
import { type PasswordAttempts, type PasswordCheck, verifyPassword } from "../auth/passwords";
import type { UserRow } from "../db/schema";
import { fieldError } from "../errors";

export async function reauthenticate(
  { db, config, meta }: Scope,
  user: Pick<UserRow, "id" | "email" | "passwordHash">,
  password: string,
  attempts: PasswordAttempts,
  failure: {
    field: string;
    message: string;
    purpose: "password_change" | "email_change" | "reauthentication";
  },
): Promise<PasswordCheck> {
  await attempts.begin(user.email, Promise.resolve(user));
  const check = await verifyPassword(user.passwordHash, password, config.passwordHash);
  if (!check.ok) {
    await auditEntry(db, meta, {
      userId: user.id,
      action: "reauthentication_failure",
      metadata: { purpose: failure.purpose },
      at: new Date(),
    });
    throw fieldError(failure.field, failure.message);
  }
  attempts.succeeded();
  return check;
}
