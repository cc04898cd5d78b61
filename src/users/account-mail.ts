/**
 * The events that make the email service send account mail: verification and reset links. Links
 * point at the client application (`APP_BASE_URL`), which posts the token back to this service.
 */
import type { RequestMeta } from "../app-env";
import { issueOneTimeToken } from "../auth/one-time-tokens";
import type { Config } from "../config";
import type { Db } from "../db/client";
import type { TokenPurpose } from "../db/schema";
import { outboxEvent } from "../events/outbox";

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

const MAIL = {
  email_verification: { event: "user.email_verification_requested", path: "/verify-email" },
  password_reset: { event: "user.password_reset_requested", path: "/reset-password" },
} as const satisfies Record<TokenPurpose, { event: string; path: string }>;

/**
 * Statements that issue a fresh single-use token for `purpose` (killing the previous unused one)
 * and the event that mails its link; to be committed in the caller's batch.
 */
export async function accountMail(
  db: Db,
  config: Config,
  meta: RequestMeta,
  user: MailUser,
  purpose: TokenPurpose,
  now: Date,
) {
  const issued = await issueOneTimeToken(db, config, user, purpose, now);
  return [
    ...issued.statements,
    outboxEvent(
      db,
      meta,
      MAIL[purpose].event,
      {
        user_id: user.id,
        email: user.email,
        name: user.name,
        token: issued.token,
        link: accountLink(config, MAIL[purpose].path, issued.token),
        expires_at: issued.expiresAt.toISOString(),
      },
      now,
    ),
  ] as const;
}
