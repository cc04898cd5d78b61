/**
 * in: RabbitMQ push queue → the service's push ingress. One message at a time, in the order
 * RabbitMQ hands them over (highest priority first); each is acked only once the service has it,
 * dead-lettered (nack without requeue, so the queue's DLX takes it) when the service refuses it as
 * invalid, and otherwise kept unacked and posted again with backoff. Nothing is acked early: a
 * stop or a lost connection leaves the message to RabbitMQ, which delivers it again.
 */
import amqp, { type Channel, type ChannelModel, type ConsumeMessage } from "amqplib";
import { FIRST_DELAY_MS, MAX_DELAY_MS, nextDelay, pause, reconnecting } from "./backoff.ts";
import type { Config } from "./config.ts";
import { errorText, logFor } from "./log.ts";
import { postPushRequest } from "./push-ingress.ts";

const log = logFor("in");

/**
 * The notification platform's topology, declared exactly as its API gateway declares it (same
 * names, types, durability and arguments), so whichever starts first, the other's declaration
 * matches and nobody gets PRECONDITION_FAILED.
 */
const TOPOLOGY = {
  exchange: "notifications.direct",
  routingKey: "push",
  deadLetterExchange: "notifications.dlx",
  deadLetterRoutingKey: "failed",
  deadLetterQueue: "failed.queue",
  queueArguments: {
    "x-dead-letter-exchange": "notifications.dlx",
    "x-dead-letter-routing-key": "failed",
    "x-max-priority": 10,
  },
} as const;

const MAX_PRIORITY = 10;

async function declare(ch: Channel, config: Config): Promise<void> {
  if (config.passive) {
    await ch.checkQueue(config.queue);
    return;
  }
  await ch.assertExchange(TOPOLOGY.exchange, "direct", { durable: true });
  await ch.assertExchange(TOPOLOGY.deadLetterExchange, "direct", { durable: true });
  await ch.assertQueue(config.queue, { durable: true, arguments: TOPOLOGY.queueArguments });
  await ch.bindQueue(config.queue, TOPOLOGY.exchange, TOPOLOGY.routingKey);
  // Without a queue behind the DLX a dead letter would be dropped: keep the gateway's.
  await ch.assertQueue(TOPOLOGY.deadLetterQueue, { durable: true });
  await ch.bindQueue(
    TOPOLOGY.deadLetterQueue,
    TOPOLOGY.deadLetterExchange,
    TOPOLOGY.deadLetterRoutingKey,
  );
}

/**
 * The body to post, or why the message can never be posted. A body without `priority` takes the
 * AMQP priority (capped at the queue's 10), so the service sees the priority the producer set;
 * otherwise the body goes exactly as it was published.
 */
function bodyOf(msg: ConsumeMessage): { body: string } | { invalid: string } {
  const text = msg.content.toString("utf8");
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    return { invalid: "the body is not JSON" };
  }
  if (parsed === null || typeof parsed !== "object" || Array.isArray(parsed)) {
    return { invalid: "the body is not a JSON object" };
  }
  const request = parsed as Record<string, unknown>;
  const priority: unknown = msg.properties.priority;
  if (request.priority == null && Number.isInteger(priority) && (priority as number) >= 0) {
    return {
      body: JSON.stringify({ ...request, priority: Math.min(priority as number, MAX_PRIORITY) }),
    };
  }
  return { body: text };
}

/** A message's fields for the log: never its body. */
function about(msg: ConsumeMessage): Record<string, unknown> {
  return {
    message_id: msg.properties.messageId ?? null,
    delivery_tag: msg.fields.deliveryTag,
    redelivered: msg.fields.redelivered,
    priority: msg.properties.priority ?? null,
  };
}

/** ack / nack on a channel that may have closed meanwhile (then RabbitMQ redelivers). */
function settle(ch: Channel, msg: ConsumeMessage, how: "ack" | "dead-letter"): boolean {
  try {
    if (how === "ack") ch.ack(msg);
    else ch.nack(msg, false, false);
    return true;
  } catch (err) {
    log("warn", "settle_failed_channel_closed", { ...about(msg), how, error: errorText(err) });
    return false;
  }
}

interface Consumer {
  ch: Channel;
  open: boolean;
  /** Aborted when the channel closes: its messages are RabbitMQ's again, nothing to wait for. */
  gone: AbortController;
}

export interface Runner {
  stop: () => Promise<void>;
}

/** Consumes until stopped, reconnecting with backoff whenever the connection is lost. */
export function startInbound(config: Config): Runner {
  const stopping = new AbortController();
  const stopped = new Promise<void>((resolve) =>
    stopping.signal.addEventListener("abort", () => resolve(), { once: true }),
  );
  // Messages are handled one after the other: acks go out in delivery order.
  let chain: Promise<void> = Promise.resolve();

  async function handle(c: Consumer, msg: ConsumeMessage): Promise<void> {
    // Not started before the stop (or the channel died): RabbitMQ gets it back unacked.
    if (stopping.signal.aborted || !c.open) return;
    const prepared = bodyOf(msg);
    if ("invalid" in prepared) {
      if (settle(c.ch, msg, "dead-letter")) {
        log("warn", "dead_lettered", { ...about(msg), reason: prepared.invalid });
      }
      return;
    }
    let delay = FIRST_DELAY_MS;
    for (let attempt = 1; ; attempt++) {
      const verdict = await postPushRequest(config.serviceUrl, config.serviceKey, prepared.body);
      if (verdict.action === "ack") {
        if (settle(c.ch, msg, "ack")) {
          log("info", "acked", {
            ...about(msg),
            status: verdict.status,
            notification_id: verdict.notificationId,
            attempt,
          });
        }
        return;
      }
      if (verdict.action === "dead-letter") {
        if (settle(c.ch, msg, "dead-letter")) {
          log("warn", "dead_lettered", {
            ...about(msg),
            reason: verdict.reason,
            http_status: verdict.httpStatus ?? null,
          });
        }
        return;
      }
      const wait = Math.min(Math.max(delay, verdict.retryAfterMs ?? 0), MAX_DELAY_MS);
      log(
        verdict.loud ? "error" : "warn",
        verdict.loud ? "service_refused_bridge" : "service_unavailable",
        {
          ...about(msg),
          reason: verdict.reason,
          http_status: verdict.httpStatus ?? null,
          attempt,
          retry_in_ms: wait,
        },
      );
      await pause(wait, AbortSignal.any([stopping.signal, c.gone.signal]));
      if (stopping.signal.aborted || !c.open) {
        log("info", "left_unacked", { ...about(msg), attempt });
        return;
      }
      delay = nextDelay(delay);
    }
  }

  /**
   * One connection's life: declare, consume, and on a stop let the message in hand finish.
   * Resolves true if it got as far as consuming.
   */
  async function consumeOnce(): Promise<boolean> {
    const conn: ChannelModel = await amqp.connect(config.amqpUrl, {
      clientProperties: { connection_name: `user-service bridge (in: ${config.queue})` },
    });
    let closing = false;
    const closed = new Promise<void>((resolve) =>
      conn.once("close", (err?: Error) => {
        if (!closing) log("warn", "amqp_connection_lost", { error: err ? errorText(err) : null });
        resolve();
      }),
    );
    conn.on("error", (err: Error) =>
      log("warn", "amqp_connection_error", { error: errorText(err) }),
    );
    try {
      if (stopping.signal.aborted) return false;
      const ch = await conn.createChannel();
      const c: Consumer = { ch, open: true, gone: new AbortController() };
      const channelClosed = new Promise<void>((resolve) =>
        ch.once("close", () => {
          c.open = false;
          c.gone.abort();
          resolve();
        }),
      );
      let declaring = true;
      ch.on("error", (err: Error) => {
        // A refused declaration closes the channel too; declare_failed below says it once.
        if (!declaring) log("error", "amqp_channel_error", { error: errorText(err) });
      });
      try {
        await declare(ch, config);
        declaring = false;
      } catch (err) {
        log("error", "declare_failed", {
          queue: config.queue,
          passive: config.passive,
          error: errorText(err),
          hint: config.passive
            ? "the queue does not exist yet"
            : "the queue or an exchange exists with other arguments: use --passive",
        });
        return false;
      }
      await ch.prefetch(config.prefetch);
      const { consumerTag } = await ch.consume(
        config.queue,
        (msg) => {
          if (msg === null) {
            // The broker cancelled us (the queue was deleted): start over.
            log("warn", "consumer_cancelled", { queue: config.queue });
            conn.close().catch(() => undefined);
            return;
          }
          chain = chain
            .then(() => handle(c, msg))
            .catch((err) =>
              log("error", "handler_failed", { ...about(msg), error: errorText(err) }),
            );
        },
        { noAck: false },
      );
      log("info", "consuming", {
        queue: config.queue,
        prefetch: config.prefetch,
        passive: config.passive,
      });
      await Promise.race([closed, channelClosed, stopped]);
      if (stopping.signal.aborted && c.open) {
        // Take no more; the message being posted finishes (and is acked) before the close, which
        // hands every message not yet handled back to the queue.
        await ch.cancel(consumerTag).catch(() => undefined);
        await chain;
      }
      return true;
    } finally {
      closing = true;
      await conn.close().catch(() => undefined);
    }
  }

  const loop = reconnecting(consumeOnce, stopping.signal, log, { queue: config.queue });

  return {
    stop: async () => {
      stopping.abort();
      await loop;
      await chain;
      log("info", "inbound_stopped");
    },
  };
}
