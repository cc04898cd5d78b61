/**
 * Route contracts for the caller's push devices.
 */
import { createRoute, z } from "@hono/zod-openapi";
import { requireUser } from "../../auth/middleware";
import { envelope, errorResponses, jsonContent, jsonRequest } from "../openapi";
import { listEnvelope, PaginationQuerySchema } from "../pagination";
import { tags } from "../tags";
import {
  PushTokenIdParamSchema,
  PushTokenListQuerySchema,
  PushTokenPatchSchema,
  PushTokenSchema,
  PushTokenWriteSchema,
} from "./push-tokens.schemas";

const tagged = tags("Push devices");
const bearer = [{ bearerAuth: [] }];
const auth = ["authentication_required", "invalid_token"] as const;

export const list = createRoute({
  method: "get",
  path: "/users/push-tokens",
  tags: tagged,
  summary: "My push devices, newest first",
  security: bearer,
  middleware: [requireUser] as const,
  request: { query: PaginationQuerySchema.extend(PushTokenListQuerySchema.shape) },
  responses: {
    200: jsonContent(listEnvelope(PushTokenSchema), "Devices (token values are never returned)"),
    ...errorResponses("validation_failed", ...auth),
  },
});

export const create = createRoute({
  method: "post",
  path: "/users/push-tokens",
  tags: tagged,
  summary: "Register a push device",
  description:
    "The same `(device_id, platform)` updates the existing device instead of adding one. A token " +
    "value belongs to one user: registering one that another account holds moves it here.",
  security: bearer,
  middleware: [requireUser] as const,
  request: { body: jsonRequest(PushTokenWriteSchema) },
  responses: {
    201: jsonContent(envelope(PushTokenSchema), "Registered"),
    200: jsonContent(envelope(PushTokenSchema), "An existing device was updated"),
    ...errorResponses("validation_failed", "conflict", ...auth),
  },
});

export const get = createRoute({
  method: "get",
  path: "/users/push-tokens/{id}",
  tags: tagged,
  summary: "One of my push devices",
  security: bearer,
  middleware: [requireUser] as const,
  request: { params: PushTokenIdParamSchema },
  responses: {
    200: jsonContent(envelope(PushTokenSchema), "The device"),
    ...errorResponses("not_found", ...auth),
  },
});

export const put = createRoute({
  method: "put",
  path: "/users/push-tokens/{id}",
  tags: tagged,
  summary: "Replace one of my push devices",
  security: bearer,
  middleware: [requireUser] as const,
  request: { params: PushTokenIdParamSchema, body: jsonRequest(PushTokenWriteSchema) },
  responses: {
    200: jsonContent(envelope(PushTokenSchema), "The device"),
    ...errorResponses("validation_failed", "not_found", "conflict", ...auth),
  },
});

export const patch = createRoute({
  method: "patch",
  path: "/users/push-tokens/{id}",
  tags: tagged,
  summary: "Update one of my push devices (token, provider, name, active)",
  security: bearer,
  middleware: [requireUser] as const,
  request: { params: PushTokenIdParamSchema, body: jsonRequest(PushTokenPatchSchema) },
  responses: {
    200: jsonContent(envelope(PushTokenSchema), "The device"),
    ...errorResponses("validation_failed", "not_found", "conflict", ...auth),
  },
});

export const remove = createRoute({
  method: "delete",
  path: "/users/push-tokens/{id}",
  tags: tagged,
  summary: "Remove one of my push devices",
  security: bearer,
  middleware: [requireUser] as const,
  request: { params: PushTokenIdParamSchema },
  responses: {
    200: jsonContent(envelope(z.null()), "Removed"),
    ...errorResponses("not_found", ...auth),
  },
});

export const deactivateAll = createRoute({
  method: "post",
  path: "/users/push-tokens/deactivate_all",
  tags: tagged,
  summary: "Deactivate all my push devices",
  security: bearer,
  middleware: [requireUser] as const,
  responses: {
    200: jsonContent(envelope(z.object({ deactivated: z.number().int() })), "Deactivated"),
    ...errorResponses(...auth),
  },
});
