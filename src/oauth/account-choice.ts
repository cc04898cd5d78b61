/**
 * Which account an identity at a provider signs in to (README: Sign-in with an identity provider):
 *
 * - an identity linked before → its account;
 * - otherwise the provider must give a verified email (else `email_not_verified`, before any
 *   lookup: an unverified address neither claims an account nor tells whether one exists);
 * - an account with that email → linked and signed in only when the provider is trusted for its
 *   emails (`trust_email`); otherwise `identity_not_linked` (its owner signs in and links it).
 *   An account that had not proved its address is claimed first (src/users/address-claim.ts):
 *   whoever made it with someone else's address keeps no way in;
 * - no account → a new one, without a password, verified only by a trusted provider.
 */
import { eq } from "drizzle-orm";
import type { BatchItem } from "drizzle-orm/batch";
import type { Scope } from "../app-env";
import type { OAuthProvider } from "../config-sign-in";
import { users } from "../db/schema";
import { claimUnverifiedAccount } from "../users/address-claim";
import { passwordlessAccount } from "../users/registration";
import { selectUserForLogin } from "../users/user-object";
import { findIdentity, linkIdentity, touchIdentity } from "./identities";
import type { ProviderProfile } from "./provider-client";

type Found = Awaited<ReturnType<ReturnType<typeof selectUserForLogin>["where"]>>[number];

export type AccountChoice =
  | {
      account: Found;
      /** What signing in with it changes: a link, a new account, a claim. */
      uses: BatchItem<"sqlite">[];
      created: boolean;
      /** After the batch: deny the sessions a claim ended. */
      afterCommit?: () => Promise<void>;
    }
  | { error: string; reason: string; userId: string | null };

export async function chooseAccount(
  scope: Scope,
  provider: OAuthProvider,
  profile: ProviderProfile,
  now: Date,
): Promise<AccountChoice> {
  const { db } = scope;
  const identity = await findIdentity(db, provider.id, profile.subject);
  if (identity) {
    const [found] = await selectUserForLogin(db).where(eq(users.id, identity.userId)).limit(1);
    if (!found) return { error: "access_denied", reason: "no_account", userId: null };
    return { account: found, uses: [touchIdentity(db, identity.id, now)], created: false };
  }
  if (!profile.email) return { error: "email_required", reason: "no_email", userId: null };
  if (!profile.emailVerified) {
    return { error: "email_not_verified", reason: "provider_email_unverified", userId: null };
  }
  const [found] = await selectUserForLogin(db).where(eq(users.email, profile.email)).limit(1);
  if (found) {
    if (!provider.trustEmail) {
      return {
        error: "identity_not_linked",
        reason: "provider_not_trusted",
        userId: found.user.id,
      };
    }
    const link = linkIdentity(scope, found.user, provider.id, profile, now);
    if (found.user.emailVerifiedAt !== null) {
      return { account: found, uses: [...link], created: false };
    }
    const claimed = await claimUnverifiedAccount(scope, found.user.id, now);
    return {
      // Claimed: no factor is left, and the address is verified.
      account: { ...found, mfa: false, user: { ...found.user, emailVerifiedAt: now } },
      uses: [...claimed.statements, ...link],
      created: false,
      afterCommit: () => claimed.deny(scope),
    };
  }
  const created = await passwordlessAccount(
    scope,
    {
      email: profile.email,
      name: profile.name ?? undefined,
      // An untrusted provider's word is not proof: the account proves its address by the mail.
      emailVerified: provider.trustEmail,
    },
    now,
  );
  return {
    account: { ...created.account, mfa: false },
    uses: [
      ...created.statements,
      ...linkIdentity(scope, created.account.user, provider.id, profile, now),
    ],
    created: true,
  };
}
