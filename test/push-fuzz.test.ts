/**
 * Generated and malformed push requests, in and around every shape the real producers send: the
 * consumer classifies each one (never a retry, never an unhandled error), and the HTTP ingress
 * answers 202 with one result per request or 400 — never a 500.
 */
import { env } from "cloudflare:workers";
import fc from "fast-check";
import { afterEach, describe, expect, it, vi } from "vitest";
import { normalizePushRequest, pushRequestSchema } from "../src/events/push-messages";
import { call, type Envelope } from "./helpers/api";
import { consume } from "./helpers/push";
import { register, SERVICE } from "./helpers/users";

afterEach(() => {
  vi.restoreAllMocks();
});

/** Values of every JSON kind, for any field. */
const anyValue = fc.oneof(
  fc.jsonValue({ maxDepth: 2 }),
  fc.uuid(),
  fc.constantFrom("push", "email", "low", "normal", "high", ""),
  fc.integer({ min: -5, max: 20 }),
  fc.double(),
);

/** Bodies shaped like push requests: the known fields, each present or not, right or wrong. */
function shapedRequest(userId: string) {
  return fc.record(
    {
      notification_id: anyValue,
      request_id: fc.oneof(fc.uuid(), anyValue),
      correlation_id: fc.oneof(fc.uuid(), anyValue),
      user_id: fc.oneof(fc.constant(userId), anyValue),
      metadata: fc.oneof(fc.record({ user_id: fc.oneof(fc.constant(userId), anyValue) }), anyValue),
      template_code: anyValue,
      template_id: anyValue,
      variables: anyValue,
      priority: anyValue,
      category: fc.oneof(fc.constantFrom("marketing", "transactional", "security"), anyValue),
      type: anyValue,
      notification_type: anyValue,
    },
    { requiredKeys: [] },
  );
}

describe("generated push requests", () => {
  it("normalising and validating never throw, whatever the body", () => {
    fc.assert(
      fc.property(fc.oneof(fc.jsonValue(), shapedRequest(crypto.randomUUID())), (body) => {
        const normalized = normalizePushRequest(body);
        expect(() => pushRequestSchema.safeParse(normalized)).not.toThrow();
      }),
      { numRuns: 500 },
    );
  });

  it("the consumer acknowledges every one with a recorded outcome: no retry, no crash", async () => {
    const user = await register();
    vi.spyOn(console, "error").mockImplementation(() => {});
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.oneof(shapedRequest(user.id), fc.jsonValue({ maxDepth: 2 })), {
          minLength: 1,
          maxLength: 5,
        }),
        async (bodies) => {
          const { result, ids, warnings } = await consume("push-requests", bodies);
          expect(result.retryMessages).toEqual([]);
          expect([...result.explicitAcks].sort()).toEqual([...ids].sort());
          expect(warnings.filter((w) => w.msg === "push_request_retry")).toEqual([]);
        },
      ),
      { numRuns: 25 },
    );
  });

  it("the HTTP ingress answers 202 with one result each, or 400, never a 500", async () => {
    const user = await register();
    const send = vi.spyOn(env.PUSH_REQUESTS, "sendBatch");
    await fc.assert(
      fc.asyncProperty(
        fc.oneof(
          shapedRequest(user.id),
          fc.array(shapedRequest(user.id), { minLength: 1, maxLength: 8 }),
          fc.jsonValue({ maxDepth: 2 }),
        ),
        async (body) => {
          const res = await call<Envelope<{ results: { status: string }[] }>>(
            "POST",
            "/push/requests/",
            {
              body: JSON.stringify(body),
              headers: { ...SERVICE, "Content-Type": "application/json" },
            },
          );
          expect([202, 400], res.text).toContain(res.status);
          if (res.status === 202) {
            const count = Array.isArray(body) ? body.length : 1;
            expect(res.body.data.results).toHaveLength(count);
          }
        },
      ),
      { numRuns: 60 },
    );
    // Whatever was queued was a request the consumer accepts.
    for (const [messages] of send.mock.calls) {
      for (const { body } of messages) {
        expect(pushRequestSchema.safeParse(normalizePushRequest(body)).success).toBe(true);
      }
    }
  });

  it("the Django test path and the contact lookup answer 2xx or 400/404, never a 500", async () => {
    const user = await register();
    await fc.assert(
      fc.asyncProperty(shapedRequest(user.id), anyValue, async (body, type) => {
        const test = await call("POST", "/notifications/test/", {
          body: JSON.stringify(body),
          headers: { ...SERVICE, "Content-Type": "application/json" },
        });
        expect([200, 400], test.text).toContain(test.status);
        const contact = await call(
          "GET",
          `/users/${user.id}/contact/?type=${encodeURIComponent(JSON.stringify(type))}`,
          { headers: SERVICE },
        );
        expect([200, 400], contact.text).toContain(contact.status);
      }),
      { numRuns: 40 },
    );
  });
});
