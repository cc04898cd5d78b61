/**
 * The first proof of an unverified account's address — an emailed code, a trusted provider's
 * verified email. Until then anyone could have made the account with that address (account
 * pre-hijacking: register a victim's address, wait for them to sign in another way, keep a way
 * in). So the account becomes the prover's alone: every session ends; the password, the linked
 * identities, the second factors and the push devices go (the owner sets up what they want again);
 * unused emailed links die; the address is verified. Audited as `address_claimed`.
 */
import { and, eq, isNull } from "drizzle-orm";
import type { Scope } from "../app-env";
import { auditEntry } from "../audit/audit-log";
import { invalidateUnusedTokens } from "../auth/one-time-tokens";
import { randomToken } from "../auth/tokens";
import { mfaFactors, mfaRecoveryCodes } from "../db/mfa-schema";
import { pushTokens, sessions, users } from "../db/schema";
import { identities } from "../db/sign-in-schema";
import { denySessions, revokeSessions } from "../sessions/sessions";

export async function claimUnverifiedAccount({ db, meta }: Scope, userId: string, now: Date) {
  // Read first so their access tokens can be denied once the batch committed.
  const active = await db
    .select({ id: sessions.id })
    .from(sessions)
    .where(and(eq(sessions.userId, userId), isNull(sessions.revokedAt)));
  return {
    statements: [
      revokeSessions(db, { userId }, "address_claimed", now),
      db
        .update(users)
        .set({ passwordHash: `!claimed:${randomToken(16)}`, emailVerifiedAt: now, updatedAt: now })
        .where(eq(users.id, userId)),
      db.delete(identities).where(eq(identities.userId, userId)),
      db.delete(mfaFactors).where(eq(mfaFactors.userId, userId)),
      db.delete(mfaRecoveryCodes).where(eq(mfaRecoveryCodes.userId, userId)),
      db
        .update(pushTokens)
        .set({ isActive: false, updatedAt: now })
        .where(and(eq(pushTokens.userId, userId), eq(pushTokens.isActive, true))),
      invalidateUnusedTokens(db, userId),
      auditEntry(db, meta, { userId, action: "address_claimed", at: now }),
    ],
    /** After the batch: the ended sessions' access tokens stop at once. */
    deny: ({ kv, config }: Pick<Scope, "kv" | "config">) =>
      denySessions(
        kv,
        config,
        active.map((s) => s.id),
      ),
  };
}
