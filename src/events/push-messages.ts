/**
 * Push pipeline messages (DESIGN §6), beside the event contracts (contracts.ts): requests in
 * (PUSH_REQUESTS, from the notification platform), delivery jobs out (PUSH_DELIVERY, to the push
 * service), and the dead letters of requests. Producers and consumers share these zod schemas.
 */
import { z } from "zod";
import { PLATFORMS, PROVIDERS } from "../db/schema";

const PUSH_CATEGORIES = ["marketing", "transactional", "security", "system"] as const;
const PUSH_PRIORITIES = ["low", "normal", "high"] as const;

/**
 * The integer priorities real producers send (0–10, RabbitMQ's `x-max-priority` 10) onto ours:
 * 0–3 low, 4–6 normal, 7–10 high. The integer itself stays in the job's `original`.
 */
function priorityFromLevel(level: number): (typeof PUSH_PRIORITIES)[number] {
  if (level <= 3) return "low";
  return level <= 6 ? "normal" : "high";
}

const absent = (value: unknown) => value === undefined || value === null || value === "";
const isRecord = (value: unknown): value is Record<string, unknown> =>
  typeof value === "object" && value !== null && !Array.isArray(value);

/**
 * A push request in any shape its real producers send, in ours (DESIGN §6): `notification_id`
 * falls back to `request_id`, then `correlation_id`; `user_id` to `metadata.user_id`;
 * `template_code` to `template_id`; an integer `priority` 0–10 becomes low/normal/high. Every
 * other field is kept as sent. What is not an object is returned as is (and fails validation).
 */
export function normalizePushRequest(body: unknown): unknown {
  if (!isRecord(body)) return body;
  const out: Record<string, unknown> = { ...body };
  if (absent(out.notification_id))
    out.notification_id = [body.request_id, body.correlation_id].find((id) => !absent(id));
  if (absent(out.user_id) && isRecord(body.metadata)) out.user_id = body.metadata.user_id;
  if (absent(out.template_code)) out.template_code = body.template_id;
  const { priority } = body;
  if (
    typeof priority === "number" &&
    Number.isInteger(priority) &&
    priority >= 0 &&
    priority <= 10
  ) {
    out.priority = priorityFromLevel(priority);
  }
  return out;
}

/** The channel a request names (`type` from the gateway, `notification_type` from Django). */
export function requestChannel(body: unknown): string | null {
  if (!isRecord(body)) return null;
  const channel = body.type ?? body.notification_type;
  return typeof channel === "string" ? channel : null;
}

/**
 * A push request, once normalised (`normalizePushRequest`). Loose: fields the producer sent
 * beyond these (`retry_count`, `created_at`, …) are kept and travel with the job.
 */
export const pushRequestSchema = z.looseObject({
  notification_id: z.string().min(1).max(255),
  user_id: z.uuid(),
  template_code: z.string().min(1).max(255),
  variables: z.record(z.string(), z.unknown()).default({}),
  priority: z.enum(PUSH_PRIORITIES).default("normal"),
  category: z.enum(PUSH_CATEGORIES).optional(),
  metadata: z.record(z.string(), z.unknown()).default({}),
  request_id: z.string().max(255).optional(),
  correlation_id: z.string().max(255).optional(),
});

export type PushRequest = z.infer<typeof pushRequestSchema>;

export const PUSH_JOB_VERSION = 1;

/** One delivery to one device: everything the push service needs, nothing it must look up. */
export const pushDeliveryJobSchema = z.object({
  job_id: z.uuid(),
  version: z.literal(PUSH_JOB_VERSION),
  notification_id: z.string(),
  /** The producer's own ids, when it sent them, so it can match the job to its request. */
  request_id: z.string().nullable(),
  correlation_id: z.string().nullable(),
  created_at: z.iso.datetime(),
  user: z.object({ id: z.uuid(), name: z.string(), email: z.email() }),
  device: z.object({
    id: z.uuid(),
    token: z.string(),
    platform: z.enum(PLATFORMS),
    provider: z.enum(PROVIDERS),
  }),
  /** The request as understood (normalised). */
  request: pushRequestSchema,
  /** The request exactly as its producer sent it. */
  original: z.unknown(),
});

export type PushDeliveryJob = z.infer<typeof pushDeliveryJobSchema>;

/**
 * A request this service gave up on itself (invalid, unknown user), copied to the dead-letter
 * queue with the reason. Requests that exhausted their retries arrive there as they were sent.
 */
export const deadLetterSchema = z.object({
  dead_letter: z.object({
    reason: z.string(),
    failed_at: z.iso.datetime(),
    notification_id: z.string(),
    user_id: z.uuid().nullable(),
  }),
  /** The message as received; null when it was too large to copy. */
  message: z.unknown(),
});
