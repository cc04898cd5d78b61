/**
 * Publishing the outbox to USER_EVENTS, the event contracts, and the local dev mailbox.
 */
import {
  createExecutionContext,
  createMessageBatch,
  createScheduledController,
  getQueueResult,
} from "cloudflare:test";
import { env } from "cloudflare:workers";
import { eq } from "drizzle-orm";
import { afterEach, describe, expect, it, vi } from "vitest";
import { outbox } from "../src/db/schema";
import worker from "../src/dev/local";
import { devMailboxConsumer } from "../src/dev/mailbox";
import { anyEventSchema, EVENT_TYPES } from "../src/events/contracts";
import {
  OUTBOX_LEASE_MS,
  OUTBOX_MAX_ATTEMPTS,
  outboxQueues,
  publishEvents,
  REDRIVE_AFTER_MS,
  redriveOutbox,
} from "../src/events/outbox";
import { call, callWith, type Envelope, expectError, request } from "./helpers/api";
import { mailbox, waitForMail } from "./helpers/mailbox";
import { db, outboxFor, PASSWORD, type TokenPair, uniqueEmail } from "./helpers/users";

afterEach(() => {
  vi.restoreAllMocks();
});

async function registerWaiting(overrides: Partial<Record<keyof Env, unknown>> = {}) {
  const email = uniqueEmail("events");
  const res = await callWith<Envelope<TokenPair>>(
    overrides,
    request("POST", "/users/", { body: { email, password: PASSWORD } }),
  );
  expect(res.status, res.text).toBe(201);
  return { email, id: res.body.data.user.id };
}

describe("publishing after the response", () => {
  it("sends each event of a committed change and marks it published", async () => {
    const user = await registerWaiting();
    const rows = await outboxFor(user.id);
    expect(rows.map((r) => r.type).sort()).toEqual([
      "user.created",
      "user.email_verification_requested",
    ]);
    for (const row of rows) {
      expect(row.publishedAt).not.toBeNull();
      expect(row.attempts).toBe(1);
      expect(row.lockedUntil).toBeNull();
    }
    // ...and the consumer received them, in the shared envelope.
    const [created] = await waitForMail(user.email, "user.created");
    expect(anyEventSchema.safeParse(created).success).toBe(true);
    expect(created?.id).toBe(rows.find((r) => r.type === "user.created")?.id);
  });

  it("keeps the row unpublished when the queue send fails after the commit", async () => {
    vi.spyOn(console, "error").mockImplementation(() => {});
    // The queue binding missing at run time: the change must still commit and answer 201.
    const user = await registerWaiting({ USER_EVENTS: undefined });
    const rows = await outboxFor(user.id);
    expect(rows).toHaveLength(2);
    for (const row of rows) {
      expect(row.publishedAt).toBeNull();
      expect(row.attempts).toBe(1);
    }
    // The secrets the re-drive needs are still there (see the re-drive test below).
    const verification = rows.find((r) => r.type === "user.email_verification_requested");
    expect(verification?.event.data.token).toMatch(/^[A-Za-z0-9_-]{43}$/);
  });

  it("never sends a published row again", async () => {
    const user = await registerWaiting();
    const ids = (await outboxFor(user.id)).map((r) => r.id);
    const send = vi.spyOn(env.USER_EVENTS, "sendBatch");
    expect(await publishEvents(db(), outboxQueues(env), ids)).toBe(0);
    expect(send).not.toHaveBeenCalled();
  });

  it("lets only one of two concurrent publishers send a row", async () => {
    vi.spyOn(console, "error").mockImplementation(() => {});
    const user = await registerWaiting({ USER_EVENTS: undefined });
    const ids = (await outboxFor(user.id)).map((r) => r.id);
    // The failed attempt above holds a lease; once it has passed, two publishers race.
    const later = new Date(Date.now() + 60_000);
    const send = vi.spyOn(env.USER_EVENTS, "sendBatch");
    const counts = await Promise.all([
      publishEvents(db(), outboxQueues(env), ids, later),
      publishEvents(db(), outboxQueues(env), ids, later),
    ]);
    expect(counts.sort()).toEqual([0, 2]);
    expect(send).toHaveBeenCalledTimes(1);
    for (const row of await outboxFor(user.id)) expect(row.publishedAt).not.toBeNull();
  });

  it("does not send a row another publisher holds a lease on", async () => {
    vi.spyOn(console, "error").mockImplementation(() => {});
    const user = await registerWaiting({ USER_EVENTS: undefined });
    const ids = (await outboxFor(user.id)).map((r) => r.id);
    expect(await publishEvents(db(), outboxQueues(env), ids)).toBe(0);
  });

  it("blanks one-time tokens in the stored payload once published", async () => {
    const user = await registerWaiting();
    const [row] = await outboxFor(user.id, "user.email_verification_requested");
    expect(row?.publishedAt).not.toBeNull();
    expect(row?.event.data.token).toBe("[redacted after publication]");
    expect(row?.event.data.link).toBe("[redacted after publication]");
    // The message itself carried them.
    const [mail] = await waitForMail(user.email, "user.email_verification_requested");
    expect(mail?.data.token).toMatch(/^[A-Za-z0-9_-]{43}$/);
  });

  it("publishes nothing for a request whose batch failed", async () => {
    const email = uniqueEmail();
    await callWith({}, request("POST", "/users/", { body: { email, password: PASSWORD } }));
    const before = await db().select().from(outbox);
    const res = await callWith(
      {},
      request("POST", "/users/", { body: { email, password: PASSWORD } }),
    );
    expectError(res, 409, "email_taken");
    expect(await db().select().from(outbox)).toHaveLength(before.length);
  });
});

describe("the cron's re-drive", () => {
  it("publishes a row a failed send left behind, once it is a minute old", async () => {
    vi.spyOn(console, "error").mockImplementation(() => {});
    vi.spyOn(console, "log").mockImplementation(() => {});
    const user = await registerWaiting({ USER_EVENTS: undefined });
    const soon = createScheduledController({ scheduledTime: new Date(), cron: "*/5 * * * *" });
    await worker.scheduled(soon, env);
    expect((await outboxFor(user.id)).every((r) => r.publishedAt === null)).toBe(true);

    const later = createScheduledController({
      scheduledTime: new Date(Date.now() + REDRIVE_AFTER_MS + OUTBOX_LEASE_MS),
      cron: "*/5 * * * *",
    });
    await worker.scheduled(later, env);
    const rows = await outboxFor(user.id);
    expect(rows.every((r) => r.publishedAt !== null)).toBe(true);
    expect(rows.every((r) => r.attempts === 2)).toBe(true);
    await waitForMail(user.email, "user.email_verification_requested");
  });
});

describe("rows that cannot be sent", () => {
  async function oldRow(payload: string, attempts = 0) {
    const id = crypto.randomUUID();
    await db()
      .insert(outbox)
      .values({
        id,
        type: "user.created",
        payload,
        createdAt: new Date(Date.now() - 10 * 60_000),
        attempts,
      });
    return id;
  }
  const row = async (id: string) => (await db().select().from(outbox).where(eq(outbox.id, id)))[0];

  it("an oversized row does not hold up the others, and is parked after enough attempts", async () => {
    vi.spyOn(console, "error").mockImplementation(() => {});
    const huge = await oldRow(
      JSON.stringify({ id: crypto.randomUUID(), data: { blob: "x".repeat(130 * 1024) } }),
    );
    const fine = await oldRow(
      JSON.stringify({
        id: crypto.randomUUID(),
        type: "user.created",
        data: { email: uniqueEmail() },
      }),
    );
    await redriveOutbox(db(), outboxQueues(env));
    expect((await row(fine))?.publishedAt).not.toBeNull();
    expect(await row(huge)).toMatchObject({ publishedAt: null, attempts: 1 });

    await db()
      .update(outbox)
      .set({ attempts: OUTBOX_MAX_ATTEMPTS, lockedUntil: null })
      .where(eq(outbox.id, huge));
    await redriveOutbox(db(), outboxQueues(env));
    expect(await row(huge)).toMatchObject({ publishedAt: null, attempts: OUTBOX_MAX_ATTEMPTS });
  });
});

describe("event contracts", () => {
  it("the consumer-side union knows every event type", () => {
    const known = anyEventSchema.options.map((o) => o.shape.type.value).sort();
    expect(known).toEqual([...EVENT_TYPES].sort());
  });

  it("rejects an event that breaks its contract", () => {
    const result = anyEventSchema.safeParse({
      id: crypto.randomUUID(),
      type: "user.created",
      version: 1,
      occurred_at: new Date().toISOString(),
      correlation_id: "x",
      data: { user_id: "not-a-uuid", email: "a@example.com", username: null, name: "" },
    });
    expect(result.success).toBe(false);
  });
});

describe("dev mailbox", () => {
  it("shows the messages for an address, newest first", async () => {
    const user = await registerWaiting();
    await waitForMail(user.email, "user.email_verification_requested");
    const messages = await mailbox(user.email);
    expect(messages.map((m) => m.type).sort()).toEqual([
      "user.created",
      "user.email_verification_requested",
    ]);
    const link = messages.find((m) => m.type === "user.email_verification_requested")?.data.link;
    expect(link).toMatch(/^http:\/\/localhost:3000\/verify-email\?token=[A-Za-z0-9_-]{43}$/);
    expect(await mailbox(uniqueEmail("nobody"))).toEqual([]);
  });

  it("validates the address", async () => {
    expectError(
      await call("GET", "http://localhost/_dev/mailbox?to=nope"),
      400,
      "validation_failed",
    );
    expectError(await call("GET", "http://localhost/_dev/mailbox"), 400, "validation_failed");
  });

  it("does not exist when DEV_TOOLS is off", async () => {
    const res = await callWith(
      { DEV_TOOLS: "false" },
      new Request(`http://localhost/_dev/mailbox?to=${uniqueEmail()}`),
    );
    expectError(res, 404, "not_found");
  });

  it("its consumer stores valid events, acknowledges unreadable ones, and dedupes redelivery", async () => {
    vi.spyOn(console, "warn").mockImplementation(() => {});
    const email = uniqueEmail("consumer");
    const event = {
      id: crypto.randomUUID(),
      type: "user.created",
      version: 1,
      occurred_at: new Date().toISOString(),
      correlation_id: "test",
      data: { user_id: crypto.randomUUID(), email, username: null, name: "" },
    };
    const batch = createMessageBatch<unknown>("user-events", [
      { id: "a", timestamp: new Date(), attempts: 1, body: event },
      { id: "b", timestamp: new Date(), attempts: 2, body: event },
      { id: "c", timestamp: new Date(), attempts: 1, body: { nonsense: true } },
    ]);
    const ctx = createExecutionContext();
    await devMailboxConsumer(batch, env);
    const result = await getQueueResult(batch, ctx);
    expect(result.explicitAcks.sort()).toEqual(["a", "b", "c"]);
    expect(await mailbox(email)).toEqual([event]);
  });

  it("its consumer leaves messages alone when DEV_TOOLS is off", async () => {
    vi.spyOn(console, "error").mockImplementation(() => {});
    const batch = createMessageBatch("user-events", [
      { id: "a", timestamp: new Date(), attempts: 1, body: {} },
    ]);
    const ctx = createExecutionContext();
    await devMailboxConsumer(batch, { ...env, DEV_TOOLS: "false" });
    const result = await getQueueResult(batch, ctx);
    expect(result.explicitAcks).toEqual([]);
    expect(result.retryBatch.retry).toBe(true);
  });
});

describe("outbox rows", () => {
  it("carry the envelope of DESIGN §6 with the request's correlation id", async () => {
    const email = uniqueEmail();
    const res = await callWith<Envelope<TokenPair>>(
      {},
      request("POST", "/users/", {
        body: { email, password: PASSWORD },
        headers: { "X-Correlation-ID": "corr-events-1" },
      }),
    );
    const [row] = await db()
      .select()
      .from(outbox)
      .where(eq(outbox.type, "user.created"))
      .then((rows) =>
        rows.filter(
          (r) => (JSON.parse(r.payload) as { data: { email: string } }).data.email === email,
        ),
      );
    const envelope = JSON.parse(row?.payload ?? "{}");
    expect(envelope).toMatchObject({
      id: row?.id,
      type: "user.created",
      version: 1,
      correlation_id: "corr-events-1",
      data: { user_id: res.body.data.user.id, email, username: null, name: "" },
    });
    expect(new Date(envelope.occurred_at).toISOString()).toBe(envelope.occurred_at);
  });
});
