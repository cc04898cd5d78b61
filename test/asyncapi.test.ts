/**
 * GET /asyncapi.json: the event catalogue as an AsyncAPI 3.0 document that the official parser
 * accepts, with a message for every event type and queue message, each example valid for the zod
 * schema producers and consumers use.
 */
import type { AsyncAPIDocumentInterface, Parser } from "@asyncapi/parser";
// The parser's browser bundle, typed by the package's own declarations (below): its Node build
// cannot load in workerd (jsonc-parser's ESM imports files without their extensions).
// @ts-expect-error the bundle ships no declaration file of its own
import ParserBundle from "@asyncapi/parser/browser/index.js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import packageJson from "../package.json";
import { EVENT_TYPES, type EventType, eventSchema } from "../src/events/contracts";
import {
  deadLetterSchema,
  pushDeliveryJobSchema,
  pushRequestSchema,
} from "../src/events/push-messages";
import { call } from "./helpers/api";

const AsyncApiParser = ParserBundle as typeof Parser;
/** `DiagnosticSeverity.Error` (@stoplight/types, a dependency of the parser). */
const ERROR = 0;

type Json = Record<string, unknown>;
interface Doc {
  asyncapi: string;
  info: { title: string; version: string; description: string };
  channels: Record<string, { address: string; messages: Record<string, { $ref: string }> }>;
  operations: Record<string, { messages: { $ref: string }[] }>;
  components: { messages: Record<string, { payload: { schemaFormat: string; schema: Json } }> };
}

/** The zod schema each message was generated from, by message name. */
const PUSH_SCHEMAS = {
  "push.request": pushRequestSchema,
  "push.delivery_job": pushDeliveryJobSchema,
  "push.dead_letter": deadLetterSchema,
};

function schemaOf(name: string) {
  if ((EVENT_TYPES as string[]).includes(name)) return eventSchema(name as EventType);
  return PUSH_SCHEMAS[name as keyof typeof PUSH_SCHEMAS];
}

async function parse(document: unknown) {
  const { document: parsed, diagnostics } = await new AsyncApiParser().parse(
    JSON.stringify(document),
  );
  const errors = diagnostics
    .filter((d) => d.severity === ERROR)
    .map((d) => `${d.code} at ${d.path.join(".")}: ${d.message}`);
  return { parsed, errors };
}

/**
 * The parser compiles JSONPath queries and JSON Schemas with `Function(code)`. workerd forbids
 * that; the Vitest integration lets tests do it with `new Function`, and calling `Function`
 * without `new` means the same, so here it is routed there.
 */
const plainFunction = globalThis.Function;

let doc: Doc;
let parsed: AsyncAPIDocumentInterface;
beforeAll(async () => {
  globalThis.Function = new Proxy(plainFunction, {
    apply: (target, _this, args: string[]) => Reflect.construct(target, args),
  });
  const res = await call<Doc>("GET", "http://localhost/asyncapi.json");
  expect(res.status).toBe(200);
  expect(res.headers.get("Content-Type")).toMatch(/^application\/json/);
  expect(res.headers.get("Cache-Control")).toBe("public, max-age=300");
  doc = res.body;
  const result = await parse(doc);
  expect(result.errors).toEqual([]);
  expect(result.parsed).toBeDefined();
  if (result.parsed) parsed = result.parsed;
});
afterAll(() => {
  globalThis.Function = plainFunction;
});

describe("the AsyncAPI document", () => {
  it("is AsyncAPI 3.0 that the official parser accepts without an error", () => {
    expect(doc.asyncapi).toBe("3.0.0");
    expect(parsed.version()).toBe("3.0.0");
  });

  it("is checked by the parser for real: an operation naming another channel's message is an error", async () => {
    const broken = structuredClone(doc);
    broken.operations.sendDeliveryJobs?.messages.push({
      $ref: "#/channels/user-events/messages/user.created",
    });
    const { errors } = await parse(broken);
    expect(errors.join("\n")).toMatch(/asyncapi3-operation-messages-from-referred-channel/);
  });

  it("names the service and its version, and says delivery is at least once", () => {
    expect(parsed.info().title()).toBe("User Service events");
    expect(parsed.info().version()).toBe(packageJson.version);
    expect(doc.info.description).toMatch(/at least once/);
    expect(doc.info.description).toMatch(/deduplicate by the event's `id`/);
  });
});

describe("messages", () => {
  it("has one for every event type, named by the type, on user-events and webhook-events", () => {
    expect(EVENT_TYPES.length).toBeGreaterThan(10);
    const names = parsed
      .components()
      .messages()
      .all()
      .map((m) => m.name());
    expect(names).toEqual(expect.arrayContaining([...EVENT_TYPES]));
    for (const type of EVENT_TYPES) {
      for (const queue of ["user-events", "webhook-events"]) {
        expect(doc.channels[queue]?.messages[type]?.$ref, `${queue} ${type}`).toBe(
          `#/components/messages/${type}`,
        );
      }
    }
  });

  it("has push requests, delivery jobs and dead letters", () => {
    const names = parsed
      .components()
      .messages()
      .all()
      .map((m) => m.name());
    expect(names).toEqual(expect.arrayContaining(Object.keys(PUSH_SCHEMAS)));
  });

  it("every message has a draft-07 payload and examples its zod schema accepts", () => {
    const messages = parsed.components().messages().all();
    expect(messages).toHaveLength(EVENT_TYPES.length + Object.keys(PUSH_SCHEMAS).length);
    for (const message of messages) {
      const name = message.name() ?? "";
      const payload = doc.components.messages[name]?.payload;
      expect(payload?.schemaFormat, name).toBe("application/schema+json;version=draft-07");
      expect(payload?.schema.type, name).toBe("object");
      const schema = schemaOf(name);
      expect(schema, `${name}: no zod schema`).toBeDefined();
      const examples = message.examples().all();
      expect(examples.length, `${name}: no example`).toBeGreaterThan(0);
      for (const example of examples) {
        const result = schema?.safeParse(example.payload());
        expect(result?.success, `${name}: ${JSON.stringify(result?.error?.issues)}`).toBe(true);
      }
    }
  });
});

describe("channels and operations", () => {
  /** The queues that operations of one action are on. */
  function queuesOf(action: "send" | "receive") {
    const operations = parsed.operations();
    const chosen = action === "send" ? operations.filterBySend() : operations.filterByReceive();
    return chosen.flatMap((op) =>
      op
        .channels()
        .all()
        .map((c) => c.address()),
    );
  }

  it("has a channel per queue, addressed by the queue's name", () => {
    const addresses = parsed
      .channels()
      .all()
      .map((c) => c.address());
    expect(addresses).toEqual(
      expect.arrayContaining([
        "user-events",
        "webhook-events",
        "push-requests",
        "push-requests-dlq",
        "push-delivery",
      ]),
    );
  });

  it("sends events, delivery jobs and dead letters, and receives push requests", () => {
    expect(queuesOf("send")).toEqual(
      expect.arrayContaining([
        "user-events",
        "webhook-events",
        "push-delivery",
        "push-requests-dlq",
      ]),
    );
    expect(queuesOf("receive")).toContain("push-requests");
    // Consumed by the email and push services, not by this one.
    expect(queuesOf("receive")).not.toContain("user-events");
    expect(queuesOf("receive")).not.toContain("push-delivery");
  });
});
