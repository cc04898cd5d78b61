/**
 * Route contracts for passkeys (WebAuthn): registering one, and signing in with one alone.
 * As a second factor after a password, an assertion goes to POST /auth/mfa/challenge/.
 */
import { createRoute, z } from "@hono/zod-openapi";
import { requireUser } from "../../auth/middleware";
import { recentStepUp } from "../../middleware/step-up";
import { LoginResultSchema } from "../auth/auth.schemas";
import { envelope, errorResponses, jsonContent, jsonRequest } from "../openapi";
import { tags } from "../tags";
import { CookieSessionSchema, SessionModeQuerySchema } from "../users/users.schemas";
import {
  CeremonySchema,
  PasskeyRegisterBodySchema,
  PasskeyRegisteredSchema,
  PasskeySignInBodySchema,
} from "./passkeys.schemas";

const tagged = tags("Passkeys");
const bearer = [{ bearerAuth: [] }];
const signedIn = ["authentication_required", "invalid_token", "token_expired"] as const;

export const registrationOptions = createRoute({
  method: "post",
  path: "/auth/mfa/webauthn/registration/options",
  tags: tagged,
  summary: "Options for registering a passkey",
  description:
    "Needs a sign-in within the last 10 minutes (and `aal2` once the user has a factor).",
  security: bearer,
  middleware: [requireUser, recentStepUp] as const,
  responses: {
    200: jsonContent(envelope(CeremonySchema), "For navigator.credentials.create(); 5 minutes"),
    ...errorResponses(...signedIn, "mfa_required", "reauthentication_required"),
  },
});

export const register = createRoute({
  method: "post",
  path: "/auth/mfa/webauthn/registration/verify",
  tags: tagged,
  summary: "Register a passkey",
  description:
    "Verifies the authenticator's answer and adds the passkey as an active factor; this session " +
    "moves to `aal2`. A first factor also brings the recovery codes.",
  security: bearer,
  middleware: [requireUser, recentStepUp] as const,
  request: { body: jsonRequest(PasskeyRegisterBodySchema) },
  responses: {
    201: jsonContent(envelope(PasskeyRegisteredSchema), "Registered"),
    ...errorResponses(
      "validation_failed",
      ...signedIn,
      "mfa_required",
      "reauthentication_required",
    ),
  },
});

export const signInOptions = createRoute({
  method: "post",
  path: "/auth/passkeys/options",
  tags: tagged,
  summary: "Options for signing in with a passkey (no password)",
  responses: {
    200: jsonContent(envelope(CeremonySchema), "For navigator.credentials.get(); 5 minutes"),
    ...errorResponses("rate_limited"),
  },
});

export const signIn = createRoute({
  method: "post",
  path: "/auth/passkeys/verify",
  tags: tagged,
  summary: "Sign in with a passkey",
  description:
    "User verification (the authenticator's PIN or biometric) is required, so the session is " +
    '`aal2` with `amr` `["webauthn"]`. A counter that did not move forward (a cloned ' +
    "authenticator) is refused.",
  request: { body: jsonRequest(PasskeySignInBodySchema), query: SessionModeQuerySchema },
  responses: {
    200: jsonContent(
      envelope(z.union([LoginResultSchema, CookieSessionSchema])),
      "Logged in (cookie mode: a `CookieSession`)",
    ),
    ...errorResponses(
      "validation_failed",
      "mfa_verification_failed",
      "rate_limited",
      "csrf_failed",
    ),
  },
});
