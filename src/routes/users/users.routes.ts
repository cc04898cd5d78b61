/**
 * Route contracts for users: registration, the caller's own profile (alias `/users/me`) and
 * password, and a user's audit log.
 */
import { createRoute, z } from "@hono/zod-openapi";
import { requireUserOrService } from "../../auth/callers";
import { requireUser } from "../../auth/middleware";
import { recentStepUp } from "../../middleware/step-up";
import { limitByClient } from "../../rate-limit/limits";
import { envelope, errorResponses, jsonContent, jsonRequest } from "../openapi";
import { listEnvelope, PaginationQuerySchema } from "../pagination";
import { tags } from "../tags";
import {
  AuditEntrySchema,
  ChangePasswordSchema,
  ProfilePatchSchema,
  ProfilePutSchema,
  RegisterBodySchema,
  TokenPairSchema,
  UserIdParamSchema,
  UserSchema,
} from "./users.schemas";

const tagged = tags("Users");
const bearer = [{ bearerAuth: [] }];

export const register = createRoute({
  method: "post",
  path: "/users",
  tags: tagged,
  summary: "Register a new user",
  description:
    "Creates the account and its preferences, opens a session and returns tokens, and emails a " +
    "verification link. The email is trimmed and lower-cased. With REQUIRE_EMAIL_VERIFICATION, " +
    "answers 202 without tokens instead, identically for new and existing emails.",
  middleware: [limitByClient("register-ip")] as const,
  request: { body: jsonRequest(RegisterBodySchema) },
  responses: {
    201: jsonContent(envelope(TokenPairSchema), "Registered; the user and a token pair"),
    202: jsonContent(
      envelope(z.null()),
      "REQUIRE_EMAIL_VERIFICATION mode: the same answer whether or not the email has an account; " +
        "a verification link (or, for an existing account, a notice) is emailed",
    ),
    ...errorResponses("validation_failed", "email_taken", "username_taken", "rate_limited"),
  },
});

/** The profile routes exist at `/users/profile` and at its alias `/users/me`. */
function profileRoutes(path: "/users/profile" | "/users/me") {
  const alias = path === "/users/me" ? " (alias of /users/profile)" : "";
  return {
    get: createRoute({
      method: "get",
      path,
      tags: tagged,
      summary: `Get my profile${alias}`,
      security: bearer,
      middleware: [requireUser] as const,
      responses: {
        200: jsonContent(envelope(UserSchema), "The caller's user object"),
        ...errorResponses("authentication_required", "invalid_token"),
      },
    }),
    put: createRoute({
      method: "put",
      path,
      tags: tagged,
      summary: `Replace my profile${alias}`,
      description:
        "Email and name are required; omitted optional fields are cleared. " +
        "Changing the email requires `current_password` and marks it unverified. " +
        "For the replaced notification-platform service's clients, a PUT with `name` but no " +
        "`email` changes only the fields it sends, as a PATCH does.",
      security: bearer,
      middleware: [requireUser] as const,
      request: { body: jsonRequest(ProfilePutSchema) },
      responses: {
        200: jsonContent(envelope(UserSchema), "The updated user object"),
        ...errorResponses(
          "validation_failed",
          "authentication_required",
          "invalid_token",
          "email_taken",
          "username_taken",
          "mfa_required",
        ),
      },
    }),
    patch: createRoute({
      method: "patch",
      path,
      tags: tagged,
      summary: `Update my profile${alias}`,
      description:
        "Only the fields sent change. Changing the email requires `current_password` and marks it unverified.",
      security: bearer,
      middleware: [requireUser] as const,
      request: { body: jsonRequest(ProfilePatchSchema) },
      responses: {
        200: jsonContent(envelope(UserSchema), "The updated user object"),
        ...errorResponses(
          "validation_failed",
          "authentication_required",
          "invalid_token",
          "email_taken",
          "username_taken",
          "mfa_required",
        ),
      },
    }),
    delete: createRoute({
      method: "delete",
      path,
      tags: tagged,
      summary: `Deactivate my account${alias}`,
      description:
        "Soft delete: the account is deactivated, every session revoked, and the email stays taken. " +
        "An admin can reactivate it. Needs a sign-in within the last 10 minutes (and `aal2` " +
        "when the user has a second factor).",
      security: bearer,
      middleware: [requireUser, recentStepUp] as const,
      responses: {
        200: jsonContent(envelope(z.null()), "Deactivated"),
        ...errorResponses(
          "authentication_required",
          "invalid_token",
          "mfa_required",
          "reauthentication_required",
        ),
      },
    }),
  };
}

export const profile = profileRoutes("/users/profile");
export const me = profileRoutes("/users/me");

export const changePassword = createRoute({
  method: "post",
  path: "/users/change-password",
  tags: tagged,
  summary: "Change my password",
  description:
    "Needs the old password; the new one must pass the policy and differ from it. Every other " +
    "session is revoked, this one is kept, and outstanding reset links die. A user with a second " +
    "factor needs an `aal2` session.",
  security: bearer,
  middleware: [requireUser] as const,
  request: { body: jsonRequest(ChangePasswordSchema) },
  responses: {
    200: jsonContent(envelope(z.null()), "Password changed"),
    ...errorResponses(
      "validation_failed",
      "authentication_required",
      "invalid_token",
      "mfa_required",
    ),
  },
});

export const audit = createRoute({
  method: "get",
  path: "/users/{id}/audit",
  tags: tagged,
  summary: "A user's audit log, newest first (self or admin)",
  security: bearer,
  middleware: [requireUserOrService] as const,
  request: { params: UserIdParamSchema, query: PaginationQuerySchema },
  responses: {
    200: jsonContent(listEnvelope(AuditEntrySchema), "Audit entries"),
    ...errorResponses(
      "validation_failed",
      "authentication_required",
      "invalid_token",
      "forbidden",
      "not_found",
    ),
  },
});
