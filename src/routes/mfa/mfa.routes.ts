/**
 * Route contracts for second factors: authenticator apps, recovery codes, the login's second
 * step, step-up and re-authentication (README: Second factors). Passkeys: passkeys.routes.ts.
 */
import { createRoute, z } from "@hono/zod-openapi";
import { requireUser } from "../../auth/middleware";
import { recentStepUp, stepUpRequired } from "../../middleware/step-up";
import { LoginResultSchema } from "../auth/auth.schemas";
import { envelope, errorResponses, jsonContent, jsonRequest } from "../openapi";
import { tags } from "../tags";
import { CookieSessionSchema, SessionModeQuerySchema } from "../users/users.schemas";
import {
  ChallengeBodySchema,
  FactorIdParamSchema,
  FactorSchema,
  ReauthenticateBodySchema,
  RecoveryCodesSchema,
  StepUpBodySchema,
  TotpEnrolBodySchema,
  TotpEnrolmentSchema,
  TotpVerifiedSchema,
  TotpVerifyBodySchema,
} from "./mfa.schemas";
import { CeremonySchema } from "./passkeys.schemas";
import { AccessTokenSchema } from "./tokens.schemas";

const tagged = tags("Second factors");
const bearer = [{ bearerAuth: [] }];
const signedIn = ["authentication_required", "invalid_token", "token_expired"] as const;
const stepUp = ["mfa_required", "reauthentication_required"] as const;

export const enrolTotp = createRoute({
  method: "post",
  path: "/auth/mfa/totp",
  tags: tagged,
  summary: "Start adding an authenticator app",
  description:
    "Needs a sign-in within the last 10 minutes (and `aal2` once the user has a factor). The " +
    "factor stays pending until a code from it is verified.",
  security: bearer,
  middleware: [requireUser, recentStepUp] as const,
  request: { body: { ...jsonRequest(TotpEnrolBodySchema), required: false } },
  responses: {
    201: jsonContent(envelope(TotpEnrolmentSchema), "The secret, its otpauth:// URI and QR code"),
    ...errorResponses("validation_failed", ...signedIn, ...stepUp),
  },
});

export const verifyTotp = createRoute({
  method: "post",
  path: "/auth/mfa/totp/verify",
  tags: tagged,
  summary: "Verify an authenticator app with a code from it",
  description:
    "Activates the factor, moves this session to `aal2` (a new access token is returned) and " +
    "replaces the recovery codes. Wrong codes count against the second-factor budget.",
  security: bearer,
  middleware: [requireUser, recentStepUp] as const,
  request: { body: jsonRequest(TotpVerifyBodySchema) },
  responses: {
    200: jsonContent(envelope(TotpVerifiedSchema), "Active; the recovery codes, shown once"),
    ...errorResponses(
      "validation_failed",
      ...signedIn,
      ...stepUp,
      "mfa_verification_failed",
      "not_found",
      "conflict",
      "rate_limited",
    ),
  },
});

export const listFactors = createRoute({
  method: "get",
  path: "/auth/mfa/factors",
  tags: tagged,
  summary: "My second factors (never their secrets)",
  security: bearer,
  middleware: [requireUser] as const,
  responses: {
    200: jsonContent(envelope(z.array(FactorSchema)), "Factors, oldest first"),
    ...errorResponses(...signedIn),
  },
});

export const removeFactor = createRoute({
  method: "delete",
  path: "/auth/mfa/factors/{id}",
  tags: tagged,
  summary: "Remove one of my factors",
  description:
    "Needs `aal2` and a sign-in within the last 10 minutes. Removing the last one turns MFA off.",
  security: bearer,
  middleware: [requireUser, stepUpRequired({ recent: true })] as const,
  request: { params: FactorIdParamSchema },
  responses: {
    200: jsonContent(envelope(z.null()), "Removed"),
    ...errorResponses(...signedIn, ...stepUp, "not_found"),
  },
});

export const recoveryCodes = createRoute({
  method: "post",
  path: "/auth/mfa/recovery-codes",
  tags: tagged,
  summary: "Replace all my recovery codes",
  security: bearer,
  middleware: [requireUser, stepUpRequired({ recent: false })] as const,
  responses: {
    200: jsonContent(envelope(RecoveryCodesSchema), "The new codes, shown once"),
    ...errorResponses("validation_failed", ...signedIn, ...stepUp),
  },
});

export const challenge = createRoute({
  method: "post",
  path: "/auth/mfa/challenge",
  tags: tagged,
  summary: "Finish a login with a second factor",
  description:
    "The `mfa_token` of the login's answer with one of: a code from an authenticator app, a " +
    "recovery code, a passkey assertion (answering the login's `webauthn_options`). A code is " +
    "accepted once, a recovery code once ever. Any failure is the same 401, whatever was wrong.",
  request: { body: jsonRequest(ChallengeBodySchema), query: SessionModeQuerySchema },
  responses: {
    200: jsonContent(
      envelope(z.union([LoginResultSchema, CookieSessionSchema])),
      "Logged in at `aal2` (cookie mode: a `CookieSession`)",
    ),
    ...errorResponses(
      "validation_failed",
      "mfa_verification_failed",
      "rate_limited",
      "csrf_failed",
    ),
  },
});

export const stepUpOptions = createRoute({
  method: "post",
  path: "/auth/mfa/step-up/options",
  tags: tagged,
  summary: "Options for a step-up with a passkey",
  security: bearer,
  middleware: [requireUser] as const,
  responses: {
    200: jsonContent(envelope(CeremonySchema), "For navigator.credentials.get()"),
    ...errorResponses(...signedIn, "not_found"),
  },
});

export const stepUpRoute = createRoute({
  method: "post",
  path: "/auth/mfa/step-up",
  tags: tagged,
  summary: "Raise this session to aal2 with a second factor",
  description: "Also counts as a fresh sign-in for the 10-minute rule. Returns a new access token.",
  security: bearer,
  middleware: [requireUser] as const,
  request: { body: jsonRequest(StepUpBodySchema) },
  responses: {
    200: jsonContent(envelope(AccessTokenSchema), "A new access token at `aal2`"),
    ...errorResponses("validation_failed", ...signedIn, "mfa_verification_failed", "rate_limited"),
  },
});

export const reauthenticate = createRoute({
  method: "post",
  path: "/auth/reauthenticate",
  tags: tagged,
  summary: "Confirm my password to refresh this session's sign-in time",
  description:
    "For `reauthentication_required`. Counted like login attempts; the session keeps its level.",
  security: bearer,
  middleware: [requireUser] as const,
  request: { body: jsonRequest(ReauthenticateBodySchema) },
  responses: {
    200: jsonContent(envelope(AccessTokenSchema), "A new access token"),
    ...errorResponses("validation_failed", ...signedIn, "rate_limited"),
  },
});
