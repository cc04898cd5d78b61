/**
 * The AsyncAPI 3.0 document served at /asyncapi.json: every queue this service sends to or
 * consumes, and every message on them, generated from the zod contracts producers and consumers
 * share (contracts.ts), so the catalogue cannot drift from what is validated. Payloads are JSON
 * Schema draft-07 (`z.toJSONSchema`), which AsyncAPI accepts through `schemaFormat`.
 */
import { z } from "zod";
import packageJson from "../../package.json";
import {
  deadLetterSchema,
  EVENT_TYPES,
  EVENT_VERSION,
  type EventData,
  type EventType,
  eventSchema,
  PUSH_JOB_VERSION,
  type PushDeliveryJob,
  type PushRequest,
  pushDeliveryJobSchema,
  pushRequestSchema,
} from "./contracts";

const SCHEMA_FORMAT = "application/schema+json;version=draft-07";
const USER_ID = "3f0c1a8e-5b7d-4c2a-9e61-0d4b8f2a7c11";
const DEVICE_ID = "9a1d4c2e-7b3f-4e8a-b5d1-2c6f8e0a3b47";
const FACTOR_ID = "6b1e2d3c-4f5a-4b6c-9d7e-8f9a0b1c2d3e";
const AT = "2026-11-21T10:00:00.000Z";
const APP = "https://app.example.com";
const ada = { user_id: USER_ID, email: "ada@example.com", name: "Ada Lovelace" };
const adaUser = { ...ada, username: "ada", legacy_id: 42 };
const totp = { ...ada, factor_id: FACTOR_ID, factor_type: "totp" } as const;
const device = { user_id: USER_ID, push_token_id: DEVICE_ID, platform: "ios" } as const;

/** One line on each event type, and the `data` of its example (typed, so it fits the schema). */
const EVENTS: { [T in EventType]: { summary: string; data: EventData<T> } } = {
  "user.created": { summary: "A user registered.", data: adaUser },
  "user.updated": {
    summary: "Fields of the user object changed (`changed` names them).",
    data: { ...adaUser, changed: ["name"] },
  },
  "user.deactivated": {
    summary: "A user's account was deactivated, by themselves or an admin.",
    data: { user_id: USER_ID, email: ada.email, reason: "self", legacy_id: 42 },
  },
  "user.imported": {
    summary: "A user brought over from the Django service, instead of `user.created`.",
    data: { ...adaUser, is_active: true, email_verified: true, role: "user" },
  },
  "user.email_verification_requested": {
    summary: "The email service should send this verification link.",
    data: { ...ada, token: "q3Jx9v", link: `${APP}/verify-email?token=q3Jx9v`, expires_at: AT },
  },
  "user.password_reset_requested": {
    summary: "The email service should send this password-reset link.",
    data: { ...ada, token: "r7Hm4p", link: `${APP}/reset-password?token=r7Hm4p`, expires_at: AT },
  },
  "user.password_changed": {
    summary: "A user's password was changed or reset; their other sessions ended.",
    data: { ...ada, reason: "reset", legacy_id: 42 },
  },
  "user.duplicate_registration": {
    summary: "Someone tried to register an email that has an account; its owner is told.",
    data: { ...ada, login_link: `${APP}/login`, reset_link: `${APP}/forgot-password` },
  },
  "preferences.updated": {
    summary: "A user's notification preferences changed (`preferences`: the whole object after).",
    data: {
      user_id: USER_ID,
      changed: ["quiet_hours_start", "quiet_hours_end"],
      preferences: { push: true, quiet_hours_start: "22:00", quiet_hours_end: "07:00" },
    },
  },
  "push_token.added": {
    summary: "A push device was registered (never with its token).",
    data: { ...device, provider: "apns", device_id: "iphone-15", device_name: "Ada's phone" },
  },
  "push_token.removed": {
    summary: "A push device was removed: deleted, deactivated, moved or reported invalid.",
    data: { ...device, reason: "invalid" },
  },
  "security.refresh_token_reused": {
    summary: "A rotated refresh token was presented again: the session was ended.",
    data: {
      user_id: USER_ID,
      session_id: "7e2b5f1a-3c4d-4e6f-8a9b-0c1d2e3f4a5b",
      ip: "203.0.113.7",
      user_agent: "Mozilla/5.0",
    },
  },
  "security.mfa_enabled": { summary: "A second factor was added.", data: totp },
  "security.mfa_disabled": {
    summary: "A user removed a second factor (`remaining` 0: the password alone signs in).",
    data: { ...totp, remaining: 0 },
  },
  "security.mfa_reset": {
    summary: "An admin removed every factor of a user and ended their sessions.",
    data: { ...ada, by: "9d2a7c4e-1b3f-4a5d-8e6f-7a8b9c0d1e2f" },
  },
  "webhook.endpoint_disabled": {
    summary: "A webhook endpoint failed for WEBHOOK_DISABLE_AFTER_HOURS and was switched off.",
    data: {
      endpoint_id: "3b1f5e7a-9c2d-4e4f-a6b8-c0d2e4f6a8b0",
      url: "https://hooks.example.com/x",
      failing_since: AT,
      last_error: "HTTP 503",
    },
  },
};

const pushRequest: PushRequest = {
  notification_id: "n-1",
  user_id: USER_ID,
  template_code: "welcome",
  variables: { name: "Ada" },
  priority: "normal",
  category: "transactional",
  metadata: {},
};

const deliveryJob: PushDeliveryJob = {
  job_id: "d4c3b2a1-9f8e-5d7c-8b6a-1f2e3d4c5b6a",
  version: PUSH_JOB_VERSION,
  notification_id: "n-1",
  request_id: null,
  correlation_id: null,
  created_at: AT,
  user: { id: USER_ID, name: ada.name, email: ada.email },
  device: { id: DEVICE_ID, token: "fcm-registration-token", platform: "android", provider: "fcm" },
  request: pushRequest,
  original: pushRequest,
};

const deadLetter: z.infer<typeof deadLetterSchema> = {
  dead_letter: { reason: "unknown user", failed_at: AT, notification_id: "n-1", user_id: USER_ID },
  message: pushRequest,
};

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
