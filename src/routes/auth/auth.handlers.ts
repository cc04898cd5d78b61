import type { RouteHandler } from "@hono/zod-openapi";
import { and, eq } from "drizzle-orm";
import type { AppEnv } from "../../app-env";
import { auditEntry } from "../../audit/audit-log";
import { signAccessToken } from "../../auth/jwt";
import { hashPassword, spendPasswordWork, verifyPassword } from "../../auth/passwords";
import { denySessions, newSession, revokeSessions, rotateRefreshToken } from "../../auth/sessions";
import { getDb } from "../../db/client";
import { users } from "../../db/schema";
import { ApiError } from "../../errors";
import { requestMeta } from "../../middleware/request-context";
import { clear, emailSubject, enforce } from "../../rate-limit/limits";
import { ok } from "../openapi";
import { selectUserWithPreferences, toUserObject } from "../users/user-object";
import type * as routes from "./auth.routes";

export const login: RouteHandler<typeof routes.login, AppEnv> = async (c) => {
  const { email, password } = c.req.valid("json");
  const config = c.get("config");
  const db = getDb(c.env);
  const meta = requestMeta(c);

  // Failed logins are counted per account — per email, whether or not it has an account, so the
  // lock says nothing about which emails exist — and a locked account answers 429 even to the
  // right password until the window passes. The attempt is counted before the password is
  // checked, in one atomic step, so parallel guesses cannot all slip in before the first failure
  // is recorded; a successful login clears the count.
  const account = await emailSubject(email);
  await enforce(c, "login-account", account);

  const [found] = await selectUserWithPreferences(db).where(eq(users.email, email)).limit(1);
  // Every path does exactly one password-hash computation, so timing does not tell an unknown
  // email from a wrong password or a deactivated account.
  let check = { ok: false, needsRehash: false };
  if (found) check = await verifyPassword(found.user.passwordHash, password, config.passwordHash);
  else spendPasswordWork(password, config.passwordHash);

  const now = new Date();
  if (!found || !check.ok || !found.user.isActive) {
    const reason = !found ? "unknown_email" : !check.ok ? "wrong_password" : "inactive";
    await auditEntry(db, meta, {
      userId: found?.user.id ?? null,
      action: "login_failure",
      metadata: found ? { reason } : { reason, email },
      at: now,
    });
    throw new ApiError("invalid_credentials", "Invalid email or password");
  }

  const { user } = found;
  // The right password: whatever follows, this was no guess.
  await clear(c, "login-account", account);
  if (config.requireEmailVerification && user.emailVerifiedAt === null) {
    // Only reachable with the right password, so it reveals nothing about who has an account.
    await auditEntry(db, meta, {
      userId: user.id,
      action: "login_failure",
      metadata: { reason: "email_not_verified" },
      at: now,
    });
    throw new ApiError("email_not_verified", "Verify your email address before logging in");
  }
  const session = await newSession(db, config, user.id, meta, now);
  // An outdated or imported (Django) hash is replaced while we hold the plaintext.
  const passwordHash = check.needsRehash ? hashPassword(password, config.passwordHash) : undefined;
  await db.batch([
    ...session.inserts,
    db.update(users).set({ lastLoginAt: now }).where(eq(users.id, user.id)),
    // Conditional on the hash we verified: a password change committed meanwhile must not be
    // overwritten with a hash of the old password.
    ...(passwordHash
      ? [
          db
            .update(users)
            .set({ passwordHash })
            .where(and(eq(users.id, user.id), eq(users.passwordHash, user.passwordHash))),
        ]
      : []),
    auditEntry(db, meta, {
      userId: user.id,
      action: "login_success",
      metadata: { session_id: session.sessionId, ...(passwordHash ? { rehashed: true } : {}) },
      at: now,
    }),
  ]);

  const access = await signAccessToken(
    config,
    { userId: user.id, sid: session.sessionId, email: user.email, role: user.role },
    now.getTime(),
  );
  return c.json(
    ok("Login successful", {
      user: toUserObject({ user: { ...user, lastLoginAt: now }, preferences: found.preferences }),
      access_token: access.token,
      refresh_token: session.refreshToken,
      token_type: "Bearer" as const,
      expires_in: access.expiresIn,
    }),
    200,
  );
};

export const refresh: RouteHandler<typeof routes.refresh, AppEnv> = async (c) => {
  const body = c.req.valid("json");
  const presented = body.refresh_token ?? body.refresh;
  if (presented === undefined) throw new ApiError("invalid_token", "Refresh token is required");
  const config = c.get("config");
  const now = new Date();
  const rotated = await rotateRefreshToken(
    getDb(c.env),
    c.env.KV,
    config,
    presented,
    requestMeta(c),
    now,
  );
  const { user } = rotated.user;
  const access = await signAccessToken(
    config,
    { userId: user.id, sid: rotated.sessionId, email: user.email, role: user.role },
    now.getTime(),
  );
  return c.json(
    ok("Token refreshed", {
      user: toUserObject(rotated.user),
      access_token: access.token,
      refresh_token: rotated.refreshToken,
      token_type: "Bearer" as const,
      expires_in: access.expiresIn,
    }),
    200,
  );
};

export const logout: RouteHandler<typeof routes.logout, AppEnv> = async (c) => {
  const { all } = c.req.valid("json");
  const auth = c.get("auth");
  const db = getDb(c.env);
  const now = new Date();
  const [revoked] = await db.batch([
    all
      ? revokeSessions(db, { userId: auth.userId }, "logout_all", now)
      : revokeSessions(db, { sessionId: auth.sid, userId: auth.userId }, "logout", now),
    auditEntry(db, requestMeta(c), {
      userId: auth.userId,
      action: "logout",
      metadata: { session_id: auth.sid, all: all === true },
      at: now,
    }),
  ]);
  // The current session is denied even if an earlier, interrupted logout already revoked it in D1,
  // so retrying a failed logout still takes effect.
  await denySessions(c.env.KV, c.get("config"), [auth.sid, ...revoked.map((s) => s.id)]);
  return c.json(ok("Logged out", { revoked_sessions: revoked.length }), 200);
};
