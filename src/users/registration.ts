/**
 * Registration (DESIGN §3): the account, its preferences row, the audit row, `user.created` and a
 * verification mail, in one batch. Two ways to answer:
 * - by default, signed in at once (a session and a token pair);
 * - with REQUIRE_EMAIL_VERIFICATION, the same 202 whether or not the email has an account, so
 *   registration cannot be used to find out who has one; an existing owner gets a notice instead.
 */
import { eq, sql } from "drizzle-orm";
import type { Scope } from "../app-env";
import { auditEntry } from "../audit/audit-log";
import { hashPassword } from "../auth/passwords";
import { randomToken } from "../auth/tokens";
import { preferences, type UserRow, users } from "../db/schema";
import { commit, outboxEvent } from "../events/outbox";
import type { PreferencesInput } from "../preferences/preferences";
import { newSession } from "../sessions/sessions";
import { type TokenPair, tokenPair } from "../sessions/token-pair";
import { accountLink, accountMail } from "./account-mail";
import { conflictFrom, usernameKey, usernameTaken, withoutConflict } from "./identity";

export interface Registration {
  email: string;
  password: string;
  name?: string | undefined;
  /** As the replaced services took them; `name` is derived from them when it is not given. */
  first_name?: string | undefined;
  last_name?: string | undefined;
  username?: string | null | undefined;
  push_token?: string | null | undefined;
  preferences?: PreferencesInput | undefined;
}

export type Registered = { kind: "signed_in"; pair: TokenPair } | { kind: "pending_verification" };

/** A new account's row: an active user, with what the caller knows of them. */
function newUserRow(
  fields: Pick<UserRow, "email" | "passwordHash"> & Partial<UserRow>,
  now: Date,
): UserRow {
  return {
    id: crypto.randomUUID(),
    legacyId: null,
    username: null,
    usernameKey: null,
    name: "",
    firstName: null,
    lastName: null,
    role: "user",
    isActive: true,
    emailVerifiedAt: null,
    pushToken: null,
    createdAt: now,
    updatedAt: now,
    lastLoginAt: null,
    deletedAt: null,
    ...fields,
  };
}

/**
 * The statements that create an account: its row, its preferences, the audit row, `user.created`
 * and, while its address is unproven, the verification mail.
 */
async function accountStatements(
  { db, config, meta }: Scope,
  user: UserRow,
  prefs: PreferencesInput,
  now: Date,
) {
  return [
    // The next free integer id: one statement, and D1 runs one at a time, so no two accounts race
    // to the same number.
    db
      .insert(users)
      .values({ ...user, legacyId: sql`(SELECT coalesce(max(legacy_id), 0) + 1 FROM users)` }),
    db.insert(preferences).values({ ...prefs, user_id: user.id, updated_at: now }),
    auditEntry(db, meta, { userId: user.id, action: "register", at: now }),
    outboxEvent(
      db,
      meta,
      "user.created",
      { user_id: user.id, email: user.email, username: user.username, name: user.name },
      now,
      { legacyIdOf: user.id },
    ),
    ...(user.emailVerifiedAt === null
      ? await accountMail(db, config, meta, user, "email_verification", now)
      : []),
  ] as const;
}

/** The new account's rows and the statements that create it (without a session). */
async function newAccount(scope: Scope, input: Registration, now: Date) {
  const user = newUserRow(
    {
      email: input.email,
      username: input.username ?? null,
      usernameKey: usernameKey(input.username ?? null),
      name: input.name ?? [input.first_name, input.last_name].filter(Boolean).join(" "),
      firstName: input.first_name || null,
      lastName: input.last_name || null,
      // Hashed on every path, including the duplicate one, so timing says nothing.
      passwordHash: hashPassword(input.password, scope.config.passwordHash),
      pushToken: input.push_token ?? null,
    },
    now,
  );
  const prefs = input.preferences ?? {};
  const statements = await accountStatements(scope, user, prefs, now);
  const switches = { email: prefs.email ?? true, push: prefs.push ?? true };
  return { user, switches, statements };
}

/**
 * An account with no password (`!…` never verifies), for a sign-in that proved an address or an
 * identity instead: an emailed code, an identity provider. Its statements create it like a
 * registration's; an address that is not yet proven gets the verification mail.
 */
export async function passwordlessAccount(
  scope: Scope,
  input: { email: string; name?: string | undefined; emailVerified: boolean },
  now: Date,
) {
  const user = newUserRow(
    {
      email: input.email,
      name: input.name ?? "",
      passwordHash: `!passwordless:${randomToken(16)}`,
      emailVerifiedAt: input.emailVerified ? now : null,
      lastLoginAt: now,
    },
    now,
  );
  const statements = await accountStatements(scope, user, {}, now);
  return { account: { user, preferences: { email: true, push: true } }, statements };
}

export async function registerUser(scope: Scope, input: Registration): Promise<Registered> {
  const now = new Date();
  const account = await newAccount(scope, input, now);
  if (scope.config.requireEmailVerification) {
    await registerPendingVerification(scope, account, now);
    return { kind: "pending_verification" };
  }
  const session = await newSession(scope, account.user.id, now);
  await withoutConflict(() =>
    commit(scope.db, scope.meta, [...account.statements, ...session.inserts]),
  );
  const pair = await tokenPair(
    scope.config,
    { user: account.user, preferences: account.switches },
    session,
    now,
  );
  return { kind: "signed_in", pair };
}

/**
 * Creates the account unless the email has one; either way the caller answers the same. A taken
 * username is refused first, whatever the email, so that answer cannot tell emails apart either.
 */
async function registerPendingVerification(
  { db, config, meta }: Scope,
  { user, statements }: Awaited<ReturnType<typeof newAccount>>,
  now: Date,
) {
  if (user.usernameKey !== null) {
    const [holder] = await db
      .select({ id: users.id })
      .from(users)
      .where(eq(users.usernameKey, user.usernameKey))
      .limit(1);
    if (holder) throw usernameTaken();
  }
  const owner = async () => {
    const [found] = await db
      .select({ id: users.id, email: users.email, name: users.name })
      .from(users)
      .where(eq(users.email, user.email))
      .limit(1);
    return found;
  };
  let duplicate = await owner();
  if (!duplicate) {
    try {
      await commit(db, meta, statements);
    } catch (err) {
      const conflict = conflictFrom(err);
      if (conflict?.code !== "email_taken") throw conflict ?? err;
      duplicate = await owner();
    }
  }
  if (!duplicate) return;
  await commit(db, meta, [
    auditEntry(db, meta, { userId: duplicate.id, action: "registration_duplicate", at: now }),
    outboxEvent(
      db,
      meta,
      "user.duplicate_registration",
      {
        user_id: duplicate.id,
        email: duplicate.email,
        name: duplicate.name,
        login_link: accountLink(config, "/login"),
        reset_link: accountLink(config, "/forgot-password"),
      },
      now,
    ),
  ]);
}
