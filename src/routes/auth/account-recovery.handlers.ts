/**
 * Email verification and password reset: the flows that run through a single-use token sent by
 * email (DESIGN §3, §5). Every use of a token is one batch with its change, audit row and events.
 */
import type { RouteHandler } from "@hono/zod-openapi";
import { and, eq, isNull } from "drizzle-orm";
import type { AppEnv } from "../../app-env";
import { auditEntry } from "../../audit/audit-log";
import {
  applyTokenUse,
  findUsableToken,
  invalidateUnusedTokens,
  markTokenUsed,
  tokenOwner,
  tokenUseAudit,
} from "../../auth/one-time-tokens";
import { hashPassword, passwordPolicyErrors } from "../../auth/passwords";
import { denySessions, revokeSessions } from "../../auth/sessions";
import { randomToken, sha256Hex } from "../../auth/tokens";
import { getDb } from "../../db/client";
import { users } from "../../db/schema";
import { ApiError } from "../../errors";
import { emailVerificationRequest, passwordResetRequest } from "../../events/account-mail";
import { outboxEvent } from "../../events/outbox";
import { requestMeta } from "../../middleware/request-context";
import { emailSubject, enforce } from "../../rate-limit/limits";
import { ok } from "../openapi";
import type * as routes from "./auth.routes";

export const PASSWORD_RESET_MESSAGE =
  "If an account exists for this email, we sent a link to reset its password.";

export const verifyEmail: RouteHandler<typeof routes.verifyEmail, AppEnv> = async (c) => {
  const { token } = c.req.valid("json");
  const db = getDb(c.env);
  const meta = requestMeta(c);
  const now = new Date();
  const stored = await findUsableToken(db, token, "email_verification", now);
  const user = await tokenOwner(db, stored);

  await applyTokenUse(() =>
    db.batch([
      markTokenUsed(db, stored.id, now),
      db
        .update(users)
        .set({ emailVerifiedAt: now, updatedAt: now })
        .where(
          and(eq(users.id, user.id), eq(users.email, stored.email), isNull(users.emailVerifiedAt)),
        ),
      tokenUseAudit(db, meta, stored, "email_verified", now),
      ...(user.emailVerifiedAt === null
        ? [
            outboxEvent(
              db,
              meta,
              "user.updated",
              {
                user_id: user.id,
                email: user.email,
                username: user.username,
                name: user.name,
                changed: ["email_verified"],
              },
              now,
            ),
          ]
        : []),
    ]),
  );
  return c.json(ok("Email address verified", null), 200);
};

export const resendVerification: RouteHandler<typeof routes.resendVerification, AppEnv> = async (
  c,
) => {
  const db = getDb(c.env);
  const meta = requestMeta(c);
  const now = new Date();
  const [user] = await db
    .select({
      id: users.id,
      email: users.email,
      name: users.name,
      emailVerifiedAt: users.emailVerifiedAt,
    })
    .from(users)
    .where(and(eq(users.id, c.get("auth").userId), eq(users.isActive, true)))
    .limit(1);
  if (!user) throw new ApiError("invalid_token", "User not found or inactive");
  if (user.emailVerifiedAt) throw new ApiError("conflict", "The email address is already verified");
  await enforce(c, "resend-user", user.id);

  await db.batch([
    ...(await emailVerificationRequest(db, c.get("config"), meta, user, now)),
    auditEntry(db, meta, { userId: user.id, action: "email_verification_requested", at: now }),
  ]);
  return c.json(ok("Verification email sent", null), 202);
};

export const passwordReset: RouteHandler<typeof routes.passwordReset, AppEnv> = async (c) => {
  const { email } = c.req.valid("json");
  // Per email, whether or not it has an account: the 429 tells nothing about who exists.
  await enforce(c, "reset-email", await emailSubject(email));
  const db = getDb(c.env);
  const meta = requestMeta(c);
  const now = new Date();
  const [user] = await db
    .select({ id: users.id, email: users.email, name: users.name, isActive: users.isActive })
    .from(users)
    .where(eq(users.email, email))
    .limit(1);

  if (user?.isActive) {
    await db.batch([
      ...(await passwordResetRequest(db, c.get("config"), meta, user, now)),
      auditEntry(db, meta, { userId: user.id, action: "password_reset_requested", at: now }),
    ]);
  } else {
    // The same kind of work as the real path — a token made and hashed, one D1 write — so neither
    // the answer nor its timing tells whether the email has a (usable) account.
    await sha256Hex(randomToken());
    await auditEntry(db, meta, {
      userId: null,
      action: "password_reset_requested",
      metadata: { email, account: user ? "inactive" : "none" },
      at: now,
    });
  }
  return c.json(ok(PASSWORD_RESET_MESSAGE, null), 202);
};

export const passwordResetConfirm: RouteHandler<
  typeof routes.passwordResetConfirm,
  AppEnv
> = async (c) => {
  const body = c.req.valid("json");
  const config = c.get("config");
  const db = getDb(c.env);
  const meta = requestMeta(c);
  const now = new Date();
  const stored = await findUsableToken(db, body.token, "password_reset", now);
  const user = await tokenOwner(db, stored);

  const policy = passwordPolicyErrors(body.password, user);
  if (policy.length > 0) {
    throw new ApiError("validation_failed", "Validation failed", { details: { password: policy } });
  }
  const passwordHash = hashPassword(body.password, config.passwordHash);

  const [, , , revoked] = await applyTokenUse(() =>
    db.batch([
      markTokenUsed(db, stored.id, now),
      // Following the emailed link also proves the address, as verification would.
      db
        .update(users)
        .set({ passwordHash, emailVerifiedAt: user.emailVerifiedAt ?? now, updatedAt: now })
        .where(eq(users.id, user.id)),
      invalidateUnusedTokens(db, user.id, "password_reset"),
      revokeSessions(db, { userId: user.id }, "password_reset", now),
      tokenUseAudit(db, meta, stored, "password_reset", now),
      outboxEvent(
        db,
        meta,
        "user.password_changed",
        { user_id: user.id, email: user.email, name: user.name, reason: "reset" },
        now,
      ),
    ]),
  );
  await denySessions(
    c.env.KV,
    config,
    revoked.map((s) => s.id),
  );
  return c.json(ok("Password has been reset; log in with the new password", null), 200);
};
