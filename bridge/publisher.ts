/**
 * Publishing with publisher confirms on one long-lived confirm channel, reconnected with backoff
 * whenever the connection is lost. A publish resolves only once RabbitMQ confirmed it, and rejects
 * (so the webhook is answered 503 and retried by the service) when RabbitMQ is not there, refuses
 * the message or does not confirm in time.
 */
import amqp, { type ConfirmChannel, type Options } from "amqplib";
import { reconnecting } from "./backoff.ts";
import { errorText, logFor } from "./log.ts";

const log = logFor("out");

/** Under the service's webhook timeout (WEBHOOK_TIMEOUT_SECONDS, 10 s by default): a 503 beats it. */
const CONFIRM_TIMEOUT_MS = 5_000;

export interface Publisher {
  publish: (routingKey: string, body: Buffer, options: Options.Publish) => Promise<void>;
  close: () => Promise<void>;
}

/** Keeps a confirm channel to `exchange` (a durable topic exchange, declared on each connect). */
export function startPublisher(amqpUrl: string, exchange: string): Publisher {
  const stopping = new AbortController();
  const stopped = new Promise<void>((resolve) =>
    stopping.signal.addEventListener("abort", () => resolve(), { once: true }),
  );
  let channel: ConfirmChannel | null = null;

  /** One connection's life; resolves true if it got as far as publishing. */
  async function connectOnce(): Promise<boolean> {
    const conn = await amqp.connect(amqpUrl, {
      clientProperties: { connection_name: `user-service bridge (out: ${exchange})` },
    });
    let closing = false;
    const closed = new Promise<void>((resolve) =>
      conn.once("close", (err?: Error) => {
        channel = null;
        if (!closing) log("warn", "amqp_connection_lost", { error: err ? errorText(err) : null });
        resolve();
      }),
    );
    conn.on("error", (err: Error) =>
      log("warn", "amqp_connection_error", { error: errorText(err) }),
    );
    try {
      if (stopping.signal.aborted) return false;
      const ch = await conn.createConfirmChannel();
      let declaring = true;
      ch.on("error", (err: Error) => {
        // A refused declaration closes the channel too; declare_failed below says it once.
        if (!declaring) log("error", "amqp_channel_error", { error: errorText(err) });
      });
      ch.once("close", () => {
        channel = null;
        // A closed channel on an open connection is of no use: start over (after a refused
        // declaration, the finally below does).
        if (!declaring) conn.close().catch(() => undefined);
      });
      try {
        await ch.assertExchange(exchange, "topic", { durable: true });
        declaring = false;
      } catch (err) {
        log("error", "declare_failed", {
          exchange,
          error: errorText(err),
          hint: "the exchange exists with another type or durability",
        });
        return false;
      }
      channel = ch;
      log("info", "publishing", { exchange });
      await Promise.race([closed, stopped]);
      return true;
    } finally {
      channel = null;
      closing = true;
      await conn.close().catch(() => undefined);
    }
  }

  const loop = reconnecting(connectOnce, stopping.signal, log);

  return {
    publish: (routingKey, body, options) => {
      const ch = channel;
      if (!ch) return Promise.reject(new Error("RabbitMQ is not connected"));
      return new Promise<void>((resolve, reject) => {
        const timer = setTimeout(
          () => reject(new Error("RabbitMQ did not confirm the publish in time")),
          CONFIRM_TIMEOUT_MS,
        );
        try {
          ch.publish(exchange, routingKey, body, options, (err: unknown) => {
            clearTimeout(timer);
            if (err) reject(err instanceof Error ? err : new Error("RabbitMQ refused the message"));
            else resolve();
          });
        } catch (err) {
          clearTimeout(timer);
          reject(err);
        }
      });
    },
    close: async () => {
      stopping.abort();
      await loop;
    },
  };
}
