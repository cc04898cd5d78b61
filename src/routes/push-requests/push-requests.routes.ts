/**
 * Route contracts for producers outside Cloudflare: push requests over HTTP, in every shape the
 * queue consumer accepts, and the Django user service's test path onto the same thing.
 */
import { createRoute, z } from "@hono/zod-openapi";
import { requireService } from "../../auth/callers";
import { examples } from "../examples";
import { envelope, errorResponses, jsonContent, jsonRequest } from "../openapi";
import { tags } from "../tags";

const serviceKey = [{ serviceKey: [] as string[] }];
const auth = ["authentication_required", "invalid_token", "forbidden"] as const;
/** What Cloudflare Queues take in one sendBatch. */
const MAX_BATCH = 100;

const PushRequestBody = z.record(z.string(), z.unknown()).openapi({
  description:
    "A push request as the queue consumer takes it: `{notification_id, user_id, " +
    "template_code, variables, priority, category?, metadata}`, or as the replaced services' " +
    "producers send it (`request_id`/`correlation_id` for `notification_id`, " +
    "`metadata.user_id`, `template_id`, an integer `priority` 0–10, `type`/`notification_type`).",
});

export const IngressResultSchema = z
  .object({
    index: z.number().int().openapi({ description: "Position in the batch (0 for one request)." }),
    status: z.enum(["accepted", "duplicate", "refused"]),
    notification_id: z.string().nullable(),
    reason: z.string().optional().openapi({ description: "Why it was refused." }),
  })
  .openapi("PushIngressResult", {
    example: {
      index: 0,
      status: "accepted",
      notification_id: "3edc3a01-ebb5-45eb-bde6-340401cf0b1b",
    },
  });

export const ingest = createRoute({
  method: "post",
  path: "/push/requests",
  tags: tags("Notifications"),
  summary: "Queue push requests from outside Cloudflare (services)",
  description:
    `One request or a batch of up to ${MAX_BATCH}. Each is validated as the queue consumer ` +
    "validates it; the valid ones are queued on PUSH_REQUESTS exactly as sent. Idempotent by " +
    "notification id: a request posted again is `duplicate` and not queued twice. 202 with one " +
    "result per request, in order.",
  security: serviceKey,
  middleware: [requireService] as const,
  request: {
    body: jsonRequest(
      z.union([PushRequestBody, z.array(PushRequestBody).min(1).max(MAX_BATCH)]).openapi({
        example: {
          request_id: "3edc3a01-ebb5-45eb-bde6-340401cf0b1b",
          template_id: "welcome",
          variables: { user_name: "Ada" },
          priority: 8,
          metadata: { user_id: examples.userId, source: "api_gateway" },
          type: "push",
        },
      }),
    ),
  },
  responses: {
    202: jsonContent(
      envelope(
        z.object({
          accepted: z.number().int(),
          duplicates: z.number().int(),
          refused: z.number().int(),
          results: z.array(IngressResultSchema),
        }),
      ),
      "One result per request",
    ),
    ...errorResponses("validation_failed", "service_unavailable", ...auth),
  },
});

const TestNotificationSchema = z
  .object({
    user_id: z.uuid(),
    template_code: z.string().min(1).max(255).optional(),
    variables: z.record(z.string(), z.unknown()).optional(),
    priority: z.number().int().min(0).max(10).optional(),
    metadata: z.record(z.string(), z.unknown()).optional(),
    notification_type: z.literal("push").optional(),
  })
  .openapi("TestNotificationRequest", {
    example: {
      user_id: examples.userId,
      template_code: "WELCOME_TEST",
      variables: { name: "Ada" },
    },
  });

export const testNotification = createRoute({
  method: "post",
  path: "/notifications/test",
  tags: tags("Notifications"),
  summary: "Queue a test push notification (the Django user service's test path; services)",
  description:
    "Builds the request the Django service's test endpoint published — `notification_type: " +
    '"push"`, a new `request_id`, `template_code` `WELCOME_TEST` and `priority` 1 unless sent, ' +
    '`metadata.source` `"test-endpoint"` — and queues it like POST /push/requests/.',
  security: serviceKey,
  middleware: [requireService] as const,
  request: { body: jsonRequest(TestNotificationSchema) },
  responses: {
    200: jsonContent(
      envelope(
        z.object({
          message: z.string(),
          payload: z.record(z.string(), z.unknown()),
        }),
      ),
      "Queued; the payload as queued",
    ),
    ...errorResponses("validation_failed", "service_unavailable", ...auth),
  },
});
