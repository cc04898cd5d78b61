/**
 * Outbound webhooks (issue 15): admin API, fan-out, signed delivery to a real HTTP receiver
 * (test/setup/webhook-receiver.ts verifies every signature with the Standard Webhooks library),
 * retries, dead letters, the delivery log, re-delivery and disabled endpoints.
 */
import { createExecutionContext, createMessageBatch, getQueueResult } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { and, eq } from "drizzle-orm";
import { describe, expect, inject, it, vi } from "vitest";
import { getConfig } from "../src/config";
import { outbox, webhookDeliveries, webhookEndpoints } from "../src/db/schema";
import worker from "../src/dev/local";
import { retryDelaySeconds } from "../src/webhooks/delivery";
import { webhookUrlProblem } from "../src/webhooks/url-policy";
import { call, type Envelope, expectError } from "./helpers/api";
import { auditFor, db, makeAdmin, register, uniqueEmail, userRow } from "./helpers/users";

const RECEIVER = inject("webhookReceiver");

interface Endpoint {
  id: string;
  url: string;
  secret?: string;
  enabled: boolean;
  disabled_reason: string | null;
  event_types: string[];
}
interface Delivery {
  id: string;
  event_id: string;
  event_type: string;
  status: string;
  attempts: number;
  last_status: number | null;
  last_error: string | null;
  latency_ms: number | null;
}
interface Received {
  behaviour: string;
  headers: Record<string, string>;
  body: string;
  verified: boolean;
}

async function admin() {
  const user = await register();
  await makeAdmin(user);
  return user.access_token;
}

/** An endpoint on the receiver under a fresh name, whose secret the receiver learns. */
async function endpoint(token: string, behaviour = "ok", eventTypes = ["user.created"]) {
  const name = crypto.randomUUID();
  const res = await call<Envelope<Endpoint>>("POST", "/admin/webhooks/", {
    token,
    body: { url: `${RECEIVER}/hooks/${name}/${behaviour}`, event_types: eventTypes },
  });
  expect(res.status, res.text).toBe(201);
  await fetch(`${RECEIVER}/secrets/${name}`, { method: "PUT", body: res.body.data.secret });
  return { name, ...res.body.data };
}

const received = async (name: string) =>
  (await (await fetch(`${RECEIVER}/received/${name}`)).json()) as Received[];

async function deliveries(token: string, id: string) {
  const res = await call<Envelope<Delivery[]>>("GET", `/admin/webhooks/${id}/deliveries/`, {
    token,
  });
  expect(res.status).toBe(200);
  return res.body.data;
}

/** The delivery of one event to one endpoint (other tests' endpoints may get the event too). */
async function deliveryRow(eventId: string, endpointId: string) {
  const [row] = await db()
    .select()
    .from(webhookDeliveries)
    .where(
      and(eq(webhookDeliveries.eventId, eventId), eq(webhookDeliveries.endpointId, endpointId)),
    );
  return row;
}

/**
 * Fans an event out (the webhook-events consumer) and waits for the queue's first attempt of its
 * delivery to this endpoint; later attempts are then driven by the test.
 */
async function firstAttempt(endpointId: string, type = "preferences.updated") {
  const envelope = { id: crypto.randomUUID(), type, data: {} };
  await runQueue("webhook-events", envelope);
  const row = await until(
    () => deliveryRow(envelope.id, endpointId),
    (r) => r !== undefined && r.status !== "pending",
  );
  return { envelope, row: row as NonNullable<typeof row> };
}

/** Waits until `check` holds (queues deliver within a fraction of a second here). */
async function until<T>(read: () => Promise<T>, check: (value: T) => boolean, ms = 8_000) {
  const deadline = Date.now() + ms;
  let value = await read();
  while (!check(value) && Date.now() < deadline) {
    await new Promise((r) => setTimeout(r, 50));
    value = await read();
  }
  return value;
}

/** Runs the Worker's queue handler on one message of a webhook queue, as Cloudflare Queues would. */
async function runQueue(queue: string, body: unknown, attempts = 1) {
  vi.spyOn(console, "log").mockImplementation(() => {});
  const batch = createMessageBatch<unknown>(queue, [
    { id: crypto.randomUUID(), timestamp: new Date(), attempts, body },
  ]);
  const ctx = createExecutionContext();
  await worker.queue(batch, env, ctx);
  return getQueueResult(batch, ctx);
}

describe("webhook endpoints (admin API)", () => {
  it("only admins manage them; the secret is shown once", async () => {
    const user = await register();
    const refused = await call("POST", "/admin/webhooks/", {
      token: user.access_token,
      body: { url: `${RECEIVER}/hooks/x/ok`, event_types: ["user.created"] },
    });
    expectError(refused, 403, "forbidden");
    expect(
      await db()
        .select()
        .from(webhookEndpoints)
        .where(eq(webhookEndpoints.url, `${RECEIVER}/hooks/x/ok`)),
    ).toEqual([]);

    const token = await admin();
    const created = await endpoint(token);
    expect(created.secret).toMatch(/^whsec_[A-Za-z0-9+/]{43}=$/);
    const read = await call<Envelope<Endpoint>>("GET", `/admin/webhooks/${created.id}/`, { token });
    expect(read.status).toBe(200);
    expect(read.text).not.toContain(created.secret as string);
    expect(read.body.data).not.toHaveProperty("secret");
    const listed = await call<Envelope<Endpoint[]>>("GET", "/admin/webhooks/", { token });
    expect(listed.text).not.toContain("whsec_");
    expect(listed.body.data.map((e) => e.id)).toContain(created.id);
  });

  it("refuses unknown event types and bad URLs with 400, writing nothing", async () => {
    const token = await admin();
    const before = (await db().select().from(webhookEndpoints)).length;
    for (const body of [
      { url: `${RECEIVER}/hooks/x/ok`, event_types: ["user.nope"] },
      { url: `${RECEIVER}/hooks/x/ok`, event_types: [] },
      { url: "not a url", event_types: ["user.created"] },
      { url: "ftp://example.com/hook", event_types: ["user.created"] },
      { url: "https://user:pw@example.com/hook", event_types: ["user.created"] },
    ]) {
      expectError(
        await call("POST", "/admin/webhooks/", { token, body }),
        400,
        "validation_failed",
      );
    }
    expect((await db().select().from(webhookEndpoints)).length).toBe(before);
  });

  it("in production, only https to public hosts", () => {
    const production = { environment: "production" as const };
    for (const url of [
      "http://hooks.example.com/x",
      "https://127.0.0.1/x",
      "https://10.1.2.3/x",
      "https://[::1]/x",
      "https://[::ffff:192.168.1.1]/x",
      "https://169.254.169.254/latest/meta-data",
      "https://localhost/x",
      "https://metadata.internal/x",
      "https://intranet/x",
    ]) {
      expect(webhookUrlProblem(production, url), url).not.toBeNull();
    }
    expect(webhookUrlProblem(production, "https://hooks.example.com/x")).toBeNull();
    expect(webhookUrlProblem(production, "https://203.0.113.9/x")).not.toBeNull(); // documentation range
    expect(webhookUrlProblem(production, "https://8.8.8.8/x")).toBeNull();
    expect(webhookUrlProblem({ environment: "local" }, `${RECEIVER}/x`)).toBeNull();
  });

  it("changes are audited", async () => {
    const user = await register();
    await makeAdmin(user);
    const created = await endpoint(user.access_token);
    await call("PATCH", `/admin/webhooks/${created.id}/`, {
      token: user.access_token,
      body: { description: "payments" },
    });
    const actions = (await auditFor(user.id)).map((a) => a.action);
    expect(actions).toEqual(expect.arrayContaining(["webhook_created", "webhook_updated"]));
  });
});

describe("delivering events", () => {
  it("a registration reaches the endpoint, signed per Standard Webhooks, with the user's integer id", async () => {
    const token = await admin();
    const hook = await endpoint(token);
    const user = await register({ email: uniqueEmail("hooked") });
    const got = await until(
      () => received(hook.name),
      (list) => list.some((r) => JSON.parse(r.body).data.user_id === user.id),
    );
    const mine = got.find((r) => JSON.parse(r.body).data.user_id === user.id) as Received;
    expect(mine.verified).toBe(true);
    expect(mine.headers["webhook-id"]).toMatch(/^[0-9a-f-]{36}$/);
    expect(mine.headers["webhook-signature"]).toMatch(/^v1,/);
    expect(mine.headers["content-type"]).toBe("application/json");
    const event = JSON.parse(mine.body);
    expect(event).toMatchObject({ type: "user.created", version: 1 });
    const row = await userRow(user.id);
    expect(row?.legacyId).toEqual(expect.any(Number));
    expect(event.data.legacy_id).toBe(row?.legacyId);

    const log = await until(
      () => deliveries(token, hook.id),
      (list) => list.some((d) => d.event_id === event.id && d.status === "succeeded"),
    );
    expect(log.find((d) => d.event_id === event.id)).toMatchObject({
      id: mine.headers["webhook-id"],
      event_type: "user.created",
      status: "succeeded",
      attempts: 1,
      last_status: 204,
      last_error: null,
      latency_ms: expect.any(Number),
    });
  });

  it("new users get the next integer id", async () => {
    const a = await register();
    const b = await register();
    const [ra, rb] = [await userRow(a.id), await userRow(b.id)];
    expect((rb?.legacyId ?? 0) - (ra?.legacyId ?? 0)).toBeGreaterThanOrEqual(1);
  });

  it("an event arriving twice is delivered once", async () => {
    const token = await admin();
    const hook = await endpoint(token, "ok", ["preferences.updated"]);
    const envelope = { id: crypto.randomUUID(), type: "preferences.updated", data: {} };
    await runQueue("webhook-events", envelope);
    await runQueue("webhook-events", envelope);
    await until(
      () => deliveryRow(envelope.id, hook.id),
      (r) => r?.status === "succeeded",
    );
    expect((await received(hook.name)).length).toBe(1);
    const rows = await db()
      .select()
      .from(webhookDeliveries)
      .where(
        and(eq(webhookDeliveries.eventId, envelope.id), eq(webhookDeliveries.endpointId, hook.id)),
      );
    expect(rows).toHaveLength(1);
  });

  it("a 500 is retried with backoff, then succeeds; the log shows both attempts", async () => {
    const token = await admin();
    const hook = await endpoint(token, "flaky");
    await register();
    const failed = await until(
      () => deliveries(token, hook.id),
      (list) => list.some((d) => d.status === "retrying"),
    );
    const first = failed.find((d) => d.status === "retrying") as Delivery;
    expect(first).toMatchObject({ attempts: 1, last_status: 500, last_error: "HTTP 500" });
    // The queue redelivers it after its delay; here, at once.
    const result = await runQueue("webhook-deliveries", { delivery_id: first.id }, 2);
    expect(result.explicitAcks).toHaveLength(1);
    const after = (await deliveries(token, hook.id)).find((d) => d.id === first.id);
    expect(after).toMatchObject({ status: "succeeded", attempts: 2, last_status: 204 });
    const calls = (await received(hook.name)).filter((r) => r.headers["webhook-id"] === first.id);
    expect(calls.map((c) => c.verified)).toEqual([true, true]);
  });

  it("a redirect is not followed (it could point anywhere): it counts as a failure", async () => {
    const token = await admin();
    const hook = await endpoint(token, "redirect", ["preferences.updated"]);
    const { row } = await firstAttempt(hook.id);
    expect(row).toMatchObject({ status: "retrying", lastStatus: 302, lastError: "HTTP 302" });
    expect((await received(hook.name)).map((r) => r.behaviour)).toEqual(["redirect"]);
  });

  it("a timeout counts as a failure and is retried later", async () => {
    const token = await admin();
    const hook = await endpoint(token, "slow", ["preferences.updated"]);
    const { row } = await firstAttempt(hook.id);
    expect(row).toMatchObject({ status: "retrying", attempts: 1, lastStatus: null });
    expect(row.lastError).toBe("timed out after 1000 ms");
    const result = await runQueue("webhook-deliveries", { delivery_id: row.id }, 3);
    expect(result.retryMessages).toHaveLength(1);
    // Backoff: 30 s, then ×4 each time, at most the queue's 12 h.
    expect([1, 2, 3, 6, 7, 12].map(retryDelaySeconds)).toEqual([
      30, 120, 480, 30_720, 43_200, 43_200,
    ]);
    expect(await deliveryRow(row.eventId, hook.id)).toMatchObject({ attempts: 2 });
  });

  it("when the retries run out the delivery is dead-lettered; re-delivery sends it again", async () => {
    const token = await admin();
    const hook = await endpoint(token, "fail", ["preferences.updated"]);
    const { row } = await firstAttempt(hook.id);
    expect(row).toMatchObject({ status: "retrying", attempts: 1, lastStatus: 500 });
    const id = row.id;
    expect(
      (await runQueue("webhook-deliveries", { delivery_id: id }, 2)).retryMessages,
    ).toHaveLength(1);
    // What the queue hands its dead-letter queue after max_retries.
    await runQueue("webhook-deliveries-dlq", { delivery_id: id });
    const dead = (await deliveries(token, hook.id)).find((d) => d.id === id);
    expect(dead).toMatchObject({ status: "dead", attempts: 2, last_status: 500 });
    const filtered = await call<Envelope<Delivery[]>>(
      "GET",
      `/admin/webhooks/${hook.id}/deliveries/?status=dead`,
      { token },
    );
    expect(filtered.body.data.map((d) => d.id)).toEqual([id]);

    // Re-delivery, to the endpoint that now answers.
    await call("PATCH", `/admin/webhooks/${hook.id}/`, {
      token,
      body: { url: `${RECEIVER}/hooks/${hook.name}/ok` },
    });
    const again = await call<Envelope<Delivery>>(
      "POST",
      `/admin/webhooks/${hook.id}/deliveries/${id}/redeliver/`,
      { token },
    );
    expect(again.status).toBe(202);
    const settled = await until(
      () => deliveries(token, hook.id),
      (list) => list.some((d) => d.id === id && d.status === "succeeded"),
    );
    expect(settled.find((d) => d.id === id)).toMatchObject({ status: "succeeded", attempts: 3 });
    const calls = (await received(hook.name)).filter((r) => r.headers["webhook-id"] === id);
    expect(calls.map((c) => c.behaviour)).toEqual(["fail", "fail", "ok"]);
    expect(calls.every((c) => c.verified)).toBe(true);
  });

  it("nothing is delivered to a disabled endpoint", async () => {
    const token = await admin();
    const hook = await endpoint(token, "ok", ["user.created", "preferences.updated"]);
    const off = await call<Envelope<Endpoint>>("PATCH", `/admin/webhooks/${hook.id}/`, {
      token,
      body: { enabled: false },
    });
    expect(off.body.data).toMatchObject({ enabled: false, disabled_reason: "admin" });
    const user = await register();
    const event = { id: crypto.randomUUID(), type: "preferences.updated", data: {} };
    await runQueue("webhook-events", event);
    // The registration's event reached the webhook queue's other endpoints, but not this one.
    await until(
      async () => (await db().select().from(webhookDeliveries)).map((d) => d.payload),
      (payloads) => payloads.some((p) => p.includes(user.id)),
    );
    expect(await received(hook.name)).toEqual([]);
    expect(await deliveries(token, hook.id)).toEqual([]);
    const redeliver = await call("POST", `/admin/webhooks/${hook.id}/deliveries/x/redeliver/`, {
      token,
    });
    expectError(redeliver, 409, "conflict");
  });

  it("an endpoint failing for days is disabled, with an event", async () => {
    const token = await admin();
    const hook = await endpoint(token, "fail", ["preferences.updated"]);
    const config = getConfig(env);
    await db()
      .update(webhookEndpoints)
      .set({ failingSince: new Date(Date.now() - config.webhooks.disableAfterMs - 1_000) })
      .where(eq(webhookEndpoints.id, hook.id));
    const { row } = await firstAttempt(hook.id);
    expect(row).toMatchObject({ status: "cancelled", lastStatus: 500 });
    const read = await call<Envelope<Endpoint>>("GET", `/admin/webhooks/${hook.id}/`, { token });
    expect(read.body.data).toMatchObject({ enabled: false, disabled_reason: "failing" });
    const events = await db()
      .select()
      .from(outbox)
      .where(eq(outbox.type, "webhook.endpoint_disabled"));
    expect(events.map((e) => JSON.parse(e.payload).data.endpoint_id)).toContain(hook.id);
    // Enabling it again starts afresh.
    const on = await call<Envelope<Endpoint & { failing_since: string | null }>>(
      "PATCH",
      `/admin/webhooks/${hook.id}/`,
      { token, body: { enabled: true } },
    );
    expect(on.body.data).toMatchObject({
      enabled: true,
      disabled_reason: null,
      failing_since: null,
    });
  });

  it("token-carrying events go only to endpoints that name them, and are blanked once delivered", async () => {
    const token = await admin();
    const all = await endpoint(token, "ok", ["*"]);
    const named = await endpoint(token, "ok", ["user.password_reset_requested"]);
    const user = await register();
    await call("POST", "/auth/password-reset/", { body: { email: user.email } });
    const got = await until(
      () => received(named.name),
      (list) => list.some((r) => JSON.parse(r.body).data.user_id === user.id),
    );
    expect(JSON.parse((got[0] as Received).body).data.token).toEqual(expect.any(String));
    const toAll = await received(all.name);
    expect(toAll.some((r) => JSON.parse(r.body).type === "user.password_reset_requested")).toBe(
      false,
    );
    const stored = await until(
      () => db().select().from(webhookDeliveries).where(eq(webhookDeliveries.endpointId, named.id)),
      (rows) => rows.some((r) => r.status === "succeeded"),
    );
    expect(JSON.parse(stored[0]?.payload ?? "{}").data.token).toBe("[redacted after delivery]");
  });
});
