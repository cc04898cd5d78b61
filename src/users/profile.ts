/**
 * The caller's own profile (DESIGN §3): reading it, changing it (PUT replaces, PATCH amends) and
 * deactivating it. An email change needs the current password — changing the address that
 * receives password resets is changing who owns the account.
 */
import { eq } from "drizzle-orm";
import type { AccessClaims, Scope } from "../app-env";
import { auditEntry } from "../audit/audit-log";
import { invalidateUnusedTokens } from "../auth/one-time-tokens";
import type { PasswordAttempts } from "../auth/passwords";
import { type UserRow, users } from "../db/schema";
import { fieldError } from "../errors";
import { commit, commitAll } from "../events/outbox";
import { requireStepUp } from "../mfa/step-up";
import { writePreferencesCache } from "../preferences/cache";
import { toPreferencesObject } from "../preferences/preferences";
import { activeUserPreferences, preferencesChange } from "../preferences/update";
import { deactivation } from "./account";
import { accountMail } from "./account-mail";
import { usernameKey, withoutConflict } from "./identity";
import { reauthenticate } from "./reauthentication";
import {
  activeUser,
  toUserObject,
  type UserObject,
  type UserWithPreferences,
  userUpdated,
} from "./user-object";

export interface ProfileInput {
  email?: string | undefined;
  name?: string | undefined;
  username?: string | null | undefined;
  push_token?: string | null | undefined;
  preferences?: { email?: boolean | undefined; push?: boolean | undefined } | undefined;
  current_password?: string | undefined;
}

type Switches = UserWithPreferences["preferences"];

/**
 * What an input changes, worked out once: the user columns to write, the channel switches to
 * write, and the names of the changed fields (as the user object and its event call them).
 * `replace` (PUT) clears optional fields that were not sent.
 */
function profileChanges(current: UserWithPreferences, input: ProfileInput, replace: boolean) {
  const { user } = current;
  const set: Partial<UserRow> = {};
  const switches: Partial<Switches> = {};
  const changed: string[] = [];
  const differs = <T>(value: T | undefined, now: T): value is T =>
    value !== undefined && value !== now;

  if (differs(input.name, user.name)) {
    set.name = input.name;
    changed.push("name");
  }
  const username = replace ? (input.username ?? null) : input.username;
  if (differs(username, user.username)) {
    set.username = username;
    set.usernameKey = usernameKey(username);
    changed.push("username");
  }
  const pushToken = replace ? (input.push_token ?? null) : input.push_token;
  if (differs(pushToken, user.pushToken)) {
    set.pushToken = pushToken;
    changed.push("push_token");
  }
  if (differs(input.email, user.email)) {
    set.email = input.email;
    set.emailVerifiedAt = null;
    changed.push("email");
  }
  for (const channel of ["email", "push"] as const) {
    const value = input.preferences?.[channel];
    if (differs(value, current.preferences[channel])) {
      switches[channel] = value;
      changed.push(`preferences.${channel}`);
    }
  }
  return { set, switches, changed };
}

/**
 * Changing the address that receives password resets needs the current password: a
 * re-authentication, counted like a login.
 */
async function checkCurrentPassword(
  scope: Scope,
  user: UserRow,
  input: ProfileInput,
  attempts: PasswordAttempts,
) {
  if (input.current_password === undefined) {
    throw fieldError("current_password", "This field is required to change the email address.");
  }
  await reauthenticate(scope, user, input.current_password, attempts, {
    field: "current_password",
    message: "Password is incorrect.",
    purpose: "email_change",
  });
}

/** The user-row writes of a change: the row, its audit and event, and an email change's mail. */
async function userWrites(
  { db, config, meta }: Scope,
  user: UserRow,
  next: UserRow,
  changes: ReturnType<typeof profileChanges>,
  now: Date,
) {
  const { set, changed } = changes;
  return [
    // Only the columns this request changes, so concurrent updates of other fields survive.
    db
      .update(users)
      .set({ ...set, updatedAt: now })
      .where(eq(users.id, user.id)),
    auditEntry(db, meta, {
      userId: user.id,
      action: "profile_updated",
      metadata: { changed },
      at: now,
    }),
    userUpdated(db, meta, next, changed, now),
    ...(set.email !== undefined
      ? [
          auditEntry(db, meta, {
            userId: user.id,
            action: "email_changed",
            metadata: { previous_email: user.email },
            at: now,
          }),
          // Links mailed to the old address die with it; the new address is unverified until its
          // owner follows the link sent there.
          invalidateUnusedTokens(db, user.id),
          ...(await accountMail(db, config, meta, next, "email_verification", now)),
        ]
      : []),
  ];
}

/** Applies a profile change and returns the user object after it. */
export async function updateProfile(
  scope: Scope,
  session: Pick<AccessClaims, "userId" | "aal" | "authTime">,
  input: ProfileInput,
  replace: boolean,
  attempts: PasswordAttempts,
): Promise<UserObject> {
  const { db, kv, meta } = scope;
  const current = await activeUser(db, session.userId);
  const { user } = current;
  const changes = profileChanges(current, input, replace);
  if (changes.changed.length === 0) return toUserObject(current);
  if (changes.set.email !== undefined) {
    // The password typed below is the recent authentication; a second factor is still due.
    await requireStepUp(db, session, { recent: false });
    await checkCurrentPassword(scope, user, input, attempts);
  }

  const now = new Date();
  const next: UserRow = { ...user, ...changes.set, updatedAt: now };
  const writes = await userWrites(scope, user, next, changes, now);
  // The channel switches are preferences too: same row, same event and cache as
  // /users/preferences/.
  const { switches } = changes;
  const prefs = Object.keys(switches).length
    ? toPreferencesObject(await activeUserPreferences(db, user.id))
    : null;
  const change =
    prefs && preferencesChange(db, meta, { ...prefs, user_id: user.id }, switches, now);
  if (change) {
    const [[row]] = await withoutConflict(() => commit(db, meta, [...change, ...writes]));
    if (row) await writePreferencesCache(kv, user.id, row);
  } else {
    await withoutConflict(() => commitAll(db, meta, writes));
  }
  return toUserObject({ user: next, preferences: { ...current.preferences, ...switches } });
}

/** The owner closes their account (soft delete): every session ends. */
export async function deactivateOwnAccount(scope: Scope, userId: string): Promise<void> {
  const { user } = await activeUser(scope.db, userId);
  await deactivation(scope, user, { reason: "self", by: null });
}
