/**
 * GET /asyncapi.json: the machine-readable event catalogue (AsyncAPI 3.0), for consumers of the
 * queues what /openapi.json is for callers of the HTTP API. Built in src/events/asyncapi.ts.
 */
import { createRoute, z } from "@hono/zod-openapi";
import { asyncApiDocument } from "../../events/asyncapi";
import { createRouter, errorResponses, jsonContent } from "../openapi";
import { tags } from "../tags";

// Not named: the document is AsyncAPI's to describe, not this one's; a tiny example suffices.
const AsyncApiDocumentSchema = z.record(z.string(), z.unknown()).openapi({
  example: {
    asyncapi: "3.0.0",
    info: { title: "User Service events", version: "0.1.0" },
    channels: { "user-events": { address: "user-events" } },
  },
});

const asyncapi = createRoute({
  method: "get",
  path: "/asyncapi.json",
  tags: tags("Documentation"),
  summary: "The events and queue messages, as an AsyncAPI 3.0 document",
  description:
    "Every queue this service sends to or consumes, and every message on it (each event type, " +
    "push requests, delivery jobs, dead letters) with its JSON Schema and an example, generated " +
    "from the same zod contracts that validate them.",
  responses: {
    200: jsonContent(AsyncApiDocumentSchema, "The AsyncAPI document"),
    ...errorResponses(),
  },
});

export const asyncapiRouter = createRouter().openapi(asyncapi, (c) => {
  c.header("Cache-Control", "public, max-age=300");
  return c.json(asyncApiDocument(), 200);
});
