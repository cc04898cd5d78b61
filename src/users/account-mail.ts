/**
 * The events that make the email service send account mail: verification and reset links. Links
 * point at the client application (`APP_BASE_URL`), which posts the token back to this service.
 */
import type { RequestMeta } from "../audit/audit-log";
import { issueOneTimeToken } from "../auth/one-time-tokens";
import type { Config } from "../config";
import type { Db } from "../db/client";
import { outboxEvent } from "./outbox";

interface MailUser {
  id: string;
  email: string;
  name: string;
}

export function accountLink(config: Config, path: string, token?: string): string {
  const url = new URL(`${config.appBaseUrl}${path}`);
  if (token !== undefined) url.searchParams.set("token", token);
  return url.toString();
}

/**
 * Statements that issue a fresh email-verification token (killing the previous unused one) and
 * the event carrying it; to be committed in the caller's batch.
 */
export async function emailVerificationRequest(
  db: Db,
  config: Config,
  meta: RequestMeta,
  user: MailUser,
  now: Date,
) {
  const issued = await issueOneTimeToken(db, config, user, "email_verification", now);
  return [
    ...issued.statements,
    outboxEvent(
      db,
      meta,
      "user.email_verification_requested",
      {
        user_id: user.id,
        email: user.email,
        name: user.name,
        token: issued.token,
        link: accountLink(config, "/verify-email", issued.token),
        expires_at: issued.expiresAt.toISOString(),
      },
      now,
    ),
  ] as const;
}

/** Statements that issue a password-reset token and the event carrying it. */
export async function passwordResetRequest(
  db: Db,
  config: Config,
  meta: RequestMeta,
  user: MailUser,
  now: Date,
) {
  const issued = await issueOneTimeToken(db, config, user, "password_reset", now);
  return [
    ...issued.statements,
    outboxEvent(
      db,
      meta,
      "user.password_reset_requested",
      {
        user_id: user.id,
        email: user.email,
        name: user.name,
        token: issued.token,
        link: accountLink(config, "/reset-password", issued.token),
        expires_at: issued.expiresAt.toISOString(),
      },
      now,
    ),
  ] as const;
}
