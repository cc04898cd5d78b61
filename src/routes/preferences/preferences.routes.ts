/**
 * Route contracts for the caller's own notification preferences.
 */
import { createRoute } from "@hono/zod-openapi";
import { requireUser, requireUserReading } from "../../auth/middleware";
import { preferencesCacheKey } from "../../preferences/cache";
import { envelope, errorResponses, jsonContent, jsonRequest } from "../openapi";
import { tags } from "../tags";
import { PreferencesInputSchema, PreferencesSchema } from "./preferences.schemas";

const tagged = tags("Preferences");
const bearer = [{ bearerAuth: [] }];
const errors = errorResponses("validation_failed", "authentication_required", "invalid_token");

export const get = createRoute({
  method: "get",
  path: "/users/preferences",
  tags: tagged,
  summary: "My notification preferences",
  description:
    "Served from the KV cache when present (no D1 query), read together with the session's " +
    "revocation check: one KV call.",
  security: bearer,
  middleware: [requireUserReading((claims) => preferencesCacheKey(claims.userId))] as const,
  responses: {
    200: jsonContent(envelope(PreferencesSchema), "Preferences"),
    ...errorResponses("authentication_required", "invalid_token"),
  },
});

export const put = createRoute({
  method: "put",
  path: "/users/preferences",
  tags: tagged,
  summary: "Replace my notification preferences",
  description: "Fields not sent go back to their defaults.",
  security: bearer,
  middleware: [requireUser] as const,
  request: { body: jsonRequest(PreferencesInputSchema) },
  responses: { 200: jsonContent(envelope(PreferencesSchema), "Preferences"), ...errors },
});

export const patch = createRoute({
  method: "patch",
  path: "/users/preferences",
  tags: tagged,
  summary: "Update some of my notification preferences",
  security: bearer,
  middleware: [requireUser] as const,
  request: { body: jsonRequest(PreferencesInputSchema) },
  responses: { 200: jsonContent(envelope(PreferencesSchema), "Preferences"), ...errors },
});
