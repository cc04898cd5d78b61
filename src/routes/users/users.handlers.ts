import type { RouteHandler } from "@hono/zod-openapi";
import { and, eq } from "drizzle-orm";
import type { Context } from "hono";
import type { AppEnv } from "../../app-env";
import { auditEntry } from "../../audit/audit-log";
import { signAccessToken } from "../../auth/jwt";
import { hashPassword, verifyPassword } from "../../auth/passwords";
import { denySessions, newSession, revokeSessions } from "../../auth/sessions";
import { getDb } from "../../db/client";
import { uniqueViolation } from "../../db/errors";
import { preferences, type UserRow, users } from "../../db/schema";
import { ApiError, fieldError } from "../../errors";
import { outboxEvent } from "../../events/outbox";
import { requestMeta } from "../../middleware/request-context";
import { ok } from "../openapi";
import { preferenceColumns } from "../preferences/preferences.schemas";
import { selectUserWithPreferences, toUserObject, type UserWithPreferences } from "./user-object";
import type * as routes from "./users.routes";
import type { ProfilePatchSchema } from "./users.schemas";

/** Turns a unique-constraint failure on users into the contract's 409. */
export function conflictFrom(err: unknown): ApiError | null {
  const constraint = uniqueViolation(err);
  if (constraint === "users.email" || constraint === "users_email_unique") {
    return new ApiError("email_taken", "A user with this email already exists", {
      details: { email: ["A user with this email already exists."] },
    });
  }
  if (constraint === "users_username_lower_unique") {
    return new ApiError("username_taken", "A user with this username already exists", {
      details: { username: ["A user with that username already exists."] },
    });
  }
  return null;
}

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
    name: body.name ?? "",
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
  const session = await newSession(db, config, userId, meta, now);

  try {
    await db.batch([
      db.insert(users).values(user),
      db.insert(preferences).values({ ...prefs, userId, updatedAt: now }),
      session.insert,
      auditEntry(db, meta, { userId, action: "register", at: now }),
      outboxEvent(
        db,
        meta,
        "user.created",
        { user_id: userId, email: user.email, username: user.username, name: user.name },
        now,
      ),
    ]);
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

  const writes = [
    db
      .update(users)
      .set({
        email: next.email,
        name: next.name,
        username: next.username,
        pushToken: next.pushToken,
        emailVerifiedAt: next.emailVerifiedAt,
        updatedAt: now,
      })
      .where(eq(users.id, user.id)),
    db
      .update(preferences)
      .set({ email: nextPrefs.email, push: nextPrefs.push, updatedAt: now })
      .where(eq(preferences.userId, user.id)),
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
  ] as const;
  try {
    if (next.email !== user.email) {
      await db.batch([
        ...writes,
        auditEntry(db, meta, {
          userId: user.id,
          action: "email_changed",
          metadata: { previous_email: user.email },
          at: now,
        }),
      ]);
    } else {
      await db.batch(writes);
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
