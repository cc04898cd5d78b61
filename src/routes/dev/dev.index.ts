/**
 * Local stand-ins for the services this one talks to (DESIGN §6). They exist only when DEV_TOOLS
 * is on — never in production; otherwise every path here is a plain 404.
 */
import { createRoute, z } from "@hono/zod-openapi";
import { createMiddleware } from "hono/factory";
import type { AppEnv } from "../../app-env";
import { ApiError } from "../../errors";
import { readDevMailbox } from "../../events/dev-mailbox";
import { createRouter, errorResponses, jsonContent } from "../openapi";
import { emailField } from "../users/users.schemas";

const MAILBOX_LIMIT = 50;

const devToolsOnly = createMiddleware<AppEnv>(async (c, next) => {
  if (!c.get("config").devTools) throw new ApiError("not_found", "Not found");
  await next();
});

export const mailbox = createRoute({
  method: "get",
  path: "/_dev/mailbox",
  tags: ["Dev tools"],
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

export const devRouter = createRouter().openapi(mailbox, async (c) => {
  const { to } = c.req.valid("query");
  const messages = await readDevMailbox(c.env.KV, to, MAILBOX_LIMIT);
  return c.json({ success: true as const, message: "Mailbox retrieved", data: messages }, 200);
});
