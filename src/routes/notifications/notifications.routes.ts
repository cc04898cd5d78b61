/**
 * Route contracts for the delivery-status log: services report what happened to a notification;
 * services, the user and admins read it back.
 */
import { createRoute, z } from "@hono/zod-openapi";
import { requireService, requireUserOrService } from "../../auth/callers";
import { CHANNELS, DELIVERY_STATUSES } from "../../db/schema";
import { envelope, errorResponses, jsonContent, jsonRequest } from "../openapi";
import { listEnvelope, PaginationQuerySchema } from "../pagination";
import { tags } from "../tags";
import { UserIdParamSchema } from "../users/users.schemas";
import { StatusEntrySchema, StatusReportSchema } from "./notifications.schemas";

const tagged = tags("Delivery status");
const serviceKey = [{ serviceKey: [] as string[] }];
const auth = ["authentication_required", "invalid_token", "forbidden"] as const;

/**
 * The routes of one channel. Each channel gets its own paths (rather than a `/{channel}/status`
 * parameter) so another first path segment is simply not a route: 404 for everyone.
 */
function channelRoutes(channel: (typeof CHANNELS)[number]) {
  return {
    report: createRoute({
      method: "post",
      path: `/${channel}/status`,
      tags: tagged,
      summary: `Report a delivery status of an ${channel} notification (services)`,
      security: serviceKey,
      middleware: [requireService] as const,
      request: { body: jsonRequest(StatusReportSchema) },
      responses: {
        201: jsonContent(envelope(StatusEntrySchema), "Recorded"),
        ...errorResponses("validation_failed", ...auth),
      },
    }),
    history: createRoute({
      method: "get",
      path: `/${channel}/status/{notification_id}`,
      tags: tagged,
      summary: `The status history of one ${channel} notification, oldest first (services)`,
      security: serviceKey,
      middleware: [requireService] as const,
      request: {
        params: z.object({
          notification_id: z.string().openapi({ param: { name: "notification_id", in: "path" } }),
        }),
        query: PaginationQuerySchema,
      },
      responses: {
        200: jsonContent(listEnvelope(StatusEntrySchema), "Status history"),
        ...errorResponses("validation_failed", "not_found", ...auth),
      },
    }),
  };
}

export const email = channelRoutes("email");
export const push = channelRoutes("push");

export const forUser = createRoute({
  method: "get",
  path: "/users/{id}/notifications",
  tags: tagged,
  summary: "A user's delivery-status history, newest first (self, admin or service)",
  security: [{ bearerAuth: [] as string[] }, ...serviceKey],
  middleware: [requireUserOrService] as const,
  request: {
    params: UserIdParamSchema,
    query: PaginationQuerySchema.extend({
      channel: z.enum(CHANNELS).optional(),
      status: z.enum(DELIVERY_STATUSES).optional(),
    }),
  },
  responses: {
    200: jsonContent(listEnvelope(StatusEntrySchema), "Delivery statuses"),
    ...errorResponses("validation_failed", "not_found", ...auth),
  },
});
