/**
 * Route contracts for users: registration and the caller's own profile (alias `/users/me`).
 */
import { createRoute, z } from "@hono/zod-openapi";
import { requireUser } from "../../auth/middleware";
import { envelope, errorResponses, jsonContent, jsonRequest } from "../openapi";
import { UserObjectSchema } from "./user-object";
import {
  ProfilePatchSchema,
  ProfilePutSchema,
  RegisterBodySchema,
  TokenPairSchema,
} from "./users.schemas";

const tags = ["Users"];
const bearer = [{ bearerAuth: [] }];

export const register = createRoute({
  method: "post",
  path: "/users",
  tags,
  summary: "Register a new user",
  description:
    "Creates the account and its preferences, opens a session and returns tokens. " +
    "The email is trimmed and lower-cased.",
  request: { body: jsonRequest(RegisterBodySchema) },
  responses: {
    201: jsonContent(envelope(TokenPairSchema), "Registered; the user and a token pair"),
    ...errorResponses("validation_failed", "email_taken", "username_taken"),
  },
});

/** The profile routes exist at `/users/profile` and at its alias `/users/me`. */
function profileRoutes(path: "/users/profile" | "/users/me") {
  const alias = path === "/users/me" ? " (alias of /users/profile)" : "";
  return {
    get: createRoute({
      method: "get",
      path,
      tags,
      summary: `Get my profile${alias}`,
      security: bearer,
      middleware: [requireUser] as const,
      responses: {
        200: jsonContent(envelope(UserObjectSchema), "The caller's user object"),
        ...errorResponses("authentication_required", "invalid_token"),
      },
    }),
    put: createRoute({
      method: "put",
      path,
      tags,
      summary: `Replace my profile${alias}`,
      description:
        "Email and name are required; omitted optional fields are cleared. " +
        "Changing the email requires `current_password` and marks it unverified.",
      security: bearer,
      middleware: [requireUser] as const,
      request: { body: jsonRequest(ProfilePutSchema) },
      responses: {
        200: jsonContent(envelope(UserObjectSchema), "The updated user object"),
        ...errorResponses(
          "validation_failed",
          "authentication_required",
          "invalid_token",
          "email_taken",
          "username_taken",
        ),
      },
    }),
    patch: createRoute({
      method: "patch",
      path,
      tags,
      summary: `Update my profile${alias}`,
      description:
        "Only the fields sent change. Changing the email requires `current_password` and marks it unverified.",
      security: bearer,
      middleware: [requireUser] as const,
      request: { body: jsonRequest(ProfilePatchSchema) },
      responses: {
        200: jsonContent(envelope(UserObjectSchema), "The updated user object"),
        ...errorResponses(
          "validation_failed",
          "authentication_required",
          "invalid_token",
          "email_taken",
          "username_taken",
        ),
      },
    }),
    delete: createRoute({
      method: "delete",
      path,
      tags,
      summary: `Deactivate my account${alias}`,
      description:
        "Soft delete: the account is deactivated, every session revoked, and the email stays taken. " +
        "An admin can reactivate it.",
      security: bearer,
      middleware: [requireUser] as const,
      responses: {
        200: jsonContent(envelope(z.null()), "Deactivated"),
        ...errorResponses("authentication_required", "invalid_token"),
      },
    }),
  };
}

export const profile = profileRoutes("/users/profile");
export const me = profileRoutes("/users/me");
