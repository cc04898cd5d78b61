/**
 * The user object of the contract (DESIGN §3), shared by registration, login, refresh, profile and
 * lookups. It is built field by field from the row, so a password hash or any internal column can
 * never leak by being added to the table.
 */
import { z } from "@hono/zod-openapi";
import { eq, sql } from "drizzle-orm";
import type { Db } from "../../db/client";
import { type PreferencesRow, preferences, ROLES, type UserRow, users } from "../../db/schema";
import { examples } from "../examples";

export const UserObjectSchema = z
  .object({
    id: z.uuid(),
    user_id: z.uuid().openapi({ description: "Same value as `id`, for older clients." }),
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
  })
  .openapi("User", { example: examples.user });

export type UserObject = z.infer<typeof UserObjectSchema>;

export type UserWithPreferences = {
  user: UserRow;
  preferences: Pick<PreferencesRow, "email" | "push">;
};

export function toUserObject({ user, preferences: prefs }: UserWithPreferences): UserObject {
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
export const userWithPreferencesColumns = {
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
    .innerJoin(preferences, eq(preferences.userId, users.id));
}
