/**
 * Route contracts for authentication: login, refresh, logout, email verification, password reset.
 */
import { createRoute, z } from "@hono/zod-openapi";
import { requireUser } from "../../auth/middleware";
import { MfaRequiredSchema } from "../mfa/mfa.schemas";
import { envelope, errorResponses, jsonContent, jsonRequest } from "../openapi";
import { tags } from "../tags";
import {
  CookieSessionSchema,
  SessionModeQuerySchema,
  TokenPairSchema,
} from "../users/users.schemas";
import {
  LoginBodySchema,
  LoginResultSchema,
  LogoutBodySchema,
  LogoutResultSchema,
  PasswordResetBodySchema,
  PasswordResetConfirmBodySchema,
  RefreshBodySchema,
  VerifyEmailBodySchema,
} from "./auth.schemas";

const tagged = tags("Auth");
const bearer = [{ bearerAuth: [] }];

export const login = createRoute({
  method: "post",
  path: "/auth/login",
  tags: tagged,
  summary: "Log in with email and password",
  description:
    "Opens a session. Unknown email, wrong password and deactivated account all answer the same " +
    "401 `invalid_credentials`, after the same hashing work. Attempts are counted per account " +
    "and client network, under a per-account ceiling; a client presenting the `device_token` " +
    "of an earlier login to the account is counted on its own (README: Lockout).",
  request: { body: jsonRequest(LoginBodySchema), query: SessionModeQuerySchema },
  responses: {
    200: jsonContent(
      envelope(z.union([LoginResultSchema, MfaRequiredSchema, CookieSessionSchema])),
      "Logged in (the user, a token pair and a login-device proof); or, for an account with a " +
        "second factor, `mfa_required` with an `mfa_token` for POST /auth/mfa/challenge/ and no tokens",
    ),
    ...errorResponses(
      "validation_failed",
      "invalid_credentials",
      "email_not_verified",
      "rate_limited",
      "csrf_failed",
    ),
  },
});

export const refresh = createRoute({
  method: "post",
  path: "/auth/refresh",
  tags: tagged,
  summary: "Exchange a refresh token for a new token pair",
  description:
    "The refresh token rotates on every use. Presenting a replaced token again within the grace " +
    "window (default 10 s) yields a new pair; after it, the whole session is revoked.",
  request: { body: jsonRequest(RefreshBodySchema) },
  responses: {
    200: jsonContent(envelope(TokenPairSchema), "A new token pair"),
    ...errorResponses("validation_failed", "invalid_token", "refresh_token_reused"),
  },
});

export const refreshBrowserSession = createRoute({
  method: "post",
  path: "/auth/session/refresh",
  tags: tagged,
  summary: "Refresh a browser session with its cookies",
  description:
    "For cookie mode (README: Browser sessions): the `__Host-refresh` cookie rotates like a " +
    "refresh token, and new cookies are set. Needs the `X-CSRF-Token` header.",
  security: [{ browserRefresh: [] }],
  responses: {
    200: jsonContent(envelope(CookieSessionSchema), "New session cookies"),
    ...errorResponses("invalid_token", "refresh_token_reused", "csrf_failed"),
  },
});

export const logout = createRoute({
  method: "post",
  path: "/auth/logout",
  tags: tagged,
  summary: "Log out (this session, or all with `all: true`)",
  description:
    "Ending all sessions is a sensitive action: it needs a sign-in within the last 10 minutes " +
    "(and `aal2` when the user has a second factor).",
  security: bearer,
  middleware: [requireUser] as const,
  request: { body: { ...jsonRequest(LogoutBodySchema), required: false } },
  responses: {
    200: jsonContent(envelope(LogoutResultSchema), "Sessions revoked"),
    ...errorResponses(
      "validation_failed",
      "authentication_required",
      "invalid_token",
      "mfa_required",
      "reauthentication_required",
    ),
  },
});

export const verifyEmail = createRoute({
  method: "post",
  path: "/auth/verify-email",
  tags: tagged,
  summary: "Verify the email address with the emailed token",
  description: "Single use; tokens expire after 24 hours and die when a newer one is sent.",
  request: { body: jsonRequest(VerifyEmailBodySchema) },
  responses: {
    200: jsonContent(envelope(z.null()), "The email address is verified"),
    ...errorResponses("validation_failed"),
  },
});

export const resendVerification = createRoute({
  method: "post",
  path: "/auth/verify-email/resend",
  tags: tagged,
  summary: "Send a new verification email (the previous link stops working)",
  security: bearer,
  middleware: [requireUser] as const,
  responses: {
    202: jsonContent(envelope(z.null()), "A new verification email is on its way"),
    ...errorResponses("authentication_required", "invalid_token", "conflict", "rate_limited"),
  },
});

export const passwordReset = createRoute({
  method: "post",
  path: "/auth/password-reset",
  tags: tagged,
  summary: "Request a password-reset email",
  description:
    "Always answers 202 with the same body, whether or not the email has an account, after the " +
    "same work.",
  request: { body: jsonRequest(PasswordResetBodySchema) },
  responses: {
    202: jsonContent(envelope(z.null()), "If the account exists, a reset link was emailed"),
    ...errorResponses("validation_failed", "rate_limited"),
  },
});

export const passwordResetConfirm = createRoute({
  method: "post",
  path: "/auth/password-reset/confirm",
  tags: tagged,
  summary: "Set a new password with the emailed token",
  description:
    "Single use; tokens expire after 1 hour. Every session of the user is revoked and other " +
    "outstanding reset links die.",
  request: { body: jsonRequest(PasswordResetConfirmBodySchema) },
  responses: {
    200: jsonContent(envelope(z.null()), "The password is changed"),
    ...errorResponses("validation_failed"),
  },
});
