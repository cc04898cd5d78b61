/**
 * The identities at providers an account signs in with (README: Sign-in with an identity
 * provider): linking one (in the batch of the sign-in or the link that makes it), listing them,
 * and unlinking — never the last way left to sign in.
 */
import { and, count, eq, ne } from "drizzle-orm";
import type { AccessClaims, Scope } from "../app-env";
import { auditEntry } from "../audit/audit-log";
import type { Db } from "../db/client";
import { mfaFactors } from "../db/mfa-schema";
import { type UserRow, users } from "../db/schema";
import { identities } from "../db/sign-in-schema";
import { ApiError } from "../errors";
import { commit, outboxEvent } from "../events/outbox";
import { requireStepUp } from "../mfa/step-up";
import { legacyIdOf } from "../users/user-object";
import type { ProviderProfile } from "./provider-client";

export async function findIdentity(db: Db, provider: string, subject: string) {
  const [row] = await db
    .select()
    .from(identities)
    .where(and(eq(identities.provider, provider), eq(identities.subject, subject)))
    .limit(1);
  return row ?? null;
}

/** The statements that link `profile` at `provider` to `user`: the row, its audit, its event. */
export function linkIdentity(
  { db, meta }: Pick<Scope, "db" | "meta">,
  user: Pick<UserRow, "id" | "email" | "legacyId">,
  provider: string,
  profile: ProviderProfile,
  now: Date,
) {
  const id = crypto.randomUUID();
  return [
    db.insert(identities).values({
      id,
      userId: user.id,
      provider,
      subject: profile.subject,
      email: profile.email,
      emailVerified: profile.emailVerified,
      createdAt: now,
      lastSignInAt: now,
    }),
    auditEntry(db, meta, {
      userId: user.id,
      action: "identity_linked",
      metadata: { provider, identity_id: id },
      at: now,
    }),
    outboxEvent(
      db,
      meta,
      "identity.linked",
      { user_id: user.id, email: user.email, provider, identity_id: id, ...legacyIdOf(user) },
      now,
    ),
  ] as const;
}

/** A linked identity's sign-in: when it was last used. */
export const touchIdentity = (db: Db, id: string, now: Date) =>
  db.update(identities).set({ lastSignInAt: now }).where(eq(identities.id, id));

export async function listIdentities(db: Db, userId: string) {
  const rows = await db
    .select()
    .from(identities)
    .where(eq(identities.userId, userId))
    .orderBy(identities.createdAt);
  return rows.map((row) => ({
    id: row.id,
    provider: row.provider,
    email: row.email,
    email_verified: row.emailVerified,
    created_at: row.createdAt.toISOString(),
    last_sign_in_at: row.lastSignInAt?.toISOString() ?? null,
  }));
}

/**
 * Unlinks one of the caller's identities, unless it is their last way to sign in: a password, an
 * other identity or a passkey must remain (an emailed code is recovery, not counted). Sensitive
 * like adding a factor: a sign-in within 10 minutes, and `aal2` with a second factor.
 */
export async function unlinkIdentity(
  { db, meta }: Scope,
  session: Pick<AccessClaims, "userId" | "sid" | "aal" | "authTime">,
  identityId: string,
) {
  await requireStepUp(db, session, { recent: true });
  const { userId } = session;
  const [target] = await db
    .select()
    .from(identities)
    .where(and(eq(identities.id, identityId), eq(identities.userId, userId)))
    .limit(1);
  if (!target) throw new ApiError("not_found", "Identity not found");
  const [[user], [others], [passkeys]] = await db.batch([
    db
      .select({ passwordHash: users.passwordHash, email: users.email, legacyId: users.legacyId })
      .from(users)
      .where(eq(users.id, userId)),
    db
      .select({ n: count() })
      .from(identities)
      .where(and(eq(identities.userId, userId), ne(identities.id, identityId))),
    db
      .select({ n: count() })
      .from(mfaFactors)
      .where(
        and(
          eq(mfaFactors.userId, userId),
          eq(mfaFactors.type, "webauthn"),
          eq(mfaFactors.status, "active"),
        ),
      ),
  ]);
  if (!user) throw new ApiError("not_found", "Identity not found");
  const hasPassword = !user.passwordHash.startsWith("!");
  if (!hasPassword && (others?.n ?? 0) === 0 && (passkeys?.n ?? 0) === 0) {
    throw new ApiError(
      "last_sign_in_method",
      "This is the only way to sign in to this account: set a password or link another first",
    );
  }
  const now = new Date();
  await commit(db, meta, [
    db.delete(identities).where(and(eq(identities.id, identityId), eq(identities.userId, userId))),
    auditEntry(db, meta, {
      userId,
      action: "identity_unlinked",
      metadata: { provider: target.provider, identity_id: identityId },
      at: now,
    }),
    outboxEvent(
      db,
      meta,
      "identity.unlinked",
      {
        user_id: userId,
        email: user.email,
        provider: target.provider,
        identity_id: identityId,
        ...legacyIdOf(user),
      },
      now,
    ),
  ]);
}
