/**
 * out: the service's webhooks → RabbitMQ. An HTTP receiver (POST on any path) that verifies each
 * delivery's Standard Webhooks signature, lets the profile decide what to publish, and answers 2xx
 * only once RabbitMQ confirmed the publish — 503 while RabbitMQ is away, so the service keeps the
 * delivery and tries again later. Delivery is at least once; consumers deduplicate by messageId
 * (the event id).
 */
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import { Webhook } from "standardwebhooks";
import type { Config } from "./config.ts";
import type { Runner } from "./inbound.ts";
import { errorText, logFor } from "./log.ts";
import {
  type Envelope,
  envelopeOf,
  genericRoute,
  PAYMENT_EXCHANGE,
  paymentRoute,
  type Route,
} from "./profiles.ts";
import { type Publisher, startPublisher } from "./publisher.ts";

const log = logFor("out");

const MAX_BODY_BYTES = 1024 * 1024;

class TooLarge extends Error {}

async function readBody(req: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > MAX_BODY_BYTES) throw new TooLarge();
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks);
}

function answer(res: ServerResponse, status: number, body?: Record<string, unknown>) {
  if (body === undefined) {
    res.writeHead(status).end();
    return;
  }
  res.writeHead(status, { "Content-Type": "application/json" }).end(JSON.stringify(body));
}

function header(req: IncomingMessage, name: string): string {
  const value = req.headers[name];
  return Array.isArray(value) ? value.join(" ") : (value ?? "");
}

/** What each profile publishes where. */
function profileOf(config: Config): {
  exchange: string;
  route: (envelope: Envelope, raw: string) => Route;
} {
  return config.profile === "payment"
    ? { exchange: PAYMENT_EXCHANGE, route: paymentRoute }
    : { exchange: config.exchange, route: genericRoute };
}

async function receive(
  webhook: Webhook,
  profile: ReturnType<typeof profileOf>,
  publisher: Publisher,
  req: IncomingMessage,
  res: ServerResponse,
): Promise<void> {
  if (req.method !== "POST") {
    res.setHeader("Allow", "POST");
    answer(res, 405, { error: "method_not_allowed" });
    return;
  }
  const webhookId = header(req, "webhook-id");
  let raw: string;
  try {
    raw = (await readBody(req)).toString("utf8");
  } catch (err) {
    if (!(err instanceof TooLarge)) throw err;
    log("warn", "webhook_too_large", { webhook_id: webhookId });
    answer(res, 413, { error: "payload_too_large" });
    return;
  }
  try {
    webhook.verify(
      raw,
      {
        "webhook-id": webhookId,
        "webhook-timestamp": header(req, "webhook-timestamp"),
        "webhook-signature": header(req, "webhook-signature"),
      },
      { jsonParse: false },
    );
  } catch (err) {
    log("warn", "signature_invalid", { webhook_id: webhookId, reason: errorText(err) });
    answer(res, 401, { error: "invalid_signature" });
    return;
  }
  let envelope: Envelope | null = null;
  try {
    envelope = envelopeOf(JSON.parse(raw));
  } catch {
    // Not JSON: handled below as not an envelope.
  }
  if (!envelope) {
    log("error", "malformed_event", { webhook_id: webhookId, reason: "not an event envelope" });
    answer(res, 400, { error: "malformed_event" });
    return;
  }
  const event = { webhook_id: webhookId, event_id: envelope.id, type: envelope.type };
  const route = profile.route(envelope, raw);
  switch (route.kind) {
    case "ignore":
      log("info", "ignored", { ...event, reason: route.reason });
      answer(res, 204);
      return;
    case "skip":
      log("warn", route.reason, event);
      answer(res, 202, { status: route.reason });
      return;
    case "malformed":
      log("error", "malformed_event", { ...event, reason: route.reason });
      answer(res, 400, { error: "malformed_event" });
      return;
  }
  try {
    await publisher.publish(route.routingKey, Buffer.from(route.body, "utf8"), {
      messageId: envelope.id,
      persistent: true,
      contentType: "application/json",
    });
  } catch (err) {
    log("error", "publish_failed", { ...event, error: errorText(err) });
    res.setHeader("Retry-After", "10");
    answer(res, 503, { error: "rabbitmq_unavailable" });
    return;
  }
  log("info", "published", { ...event, exchange: profile.exchange, routing_key: route.routingKey });
  answer(res, 200, {
    status: "published",
    exchange: profile.exchange,
    routing_key: route.routingKey,
  });
}

/** Listens until stopped; resolves once the receiver accepts connections. */
export async function startOutbound(config: Config): Promise<Runner> {
  const webhook = new Webhook(config.webhookSecret);
  const profile = profileOf(config);
  const publisher = startPublisher(config.amqpUrl, profile.exchange);
  const server = createServer((req, res) => {
    receive(webhook, profile, publisher, req, res).catch((err) => {
      log("error", "webhook_failed", { error: errorText(err) });
      if (!res.headersSent) answer(res, 500, { error: "internal_error" });
      else res.destroy();
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(config.listen.port, config.listen.host, () => {
      server.off("error", reject);
      resolve();
    });
  });
  log("info", "listening", {
    host: config.listen.host,
    port: config.listen.port,
    profile: config.profile,
    exchange: profile.exchange,
  });
  return {
    stop: async () => {
      // No new deliveries; the ones in flight finish (their publish confirmed) before RabbitMQ goes.
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      server.closeIdleConnections();
      await closed;
      await publisher.close();
      log("info", "outbound_stopped");
    },
  };
}
