/**
 * The AsyncAPI 3.0 document served at /asyncapi.json: every queue this service sends to or
 * consumes, and every message on them, generated from the zod contracts producers and consumers
 * share (contracts.ts, push-messages.ts), so the catalogue cannot drift from what is validated. Payloads are JSON
 * Schema draft-07 (`z.toJSONSchema`), which AsyncAPI accepts through `schemaFormat`.
 */
import { z } from "zod";
import packageJson from "../../package.json";
import { AT, deadLetter, deliveryJob, EVENTS, pushRequest } from "./asyncapi-examples";
import { EVENT_TYPES, EVENT_VERSION, eventSchema } from "./contracts";
import { deadLetterSchema, pushDeliveryJobSchema, pushRequestSchema } from "./push-messages";

const SCHEMA_FORMAT = "application/schema+json;version=draft-07";
type Json = Record<string, unknown>;

/** A message: its payload as JSON Schema (what a consumer may receive: `io`), one example. */
function message(
  name: string,
  summary: string,
  schema: z.ZodType,
  example: unknown,
  io: "input" | "output" = "output",
): Json {
  return {
    name,
    title: name,
    summary,
    contentType: "application/json",
    payload: {
      schemaFormat: SCHEMA_FORMAT,
      schema: z.toJSONSchema(schema, { target: "draft-07", io }),
    },
    examples: [{ name: "example", payload: example }],
  };
}

/** Event examples share one envelope; each gets its own id (`…2a10`, `…2a11`, …). */
function eventMessages(): Record<string, Json> {
  const entries = EVENT_TYPES.map((type, i) => {
    const example = {
      id: `5b0e6a4e-3f0a-4c62-9a2e-8d1f7c3b2a${10 + i}`,
      type,
      version: EVENT_VERSION,
      occurred_at: AT,
      correlation_id: "c0ffee00-1234-4abc-8def-000000000001",
      data: EVENTS[type].data,
    };
    const msg = message(type, EVENTS[type].summary, eventSchema(type), example);
    return [type, { ...msg, correlationId: { $ref: "#/components/correlationIds/request" } }];
  });
  return Object.fromEntries(entries);
}

const PUSH_REQUEST = "push.request";
const DELIVERY_JOB = "push.delivery_job";
const DEAD_LETTER = "push.dead_letter";
const ALL_EVENTS: string[] = EVENT_TYPES;

/** The queues (wrangler.toml), each a channel whose address is the queue's name. */
const CHANNELS: Record<string, [description: string, messages: string[]]> = {
  "user-events": ["Every event, for the email service and other consumers.", ALL_EVENTS],
  "webhook-events": ["Every event again, fanned out to webhook endpoints.", ALL_EVENTS],
  "push-requests": [
    "Push requests from the notification platform (the replaced services' shapes are accepted " +
      "too, and normalised to this one).",
    [PUSH_REQUEST],
  ],
  "push-delivery": ["One enriched job per device, for the push service.", [DELIVERY_JOB]],
  "push-requests-dlq": [
    "Requests this service gave up on (a dead letter with the reason), and requests whose " +
      "retries ran out, as they were sent.",
    [DEAD_LETTER, PUSH_REQUEST],
  ],
};

type Operation = [action: "send" | "receive", queue: string, summary: string, messages: string[]];

const OPERATIONS: Record<string, Operation> = {
  publishEvents: ["send", "user-events", "Publish committed events.", ALL_EVENTS],
  publishWebhookEvents: ["send", "webhook-events", "Publish them for webhooks too.", ALL_EVENTS],
  fanOutWebhookEvents: [
    "receive",
    "webhook-events",
    "Turn each event into one signed delivery per subscribed webhook endpoint.",
    ALL_EVENTS,
  ],
  receivePushRequests: [
    "receive",
    "push-requests",
    "Decide each push request: deliver, defer to the end of quiet hours, skip or fail.",
    [PUSH_REQUEST],
  ],
  enqueuePushRequests: [
    "send",
    "push-requests",
    "Queue requests posted over HTTP, and re-queue deferred ones with a delay.",
    [PUSH_REQUEST],
  ],
  sendDeliveryJobs: ["send", "push-delivery", "Publish delivery jobs.", [DELIVERY_JOB]],
  deadLetterPushRequests: [
    "send",
    "push-requests-dlq",
    "Copy a request this service failed (invalid, unknown user) with the reason.",
    [DEAD_LETTER],
  ],
  recordDeadLetters: [
    "receive",
    "push-requests-dlq",
    "Record each dead letter's notification as failed.",
    [DEAD_LETTER, PUSH_REQUEST],
  ],
};

const ref = (path: string) => ({ $ref: `#/${path}` });

function buildDocument() {
  const channels = Object.entries(CHANNELS).map(([queue, [description, messages]]) => [
    queue,
    {
      address: queue,
      description,
      messages: Object.fromEntries(messages.map((m) => [m, ref(`components/messages/${m}`)])),
    },
  ]);
  // An operation names the messages it carries among its channel's.
  const operations = Object.entries(OPERATIONS).map(([id, [action, queue, summary, messages]]) => [
    id,
    {
      action,
      summary,
      channel: ref(`channels/${queue}`),
      messages: messages.map((m) => ref(`channels/${queue}/messages/${m}`)),
    },
  ]);
  return {
    asyncapi: "3.0.0",
    info: {
      title: "User Service events",
      version: packageJson.version,
      description:
        "The events this service publishes and the queue messages of its push pipeline, on " +
        "Cloudflare Queues. Every change commits with its events in one batch (an outbox), then " +
        "they are published: delivery is at least once, so consumers deduplicate by the event's " +
        "`id` (a delivery job's `job_id`). Every event type is at `version` " +
        `${EVENT_VERSION}; a breaking change to a type's \`data\` bumps it.`,
    },
    defaultContentType: "application/json",
    channels: Object.fromEntries(channels),
    operations: Object.fromEntries(operations),
    components: {
      messages: {
        ...eventMessages(),
        // Received: what a producer may send, so fields with defaults are optional.
        [PUSH_REQUEST]: message(
          PUSH_REQUEST,
          "A push request, once normalised; fields beyond these travel with the job.",
          pushRequestSchema,
          pushRequest,
          "input",
        ),
        [DELIVERY_JOB]: message(
          DELIVERY_JOB,
          "One delivery to one device: everything the push service needs.",
          pushDeliveryJobSchema,
          deliveryJob,
        ),
        [DEAD_LETTER]: message(
          DEAD_LETTER,
          "A request this service gave up on, with the reason (`message` null when too large).",
          deadLetterSchema,
          deadLetter,
        ),
      },
      correlationIds: {
        request: {
          description: "The correlation id of the request that caused the event.",
          location: "$message.payload#/correlation_id",
        },
      },
    },
  };
}

type AsyncApiDocument = ReturnType<typeof buildDocument>;

let built: AsyncApiDocument | undefined;

/** The document, built on first use and kept for the isolate's life (it depends on no input). */
export function asyncApiDocument(): AsyncApiDocument {
  built ??= buildDocument();
  return built;
}
