import type { RouteHandler } from "@hono/zod-openapi";
import { and, count, desc, eq } from "drizzle-orm";
import type { Context } from "hono";
import { z } from "zod";
import type { AppEnv } from "../../app-env";
import { auditEntry } from "../../audit/audit-log";
import { authorizeUserAccess } from "../../auth/callers";
import { signAccessToken } from "../../auth/jwt";
import { invalidateUnusedTokens } from "../../auth/one-time-tokens";
import { hashPassword, passwordPolicyErrors, verifyPassword } from "../../auth/passwords";
import { denySessions, newSession, revokeSessions } from "../../auth/sessions";
import { getDb } from "../../db/client";
import { uniqueViolation } from "../../db/errors";
import { auditLog, preferences, type UserRow, users } from "../../db/schema";
import { ApiError, fieldError } from "../../errors";
import { accountLink, emailVerificationRequest } from "../../events/account-mail";
import { outboxEvent } from "../../events/outbox";
import { requestMeta } from "../../middleware/request-context";
import { ok } from "../openapi";
import { okList, pageMeta } from "../pagination";
import { writePreferencesCache } from "../preferences/preferences.cache";
import { preferenceColumns, toPreferencesObject } from "../preferences/preferences.schemas";
import { selectUserWithPreferences, toUserObject, type UserWithPreferences } from "./user-object";
import type * as routes from "./users.routes";
import { type ProfilePatchSchema, usernameKey } from "./users.schemas";

function usernameTaken() {
  return new ApiError("username_taken", "A user with this username already exists", {
    details: { username: ["A user with that username already exists."] },
  });
}

/** Turns a unique-constraint failure on users into the contract's 409. */
export function conflictFrom(err: unknown): ApiError | null {
  const constraint = uniqueViolation(err);
  if (constraint === "users.email" || constraint === "users_email_unique") {
    return new ApiError("email_taken", "A user with this email already exists", {
      details: { email: ["A user with this email already exists."] },
    });
  }
  if (constraint === "users.username_key" || constraint === "users_username_key_unique") {
    return usernameTaken();
  }
  return null;
}

/** What registration answers in REQUIRE_EMAIL_VERIFICATION mode, whether or not the email exists. */
export const REGISTRATION_PENDING_MESSAGE =
  "Check your email: we sent a link to verify your address before you can log in.";

export const register: RouteHandler<typeof routes.register, AppEnv> = async (c) => {
  const body = c.req.valid("json");
  const config = c.get("config");
  const db = getDb(c.env);
  const meta = requestMeta(c);
  const now = new Date();
  const userId = crypto.randomUUID();

  const user: UserRow = {
    id: userId,
    email: body.email,
    username: body.username ?? null,
    usernameKey: usernameKey(body.username ?? null),
    name: body.name ?? "",
    // Hashed on every path, including the duplicate one below, so timing says nothing.
    passwordHash: hashPassword(body.password, config.passwordHash),
    role: "user",
    isActive: true,
    emailVerifiedAt: null,
    pushToken: body.push_token ?? null,
    createdAt: now,
    updatedAt: now,
    lastLoginAt: null,
    deletedAt: null,
  };
  const prefs = preferenceColumns(body.preferences ?? {});
  const verification = await emailVerificationRequest(db, config, meta, user, now);
  const creation = [
    db.insert(users).values(user),
    db.insert(preferences).values({ ...prefs, userId, updatedAt: now }),
    auditEntry(db, meta, { userId, action: "register", at: now }),
    outboxEvent(
      db,
      meta,
      "user.created",
      { user_id: userId, email: user.email, username: user.username, name: user.name },
      now,
    ),
    ...verification,
  ] as const;

  if (config.requireEmailVerification) {
    // Registration must not tell whether the email has an account: both outcomes answer 202 with
    // the same body, and the owner of an existing account gets a notice instead. A taken username
    // is refused first, whatever the email, so that answer cannot tell emails apart either.
    if (user.usernameKey !== null) {
      const [holder] = await db
        .select({ id: users.id })
        .from(users)
        .where(eq(users.usernameKey, user.usernameKey))
        .limit(1);
      if (holder) throw usernameTaken();
    }
    const [existing] = await db
      .select({ id: users.id, email: users.email, name: users.name })
      .from(users)
      .where(eq(users.email, user.email))
      .limit(1);
    let duplicate = existing;
    if (!duplicate) {
      try {
        await db.batch(creation);
      } catch (err) {
        const conflict = conflictFrom(err);
        if (conflict?.code !== "email_taken") throw conflict ?? err;
        [duplicate] = await db
          .select({ id: users.id, email: users.email, name: users.name })
          .from(users)
          .where(eq(users.email, user.email))
          .limit(1);
      }
    }
    if (duplicate) {
      await db.batch([
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
    return c.json(ok(REGISTRATION_PENDING_MESSAGE, null), 202);
  }

  const session = await newSession(db, config, userId, meta, now);
  try {
    await db.batch([...creation, ...session.inserts]);
  } catch (err) {
    throw conflictFrom(err) ?? err;
  }

  const access = await signAccessToken(
    config,
    { userId, sid: session.sessionId, email: user.email, role: user.role },
    now.getTime(),
  );
  const userObject = toUserObject({
    user,
    preferences: { email: prefs.email ?? true, push: prefs.push ?? true },
  });
  return c.json(
    ok("User registered successfully", {
      user: userObject,
      access_token: access.token,
      refresh_token: session.refreshToken,
      token_type: "Bearer" as const,
      expires_in: access.expiresIn,
    }),
    201,
  );
};

/**
 * The caller's own account, if it is still active. A token of a deactivated account is refused
 * here even before the deny-list entry reaches every location.
 */
async function loadSelf(c: Context<AppEnv>): Promise<UserWithPreferences> {
  const [row] = await selectUserWithPreferences(getDb(c.env))
    .where(and(eq(users.id, c.get("auth").userId), eq(users.isActive, true)))
    .limit(1);
  if (!row) throw new ApiError("invalid_token", "User not found or inactive");
  return row;
}

export const getProfile: RouteHandler<typeof routes.profile.get, AppEnv> = async (c) => {
  return c.json(ok("Profile retrieved", toUserObject(await loadSelf(c))), 200);
};

type ProfileChanges = typeof ProfilePatchSchema._output;

/**
 * Applies a profile change. `replace` (PUT) clears optional fields that were not sent.
 * Writes the user, preferences, audit rows and the `user.updated` event in one batch.
 */
async function updateProfile(c: Context<AppEnv>, input: ProfileChanges, replace: boolean) {
  const config = c.get("config");
  const db = getDb(c.env);
  const meta = requestMeta(c);
  const now = new Date();
  const current = await loadSelf(c);
  const { user } = current;

  const next: UserRow = { ...user };
  const changed: string[] = [];
  const set = <K extends "email" | "name" | "username" | "pushToken">(
    key: K,
    field: string,
    value: UserRow[K] | undefined,
  ) => {
    if (value === undefined || value === user[key]) return;
    next[key] = value;
    changed.push(field);
  };

  set("name", "name", input.name);
  set("username", "username", replace ? (input.username ?? null) : input.username);
  set("pushToken", "push_token", replace ? (input.push_token ?? null) : input.push_token);

  if (input.email !== undefined && input.email !== user.email) {
    // Changing the address that receives password resets is changing who owns the account.
    if (input.current_password === undefined) {
      throw fieldError("current_password", "This field is required to change the email address.");
    }
    const check = await verifyPassword(
      user.passwordHash,
      input.current_password,
      config.passwordHash,
    );
    if (!check.ok) throw fieldError("current_password", "Password is incorrect.");
    set("email", "email", input.email);
    next.emailVerifiedAt = null;
  }

  const prefs = preferenceColumns(input.preferences ?? {});
  const nextPrefs = { ...current.preferences };
  if (prefs.email !== undefined && prefs.email !== nextPrefs.email) {
    nextPrefs.email = prefs.email;
    changed.push("preferences.email");
  }
  if (prefs.push !== undefined && prefs.push !== nextPrefs.push) {
    nextPrefs.push = prefs.push;
    changed.push("preferences.push");
  }

  if (changed.length === 0) return toUserObject(current);
  next.updatedAt = now;

  // Only the columns this request changes are written, so concurrent updates of other fields
  // are not reverted by this one.
  const userChanges: Partial<typeof users.$inferInsert> = { updatedAt: now };
  if (next.name !== user.name) userChanges.name = next.name;
  if (next.username !== user.username) {
    userChanges.username = next.username;
    userChanges.usernameKey = usernameKey(next.username);
  }
  if (next.pushToken !== user.pushToken) userChanges.pushToken = next.pushToken;
  if (next.email !== user.email) {
    userChanges.email = next.email;
    userChanges.emailVerifiedAt = null;
  }
  const prefChanges: Partial<typeof preferences.$inferInsert> = {};
  if (nextPrefs.email !== current.preferences.email) prefChanges.email = nextPrefs.email;
  if (nextPrefs.push !== current.preferences.push) prefChanges.push = nextPrefs.push;
  const prefsChanged = Object.keys(prefChanges);

  const writes = [
    db.update(users).set(userChanges).where(eq(users.id, user.id)),
    auditEntry(db, meta, {
      userId: user.id,
      action: "profile_updated",
      metadata: { changed },
      at: now,
    }),
    outboxEvent(
      db,
      meta,
      "user.updated",
      { user_id: user.id, email: next.email, username: next.username, name: next.name, changed },
      now,
    ),
    ...(next.email !== user.email
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
          ...(await emailVerificationRequest(db, config, meta, next, now)),
        ]
      : []),
  ];
  try {
    if (prefsChanged.length === 0) {
      const [first, ...rest] = writes;
      if (first) await db.batch([first, ...rest]);
    } else {
      // The channel switches are preferences too: same row, same event and cache as
      // /users/preferences/.
      const [full] = await db
        .select()
        .from(preferences)
        .where(eq(preferences.userId, user.id))
        .limit(1);
      if (!full) throw new ApiError("invalid_token", "User not found or inactive");
      const after = toPreferencesObject({ ...full, ...prefChanges, updatedAt: now });
      const [[row]] = await db.batch([
        db
          .update(preferences)
          .set({ ...prefChanges, updatedAt: now })
          .where(eq(preferences.userId, user.id))
          .returning(),
        outboxEvent(
          db,
          meta,
          "preferences.updated",
          { user_id: user.id, changed: prefsChanged, preferences: after },
          now,
        ),
        ...writes,
      ]);
      if (row) await writePreferencesCache(c.env.KV, user.id, row);
    }
  } catch (err) {
    throw conflictFrom(err) ?? err;
  }
  return toUserObject({ user: next, preferences: nextPrefs });
}

export const putProfile: RouteHandler<typeof routes.profile.put, AppEnv> = async (c) => {
  const user = await updateProfile(c, c.req.valid("json"), true);
  return c.json(ok("Profile updated", user), 200);
};

export const patchProfile: RouteHandler<typeof routes.profile.patch, AppEnv> = async (c) => {
  const user = await updateProfile(c, c.req.valid("json"), false);
  return c.json(ok("Profile updated", user), 200);
};

export const deleteProfile: RouteHandler<typeof routes.profile.delete, AppEnv> = async (c) => {
  const config = c.get("config");
  const db = getDb(c.env);
  const meta = requestMeta(c);
  const now = new Date();
  const { user } = await loadSelf(c);

  const [, revoked] = await db.batch([
    db
      .update(users)
      .set({ isActive: false, deletedAt: now, updatedAt: now })
      .where(eq(users.id, user.id)),
    revokeSessions(db, { userId: user.id }, "deactivated", now),
    auditEntry(db, meta, { userId: user.id, action: "account_deactivated", at: now }),
    outboxEvent(
      db,
      meta,
      "user.deactivated",
      { user_id: user.id, email: user.email, reason: "self" },
      now,
    ),
  ]);
  await denySessions(
    c.env.KV,
    config,
    revoked.map((s) => s.id),
  );
  return c.json(ok("Account deactivated", null), 200);
};

export const changePassword: RouteHandler<typeof routes.changePassword, AppEnv> = async (c) => {
  const body = c.req.valid("json");
  const config = c.get("config");
  const db = getDb(c.env);
  const meta = requestMeta(c);
  const auth = c.get("auth");
  const now = new Date();
  const { user } = await loadSelf(c);

  const check = await verifyPassword(user.passwordHash, body.old_password, config.passwordHash);
  if (!check.ok) {
    throw fieldError(
      "old_password",
      "Your old password was entered incorrectly. Please enter it again.",
    );
  }
  const policy = passwordPolicyErrors(body.new_password, user);
  if (body.new_password === body.old_password) {
    policy.push("The new password must be different from the old password.");
  }
  if (policy.length > 0) {
    throw new ApiError("validation_failed", "Validation failed", {
      details: { new_password: policy },
    });
  }

  const [, revoked] = await db.batch([
    db
      .update(users)
      .set({ passwordHash: hashPassword(body.new_password, config.passwordHash), updatedAt: now })
      .where(eq(users.id, user.id)),
    // Whoever else held a session (or a reset link) no longer does; this device stays logged in.
    revokeSessions(db, { userId: user.id, exceptSessionId: auth.sid }, "password_changed", now),
    invalidateUnusedTokens(db, user.id, "password_reset"),
    auditEntry(db, meta, { userId: user.id, action: "password_changed", at: now }),
    outboxEvent(
      db,
      meta,
      "user.password_changed",
      { user_id: user.id, email: user.email, name: user.name, reason: "change" },
      now,
    ),
  ]);
  await denySessions(
    c.env.KV,
    config,
    revoked.map((s) => s.id),
  );
  return c.json(ok("Password changed; other sessions were logged out", null), 200);
};

export const audit: RouteHandler<typeof routes.audit, AppEnv> = async (c) => {
  const { id } = c.req.valid("param");
  const { page, limit } = c.req.valid("query");
  const db = getDb(c.env);
  if (!z.uuid().safeParse(id).success) throw new ApiError("not_found", "User not found");
  await authorizeUserAccess(c, id, { services: false });
  const caller = c.get("caller");
  if (caller.kind === "user" && caller.userId !== id) {
    const [target] = await db.select({ id: users.id }).from(users).where(eq(users.id, id)).limit(1);
    if (!target) throw new ApiError("not_found", "User not found");
  }

  const [rows, [total]] = await db.batch([
    db
      .select()
      .from(auditLog)
      .where(eq(auditLog.userId, id))
      .orderBy(desc(auditLog.createdAt), desc(auditLog.id))
      .limit(limit)
      .offset((page - 1) * limit),
    db.select({ n: count() }).from(auditLog).where(eq(auditLog.userId, id)),
  ]);
  const data = rows.map((row) => ({
    id: row.id,
    action: row.action,
    ip: row.ip,
    user_agent: row.userAgent,
    metadata: row.metadata,
    created_at: row.createdAt.toISOString(),
  }));
  return c.json(okList("Audit log retrieved", data, pageMeta(total?.n ?? 0, page, limit)), 200);
};
