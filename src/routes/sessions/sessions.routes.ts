/**
 * Route contracts for the caller's own sessions (one per login).
 */
import { createRoute, z } from "@hono/zod-openapi";
import { requireUser } from "../../auth/middleware";
import { envelope, errorResponses, jsonContent } from "../openapi";
import { listEnvelope, PaginationQuerySchema } from "../pagination";
import { tags } from "../tags";
import { SessionIdParamSchema, SessionSchema } from "./sessions.schemas";

const tagged = tags("Sessions");
const bearer = [{ bearerAuth: [] }];

export const list = createRoute({
  method: "get",
  path: "/auth/sessions",
  tags: tagged,
  summary: "My active sessions, most recently used first",
  security: bearer,
  middleware: [requireUser] as const,
  request: { query: PaginationQuerySchema },
  responses: {
    200: jsonContent(listEnvelope(SessionSchema), "Active sessions"),
    ...errorResponses("validation_failed", "authentication_required", "invalid_token"),
  },
});

export const revoke = createRoute({
  method: "delete",
  path: "/auth/sessions/{id}",
  tags: tagged,
  summary: "Revoke one of my sessions (logs that device out)",
  description: "Another user's session, an unknown id and an already revoked session are all 404.",
  security: bearer,
  middleware: [requireUser] as const,
  request: { params: SessionIdParamSchema },
  responses: {
    200: jsonContent(envelope(z.null()), "Revoked"),
    ...errorResponses("authentication_required", "invalid_token", "not_found"),
  },
});
