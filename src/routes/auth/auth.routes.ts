/**
 * Route contracts for authentication: login, refresh, logout.
 */
import { createRoute } from "@hono/zod-openapi";
import { requireUser } from "../../auth/middleware";
import { envelope, errorResponses, jsonContent, jsonRequest } from "../openapi";
import { TokenPairSchema } from "../users/users.schemas";
import {
  LoginBodySchema,
  LogoutBodySchema,
  LogoutResultSchema,
  RefreshBodySchema,
} from "./auth.schemas";

const tags = ["Auth"];

export const login = createRoute({
  method: "post",
  path: "/auth/login",
  tags,
  summary: "Log in with email and password",
  description:
    "Opens a session. Unknown email, wrong password and deactivated account all answer the same " +
    "401 `invalid_credentials`, after the same hashing work.",
  request: { body: jsonRequest(LoginBodySchema) },
  responses: {
    200: jsonContent(envelope(TokenPairSchema), "Logged in; the user and a token pair"),
    ...errorResponses("validation_failed", "invalid_credentials"),
  },
});

export const refresh = createRoute({
  method: "post",
  path: "/auth/refresh",
  tags,
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

export const logout = createRoute({
  method: "post",
  path: "/auth/logout",
  tags,
  summary: "Log out (this session, or all with `all: true`)",
  security: [{ bearerAuth: [] }],
  middleware: [requireUser] as const,
  request: { body: { ...jsonRequest(LogoutBodySchema), required: false } },
  responses: {
    200: jsonContent(envelope(LogoutResultSchema), "Sessions revoked"),
    ...errorResponses("validation_failed", "authentication_required", "invalid_token"),
  },
});
