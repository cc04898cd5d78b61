/**
 * The user object of the contract (DESIGN §3), shared by registration, login, refresh, profile and
 * lookups. It is built field by field from the row, so a password hash or any internal column can
 * never leak by being added to the table.
 */

import { and, eq, sql } from "drizzle-orm";
import { z } from "zod";
import type { RequestMeta } from "../app-env";
import { type Db, prebuiltSelect } from "../db/client";
import { mfaFactors } from "../db/mfa-schema";
import { type PreferencesRow, preferences, ROLES, type UserRow, users } from "../db/schema";
import { ApiError } from "../errors";
import { outboxEvent } from "../events/outbox";

export const UserObjectSchema = z.object({
  id: z.uuid(),
  /** Same value as `id`, for older clients. */
  user_id: z.uuid(),
  email: z.email(),
  username: z.string().nullable(),
  name: z.string(),
  role: z.enum(ROLES),
  is_active: z.boolean(),
  email_verified: z.boolean(),
  push_token: z.string().nullable(),
  preferences: z.object({ email: z.boolean(), push: z.boolean() }),
  created_at: z.iso.datetime(),
  updated_at: z.iso.datetime(),
  last_login_at: z.iso.datetime().nullable(),
});

export type UserObject = z.infer<typeof UserObjectSchema>;

export type UserWithPreferences = {
  user: UserRow;
  preferences: Pick<PreferencesRow, "email" | "push">;
};

/** What a user object is built from: none of the password hash or the internal columns. */
type UserObjectSource = {
  user: Pick<
    UserRow,
    | "id"
    | "email"
    | "username"
    | "name"
    | "role"
    | "isActive"
    | "emailVerifiedAt"
    | "pushToken"
    | "createdAt"
    | "updatedAt"
    | "lastLoginAt"
  >;
  preferences: Pick<PreferencesRow, "email" | "push">;
};

export function toUserObject({ user, preferences: prefs }: UserObjectSource): UserObject {
  return {
    id: user.id,
    user_id: user.id,
    email: user.email,
    username: user.username,
    name: user.name,
    role: user.role,
    is_active: user.isActive,
    email_verified: user.emailVerifiedAt !== null,
    push_token: user.pushToken,
    preferences: { email: prefs.email, push: prefs.push },
    created_at: user.createdAt.toISOString(),
    updated_at: user.updatedAt.toISOString(),
    last_login_at: user.lastLoginAt?.toISOString() ?? null,
  };
}

/**
 * The columns needed for a user object: the user row and its two channel switches. The switches
 * get their own aliases because `preferences.email` and `users.email` share a name, and D1 batch
 * results are keyed by column name.
 */
const userWithPreferencesColumns = {
  user: users,
  preferences: {
    email: sql`${preferences.email}`.mapWith(preferences.email).as("preferences_email"),
    push: sql`${preferences.push}`.mapWith(preferences.push).as("preferences_push"),
  },
};

/** SELECT of a user with its preferences, to be narrowed with `.where(...)`. */
export function selectUserWithPreferences(db: Db) {
  return db
    .select(userWithPreferencesColumns)
    .from(users)
    .innerJoin(preferences, eq(preferences.user_id, users.id));
}

/** Exactly the columns of a user object, built once (GET /users/me/ is the hottest read). */
const ownUserObjectRow = prebuiltSelect(
  {
    id: users.id,
    email: users.email,
    username: users.username,
    name: users.name,
    role: users.role,
    isActive: users.isActive,
    emailVerifiedAt: users.emailVerifiedAt,
    pushToken: users.pushToken,
    createdAt: users.createdAt,
    updatedAt: users.updatedAt,
    lastLoginAt: users.lastLoginAt,
    preferencesEmail: preferences.email,
    preferencesPush: preferences.push,
  },
  (select) =>
    select
      .from(users)
      .innerJoin(preferences, eq(preferences.user_id, users.id))
      .where(and(eq(users.id, sql.placeholder("userId")), eq(users.isActive, true)))
      .limit(1),
);

/** A user's own user object, if the account is still active (as `activeUser`). */
export async function ownUserObject(db: Db, userId: string): Promise<UserObject> {
  const [row] = await ownUserObjectRow(db, { userId });
  if (!row) throw new ApiError("invalid_token", "User not found or inactive");
  const { preferencesEmail, preferencesPush, ...user } = row;
  return toUserObject({ user, preferences: { email: preferencesEmail, push: preferencesPush } });
}

/** The same, and whether the user has an active second factor (login's one lookup). */
export function selectUserForLogin(db: Db) {
  return db
    .select({
      ...userWithPreferencesColumns,
      mfa: sql<boolean>`exists (select 1 from ${mfaFactors} where ${mfaFactors.userId} = ${users.id} and ${mfaFactors.status} = 'active')`
        .mapWith(Boolean)
        .as("has_mfa"),
    })
    .from(users)
    .innerJoin(preferences, eq(preferences.user_id, users.id));
}

/**
 * A user's own account, if it is still active. A token of a deactivated account is refused here
 * even before the deny-list entry reaches every location.
 */
export async function activeUser(db: Db, userId: string): Promise<UserWithPreferences> {
  const [row] = await selectUserWithPreferences(db)
    .where(and(eq(users.id, userId), eq(users.isActive, true)))
    .limit(1);
  if (!row) throw new ApiError("invalid_token", "User not found or inactive");
  return row;
}

/** `legacy_id` for the events about a user, when it was imported with one. */
export function legacyIdOf(user: Pick<UserRow, "legacyId">): { legacy_id?: number } {
  return user.legacyId === null ? {} : { legacy_id: user.legacyId };
}

/** The `user.updated` event of a change: the user as it is after it, and what changed. */
export function userUpdated(
  db: Db,
  meta: Pick<RequestMeta, "correlationId">,
  user: Pick<UserRow, "id" | "email" | "username" | "name" | "legacyId">,
  changed: string[],
  at: Date,
) {
  return outboxEvent(
    db,
    meta,
    "user.updated",
    {
      user_id: user.id,
      email: user.email,
      username: user.username,
      name: user.name,
      changed,
      ...legacyIdOf(user),
    },
    at,
  );
}
