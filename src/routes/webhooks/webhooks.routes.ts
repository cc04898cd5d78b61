/**
 * Route contracts for webhook endpoints (admin): create (the secret is shown once), list, read,
 * change, delete; an endpoint's delivery log and re-delivery.
 */
import { createRoute, z } from "@hono/zod-openapi";
import { requireAdmin } from "../../auth/callers";
import { WEBHOOK_DELIVERY_STATUSES, WEBHOOK_DISABLED_REASONS } from "../../db/schema";
import { EVENT_TYPES } from "../../events/contracts";
import { ALL_EVENTS } from "../../webhooks/endpoints";
import { envelope, errorResponses, jsonContent, jsonRequest } from "../openapi";
import { listEnvelope, PaginationQuerySchema } from "../pagination";
import { tags } from "../tags";

const tagged = tags("Webhooks");
const bearer = [{ bearerAuth: [] as string[] }];
const auth = ["authentication_required", "invalid_token", "forbidden"] as const;
const id = "3b1f5d4e-8c57-4c3e-9f55-0f5a0c1d2e3f";

const EventTypeSchema = z.enum([ALL_EVENTS, ...EVENT_TYPES] as [string, ...string[]]).openapi({
  description:
    "An event type, or `*` for every event except those carrying one-time tokens " +
    "(`user.email_verification_requested`, `user.password_reset_requested`, " +
    "`user.sign_in_code_requested`), which must be named.",
});

const EndpointFields = {
  url: z.string().max(2048).openapi({
    description: "Where deliveries are POSTed. Production: `https` to a public host only.",
    example: "https://hooks.example.com/user-service",
  }),
  event_types: z.array(EventTypeSchema).min(1).max(50),
  description: z.string().trim().max(500).nullable().optional(),
  enabled: z.boolean().optional(),
};

const endpointExample = {
  id,
  url: "https://hooks.example.com/user-service",
  description: "Payments",
  event_types: ["user.created"],
  enabled: true,
  disabled_reason: null,
  failing_since: null,
  created_at: "2026-12-01T10:00:00.000Z",
  updated_at: "2026-12-01T10:00:00.000Z",
};

export const WebhookEndpointSchema = z
  .object({
    id: z.string(),
    url: z.string(),
    description: z.string().nullable(),
    event_types: z.array(z.string()),
    enabled: z.boolean(),
    disabled_reason: z.enum(WEBHOOK_DISABLED_REASONS).nullable().openapi({
      description: "`admin` (switched off) or `failing` (failed too long; switched off for you).",
    }),
    failing_since: z.string().nullable(),
    created_at: z.string(),
    updated_at: z.string(),
  })
  .openapi("WebhookEndpoint", { example: endpointExample });

export const WebhookDeliverySchema = z
  .object({
    id: z.string().openapi({ description: "The `webhook-id` of every attempt." }),
    endpoint_id: z.string(),
    event_id: z.string(),
    event_type: z.string(),
    status: z.enum(WEBHOOK_DELIVERY_STATUSES),
    attempts: z.number().int(),
    last_status: z.number().int().nullable(),
    last_error: z.string().nullable(),
    latency_ms: z.number().int().nullable(),
    created_at: z.string(),
    updated_at: z.string(),
    delivered_at: z.string().nullable(),
  })
  .openapi("WebhookDelivery", {
    example: {
      id: "0e7d2a51-6f7b-4f0e-8a35-5b8d1f6c9a20",
      endpoint_id: id,
      event_id: "5b0e6a4e-3f0a-4c62-9a2e-8d1f7c3b2a10",
      event_type: "user.created",
      status: "succeeded",
      attempts: 1,
      last_status: 204,
      last_error: null,
      latency_ms: 42,
      created_at: "2026-12-01T10:00:00.000Z",
      updated_at: "2026-12-01T10:00:00.042Z",
      delivered_at: "2026-12-01T10:00:00.042Z",
    },
  });

const EndpointParams = z.object({
  id: z.string().openapi({ param: { name: "id", in: "path" }, format: "uuid" }),
});

export const create = createRoute({
  method: "post",
  path: "/admin/webhooks",
  tags: tagged,
  summary: "Create a webhook endpoint (admin)",
  description:
    "Answers the endpoint with its `secret` (`whsec_…`), shown this once: give it to the " +
    "receiver's Standard Webhooks library to verify `webhook-signature`.",
  security: bearer,
  middleware: [requireAdmin] as const,
  request: {
    body: jsonRequest(
      z.object(EndpointFields).openapi("WebhookEndpointCreate", {
        example: { url: "https://hooks.example.com/user-service", event_types: ["user.created"] },
      }),
    ),
  },
  responses: {
    201: jsonContent(
      envelope(
        WebhookEndpointSchema.extend({ secret: z.string() }).openapi({
          example: { ...endpointExample, secret: "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw" },
        }),
      ),
      "The endpoint and its secret",
    ),
    ...errorResponses("validation_failed", ...auth),
  },
});

export const list = createRoute({
  method: "get",
  path: "/admin/webhooks",
  tags: tagged,
  summary: "List webhook endpoints (admin)",
  security: bearer,
  middleware: [requireAdmin] as const,
  responses: {
    200: jsonContent(envelope(z.array(WebhookEndpointSchema)), "Endpoints, newest first"),
    ...errorResponses(...auth),
  },
});

export const read = createRoute({
  method: "get",
  path: "/admin/webhooks/{id}",
  tags: tagged,
  summary: "Read a webhook endpoint (admin)",
  security: bearer,
  middleware: [requireAdmin] as const,
  request: { params: EndpointParams },
  responses: {
    200: jsonContent(envelope(WebhookEndpointSchema), "The endpoint"),
    ...errorResponses("not_found", ...auth),
  },
});

export const update = createRoute({
  method: "patch",
  path: "/admin/webhooks/{id}",
  tags: tagged,
  summary: "Change, disable or enable a webhook endpoint (admin)",
  description:
    "Enabling an endpoint (also one disabled for failing) starts its failure clock afresh.",
  security: bearer,
  middleware: [requireAdmin] as const,
  request: {
    params: EndpointParams,
    body: jsonRequest(
      z
        .object(EndpointFields)
        .partial()
        .openapi("WebhookEndpointUpdate", { example: { enabled: false } }),
    ),
  },
  responses: {
    200: jsonContent(envelope(WebhookEndpointSchema), "The endpoint"),
    ...errorResponses("validation_failed", "not_found", ...auth),
  },
});

export const remove = createRoute({
  method: "delete",
  path: "/admin/webhooks/{id}",
  tags: tagged,
  summary: "Delete a webhook endpoint and its delivery log (admin)",
  security: bearer,
  middleware: [requireAdmin] as const,
  request: { params: EndpointParams },
  responses: {
    200: jsonContent(envelope(z.null()), "Deleted"),
    ...errorResponses("not_found", ...auth),
  },
});

export const deliveries = createRoute({
  method: "get",
  path: "/admin/webhooks/{id}/deliveries",
  tags: tagged,
  summary: "An endpoint's delivery log (admin)",
  description: "Newest first: status, attempts, the last HTTP status or error, latency.",
  security: bearer,
  middleware: [requireAdmin] as const,
  request: {
    params: EndpointParams,
    query: PaginationQuerySchema.extend({ status: z.enum(WEBHOOK_DELIVERY_STATUSES).optional() }),
  },
  responses: {
    200: jsonContent(listEnvelope(WebhookDeliverySchema), "Deliveries"),
    ...errorResponses("validation_failed", "not_found", ...auth),
  },
});

export const redeliver = createRoute({
  method: "post",
  path: "/admin/webhooks/{id}/deliveries/{delivery_id}/redeliver",
  tags: tagged,
  summary: "Deliver an event to an endpoint again (admin)",
  description: "Queues the delivery again, whatever its status; its attempts go on counting.",
  security: bearer,
  middleware: [requireAdmin] as const,
  request: {
    params: EndpointParams.extend({
      delivery_id: z
        .string()
        .openapi({ param: { name: "delivery_id", in: "path" }, format: "uuid" }),
    }),
  },
  responses: {
    202: jsonContent(envelope(WebhookDeliverySchema), "Queued again"),
    ...errorResponses("not_found", "conflict", ...auth),
  },
});
