/**
 * Local stand-ins for the services this one talks to (DESIGN §6), mounted only by the local entry
 * (src/dev/local.ts), never by the production one. Even there they answer only while dev tools
 * are on (src/dev/enabled.ts); otherwise every path here is a plain 404. The benchmarks' own
 * routes are in bench.routes.ts. HTTP code like every route, under src/routes/ (DESIGN §2); what
they show lives in src/dev/.
 */
import { createRoute, z } from "@hono/zod-openapi";
import { devToolsOnly } from "../../dev/enabled";
import { mailboxPage, messagePage } from "../../dev/mailbox-page";
import { PASSKEY_PAGE, PASSKEY_SCRIPT } from "../../dev/passkey-page";
import { listDevMailbox, listDevPushDeliveries } from "../../dev/store";
import { ApiError } from "../../errors";
import type { AnyEvent } from "../../events/contracts";
import type { PushDeliveryJob } from "../../events/push-messages";
import { createRouter, envelope, errorResponses, jsonContent, jsonRequest, ok } from "../openapi";
import { tags } from "../tags";
import { emailField } from "../users/users.schemas";

const MAILBOX_LIMIT = 50;

const mailbox = createRoute({
  method: "get",
  path: "/_dev/mailbox",
  tags: tags("Dev tools"),
  summary: "Local only (DEV_TOOLS): the USER_EVENTS messages sent to an address, newest first",
  description:
    "What the email service would have received: verification and reset links included. " +
    "Absent (404) unless DEV_TOOLS is on.",
  middleware: [devToolsOnly] as const,
  request: { query: z.object({ to: emailField }) },
  responses: {
    200: jsonContent(
      z.object({
        success: z.literal(true),
        message: z.string(),
        data: z.array(
          z.object({
            id: z.string(),
            type: z.string(),
            version: z.number(),
            occurred_at: z.string(),
            correlation_id: z.string(),
            data: z.record(z.string(), z.unknown()),
          }),
        ),
      }),
      "Messages, newest first (at most 50)",
    ),
    ...errorResponses("validation_failed", "not_found"),
  },
});

const htmlPage = (description: string) => ({
  content: { "text/html": { schema: z.string() } },
  description,
});

const mailboxView = createRoute({
  method: "get",
  path: "/_dev/mailbox/view",
  tags: tags("Dev tools"),
  summary: "Local only (DEV_TOOLS): the dev mailbox as rendered emails with clickable links",
  description:
    "The messages of GET /_dev/mailbox, newest first, each as the email the email service " +
    "would send, with a form to open another address. Without `to`, only the form. Absent " +
    "(404) unless DEV_TOOLS is on.",
  middleware: [devToolsOnly] as const,
  request: { query: z.object({ to: emailField.optional() }) },
  responses: {
    200: htmlPage("The HTML page"),
    ...errorResponses("validation_failed", "not_found"),
  },
});

const mailboxMessageView = createRoute({
  method: "get",
  path: "/_dev/mailbox/view/{event_id}",
  tags: tags("Dev tools"),
  summary: "Local only (DEV_TOOLS): one message of the dev mailbox, rendered as its email",
  description:
    "One of the messages the list shows (the newest 50 to the address). Absent (404) unless " +
    "DEV_TOOLS is on.",
  middleware: [devToolsOnly] as const,
  request: {
    params: z.object({
      event_id: z.string().openapi({ param: { name: "event_id", in: "path" }, format: "uuid" }),
    }),
    query: z.object({ to: emailField }),
  },
  responses: {
    200: htmlPage("The HTML page"),
    ...errorResponses("validation_failed", "not_found"),
  },
});

const pushRequests = createRoute({
  method: "post",
  path: "/_dev/push-requests",
  tags: tags("Dev tools"),
  summary: "Local only (DEV_TOOLS): enqueue a push request as the notification platform would",
  description:
    "The body goes to PUSH_REQUESTS exactly as sent — invalid ones too, to try the consumer's " +
    "handling of bad input. Absent (404) unless DEV_TOOLS is on.",
  middleware: [devToolsOnly] as const,
  request: {
    body: jsonRequest(
      z
        .union([
          z.record(z.string(), z.unknown()),
          z.array(z.record(z.string(), z.unknown())).min(1).max(100),
        ])
        .openapi({
          description: "One request, or up to 100 sent as one batch.",
          example: {
            notification_id: "n-1",
            user_id: "3f0c1a8e-5b7d-4c2a-9e61-0d4b8f2a7c11",
            template_code: "welcome",
            variables: { name: "Ada" },
            priority: "normal",
            category: "transactional",
            metadata: {},
          },
        }),
    ),
  },
  responses: {
    202: jsonContent(envelope(z.null()), "Enqueued"),
    ...errorResponses("validation_failed", "not_found"),
  },
});

const pushDeliveries = createRoute({
  method: "get",
  path: "/_dev/push-deliveries",
  tags: tags("Dev tools"),
  summary: "Local only (DEV_TOOLS): the PUSH_DELIVERY jobs produced for a user, newest first",
  middleware: [devToolsOnly] as const,
  request: { query: z.object({ user_id: z.uuid() }) },
  responses: {
    200: jsonContent(
      z.object({
        success: z.literal(true),
        message: z.string(),
        data: z.array(z.record(z.string(), z.unknown())),
      }),
      "Jobs, newest first (at most 50)",
    ),
    ...errorResponses("validation_failed", "not_found"),
  },
});

const passkeyPage = createRoute({
  method: "get",
  path: "/_dev/passkeys",
  tags: tags("Dev tools"),
  summary: "Local only (DEV_TOOLS): a page for trying passkeys in a browser",
  description:
    "Registers a user and a passkey, then signs in with the passkey alone or after the " +
    "password, through the API as a browser client would. Open it on http://localhost with " +
    "its origin in WEBAUTHN_ORIGINS. Absent (404) unless DEV_TOOLS is on.",
  middleware: [devToolsOnly] as const,
  responses: {
    200: { content: { "text/html": { schema: z.string() } }, description: "The HTML page" },
    ...errorResponses("not_found"),
  },
});

const passkeyScript = createRoute({
  method: "get",
  path: "/_dev/passkeys.js",
  tags: tags("Dev tools"),
  summary: "Local only (DEV_TOOLS): the script of the passkeys page",
  middleware: [devToolsOnly] as const,
  responses: {
    200: { content: { "text/javascript": { schema: z.string() } }, description: "The script" },
    ...errorResponses("not_found"),
  },
});

export const devRouter = createRouter()
  .openapi(mailbox, async (c) => {
    const { to } = c.req.valid("query");
    const messages = await listDevMailbox<AnyEvent>(c.env.KV, to, MAILBOX_LIMIT);
    return c.json({ success: true as const, message: "Mailbox retrieved", data: messages }, 200);
  })
  .openapi(mailboxView, async (c) => {
    const { to } = c.req.valid("query");
    const messages = to ? await listDevMailbox<AnyEvent>(c.env.KV, to, MAILBOX_LIMIT) : [];
    return c.html(mailboxPage(to, messages, MAILBOX_LIMIT), 200);
  })
  .openapi(mailboxMessageView, async (c) => {
    const { to } = c.req.valid("query");
    const { event_id } = c.req.valid("param");
    const messages = await listDevMailbox<AnyEvent>(c.env.KV, to, MAILBOX_LIMIT);
    const message = messages.find((m) => m.id === event_id);
    if (!message) throw new ApiError("not_found", "No such message to this address");
    return c.html(messagePage(to, message), 200);
  })
  .openapi(pushRequests, async (c) => {
    const body = c.req.valid("json");
    const requests = Array.isArray(body) ? body : [body];
    await c.env.PUSH_REQUESTS.sendBatch(
      requests.map((r) => ({ body: r, contentType: "json" as const })),
    );
    return c.json(ok(`${requests.length} push request(s) enqueued`, null), 202);
  })
  .openapi(pushDeliveries, async (c) => {
    const jobs = await listDevPushDeliveries<PushDeliveryJob>(
      c.env.KV,
      c.req.valid("query").user_id,
      MAILBOX_LIMIT,
    );
    return c.json(
      { success: true as const, message: "Push deliveries retrieved", data: jobs },
      200,
    );
  })
  .openapi(passkeyPage, (c) => c.html(PASSKEY_PAGE, 200))
  .openapi(passkeyScript, (c) =>
    c.body(PASSKEY_SCRIPT, 200, { "Content-Type": "text/javascript; charset=utf-8" }),
  );
