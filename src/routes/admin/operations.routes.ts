/**
 * Route contracts for operators (admin): a user's sessions and devices, ending the sessions, the
 * failed deliveries of everyone, and the push requests' dead letters with re-drive. What the admin
 * console and `npm run admin` call.
 */
import { createRoute, z } from "@hono/zod-openapi";
import { requireAdmin } from "../../auth/callers";
import { CHANNELS } from "../../db/schema";
import { StatusEntrySchema } from "../notifications/notifications.schemas";
import { envelope, errorResponses, jsonContent } from "../openapi";
import { listEnvelope, PaginationQuerySchema } from "../pagination";
import { PushTokenSchema } from "../push-tokens/push-tokens.schemas";
import { SessionSchema } from "../sessions/sessions.schemas";
import { tags } from "../tags";
import { UserIdParamSchema } from "../users/users.schemas";

const tagged = tags("Admin");
const bearer = [{ bearerAuth: [] as string[] }];
const auth = ["authentication_required", "invalid_token", "forbidden", "mfa_required"] as const;

export const DeadLetterSchema = z
  .object({
    id: z.string(),
    queue: z.string(),
    notification_id: z.string(),
    user_id: z.uuid().nullable(),
    reason: z.string(),
    message: z
      .unknown()
      .openapi({ description: "The original push request; null when too large." }),
    can_redrive: z.boolean(),
    failed_at: z.iso.datetime(),
    redriven_at: z.iso.datetime().nullable(),
    redriven_by: z
      .string()
      .nullable()
      .openapi({ description: "An admin's id, or `service:<name>`" }),
  })
  .openapi("DeadLetter", {
    example: {
      id: "5a0e7f8c1b2d4e3f9a8b7c6d5e4f3a2b",
      queue: "push-requests",
      notification_id: "notif-42",
      user_id: "3f0c2a9e-7b1d-4c5e-8f6a-9b0c1d2e3f4a",
      reason: "retries exhausted: D1_ERROR: database is locked",
      message: { notification_id: "notif-42", user_id: "3f0c2a9e-7b1d-4c5e-8f6a-9b0c1d2e3f4a" },
      can_redrive: true,
      failed_at: "2026-11-21T09:30:00.000Z",
      redriven_at: null,
      redriven_by: null,
    },
  });

export const userSessions = createRoute({
  method: "get",
  path: "/admin/users/{id}/sessions",
  tags: tagged,
  summary: "A user's active sessions (admin)",
  security: bearer,
  middleware: [requireAdmin] as const,
  request: { params: UserIdParamSchema, query: PaginationQuerySchema },
  responses: {
    200: jsonContent(listEnvelope(SessionSchema), "Active sessions, most recently used first"),
    ...errorResponses("validation_failed", "not_found", ...auth),
  },
});

export const endUserSessions = createRoute({
  method: "delete",
  path: "/admin/users/{id}/sessions",
  tags: tagged,
  summary: "End every session of a user (admin)",
  description: "Their access tokens stop working at once (deny-list); audited with who did it.",
  security: bearer,
  middleware: [requireAdmin] as const,
  request: { params: UserIdParamSchema },
  responses: {
    200: jsonContent(envelope(z.object({ revoked_sessions: z.number().int() })), "Ended"),
    ...errorResponses("not_found", ...auth),
  },
});

export const userDevices = createRoute({
  method: "get",
  path: "/admin/users/{id}/push-tokens",
  tags: tagged,
  summary: "A user's push devices (admin; never the token values)",
  security: bearer,
  middleware: [requireAdmin] as const,
  request: { params: UserIdParamSchema, query: PaginationQuerySchema },
  responses: {
    200: jsonContent(listEnvelope(PushTokenSchema), "Devices, newest first"),
    ...errorResponses("validation_failed", "not_found", ...auth),
  },
});

export const failedNotifications = createRoute({
  method: "get",
  path: "/admin/notifications/failed",
  tags: tagged,
  summary: "Failed deliveries of every user, newest first (admin)",
  security: bearer,
  middleware: [requireAdmin] as const,
  request: { query: PaginationQuerySchema.extend({ channel: z.enum(CHANNELS).optional() }) },
  responses: {
    200: jsonContent(listEnvelope(StatusEntrySchema), "Status entries with status `failed`"),
    ...errorResponses("validation_failed", ...auth),
  },
});

export const deadLetters = createRoute({
  method: "get",
  path: "/admin/dead-letters",
  tags: tagged,
  summary: "Push requests that ended in the dead-letter queue (admin)",
  security: bearer,
  middleware: [requireAdmin] as const,
  request: {
    query: PaginationQuerySchema.extend({ state: z.enum(["pending", "redriven"]).optional() }),
  },
  responses: {
    200: jsonContent(listEnvelope(DeadLetterSchema), "Dead letters, newest first"),
    ...errorResponses("validation_failed", ...auth),
  },
});

export const redrive = createRoute({
  method: "post",
  path: "/admin/dead-letters/{id}/redrive",
  tags: tagged,
  summary: "Send a dead letter back to push-requests (admin)",
  description: "Once: a second re-drive, or one whose original was too large to keep, is 409.",
  security: bearer,
  middleware: [requireAdmin] as const,
  request: {
    params: z.object({
      id: z
        .string()
        .min(1)
        .max(128)
        .openapi({ param: { name: "id", in: "path" } }),
    }),
  },
  responses: {
    202: jsonContent(envelope(DeadLetterSchema), "Queued again"),
    ...errorResponses("not_found", "conflict", "service_unavailable", ...auth),
  },
});
