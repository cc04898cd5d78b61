/**
 * Email verification (DESIGN §3, §5): following the emailed single-use link marks the address
 * verified; a signed-in user may ask for a new link (the old one dies).
 */
import { and, eq, isNull } from "drizzle-orm";
import type { Scope } from "../app-env";
import { auditEntry } from "../audit/audit-log";
import {
  applyTokenUse,
  findUsableToken,
  markTokenUsed,
  tokenOwner,
  tokenUseAudit,
} from "../auth/one-time-tokens";
import { users } from "../db/schema";
import { ApiError } from "../errors";
import { commit } from "../events/outbox";
import { accountMail } from "./account-mail";
import { userUpdated } from "./user-object";

export async function verifyEmail({ db, meta }: Scope, token: string): Promise<void> {
  const now = new Date();
  const stored = await findUsableToken(db, token, "email_verification", now);
  const user = await tokenOwner(db, stored);
  await applyTokenUse(() =>
    commit(db, meta, [
      markTokenUsed(db, stored.id, now),
      db
        .update(users)
        .set({ emailVerifiedAt: now, updatedAt: now })
        .where(
          and(eq(users.id, user.id), eq(users.email, stored.email), isNull(users.emailVerifiedAt)),
        ),
      tokenUseAudit(db, meta, stored, "email_verified", now),
      ...(user.emailVerifiedAt === null
        ? [userUpdated(db, meta, user, ["email_verified"], now)]
        : []),
    ]),
  );
}

/**
 * A new verification link for a signed-in user whose address is not verified yet. `beforeSending`
 * runs once the request is known to be sendable (the caller's rate limit counts only those).
 */
export async function resendVerification(
  { db, config, meta }: Scope,
  userId: string,
  beforeSending: () => Promise<void>,
): Promise<void> {
  const now = new Date();
  const [user] = await db
    .select({
      id: users.id,
      email: users.email,
      name: users.name,
      emailVerifiedAt: users.emailVerifiedAt,
    })
    .from(users)
    .where(and(eq(users.id, userId), eq(users.isActive, true)))
    .limit(1);
  if (!user) throw new ApiError("invalid_token", "User not found or inactive");
  if (user.emailVerifiedAt) throw new ApiError("conflict", "The email address is already verified");
  await beforeSending();
  await commit(db, meta, [
    ...(await accountMail(db, config, meta, user, "email_verification", now)),
    auditEntry(db, meta, { userId: user.id, action: "email_verification_requested", at: now }),
  ]);
}
