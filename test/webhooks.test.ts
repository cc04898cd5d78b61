/**
 * Outbound webhooks (issue 15), delivery: signed delivery to a real HTTP receiver
 * (test/setup/webhook-receiver.ts verifies every signature with the Standard Webhooks library),
 * retries, dead letters, the delivery log, re-delivery and disabled endpoints. An event arriving
 * more than once: test/webhooks-fan-out.test.ts.
 */
import { env } from "cloudflare:workers";
import { eq } from "drizzle-orm";
import { afterEach, describe, expect, it } from "vitest";
import { getConfig } from "../src/config";
import { outbox, webhookDeliveries, webhookEndpoints } from "../src/db/schema";
import { retryDelaySeconds } from "../src/webhooks/delivery";
import { call, type Envelope, expectError } from "./helpers/api";
import { db, outboxFor, register, uniqueEmail, userRow } from "./helpers/users";
import {
  admin,
  afterWebhookTest,
  type Delivery,
  deliveries,
  deliveryRow,
  type Endpoint,
  endpoint,
  firstAttempt,
  RECEIVER,
  type Received,
  received,
  receivedOf,
  runQueue,
  until,
} from "./helpers/webhooks";

afterEach(afterWebhookTest);

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
    const { envelope, row } = await firstAttempt(hook.id);
    expect(row).toMatchObject({ status: "retrying", lastStatus: 302, lastError: "HTTP 302" });
    const calls = await receivedOf(hook.name, envelope.id);
    expect(calls.map((r) => r.behaviour)).toEqual(["redirect"]);
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
    // Of the events raised while it is off; one raised before (this admin's) may be in flight.
    const ours = [event.id, (await outboxFor(user.id, "user.created"))[0]?.id];
    expect(ours[1]).toEqual(expect.any(String));
    expect(await receivedOf(hook.name, ...ours)).toEqual([]);
    const logged = await deliveries(token, hook.id);
    expect(logged.filter((d) => ours.includes(d.event_id))).toEqual([]);
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
    const isMine = (payload: string) => JSON.parse(payload).data.user_id === user.id;
    const got = await until(
      () => received(named.name),
      (list) => list.some((r) => isMine(r.body)),
    );
    expect(JSON.parse(got.find((r) => isMine(r.body))?.body ?? "{}").data.token).toEqual(
      expect.any(String),
    );
    const toAll = await received(all.name);
    expect(toAll.some((r) => JSON.parse(r.body).type === "user.password_reset_requested")).toBe(
      false,
    );
    const stored = await until(
      () => db().select().from(webhookDeliveries).where(eq(webhookDeliveries.endpointId, named.id)),
      (rows) => rows.some((r) => r.status === "succeeded" && isMine(r.payload)),
    );
    const delivered = stored.find((r) => r.status === "succeeded" && isMine(r.payload));
    expect(JSON.parse(delivered?.payload ?? "{}").data.token).toBe("[redacted after delivery]");
  });
});
