/**
 * Queue consumers, chosen by queue name. A batch from a queue without a consumer here is retried
 * rather than acknowledged: dropping messages silently would lose them, while retries end in the
 * queue's dead-letter queue where they can be inspected and replayed.
 */
import { getConfig } from "../config";
import { getDb } from "../db/client";
import { log } from "../logging";
import {
  webhookDeadLetterConsumer,
  webhookDeliveriesConsumer,
  webhookEventsConsumer,
} from "../webhooks/delivery";
import { pushDeadLetterConsumer, pushRequestsConsumer } from "./push-requests";

type Consumer = (batch: MessageBatch<unknown>, env: Env, ctx: ExecutionContext) => Promise<void>;

/** By queue name. The local entry adds its stand-ins for the email and push services. */
export type Consumers = Partial<Record<string, Consumer>>;

export const consumers: Consumers = {
  "push-requests": (batch, env) => pushRequestsConsumer(batch, env, getDb(env)),
  "push-requests-dlq": (batch, env) => pushDeadLetterConsumer(batch, env, getDb(env)),
  "webhook-events": (batch, env) => webhookEventsConsumer(batch, env, getDb(env)),
  "webhook-deliveries": (batch, env) =>
    webhookDeliveriesConsumer(batch, env, getDb(env), getConfig(env)),
  "webhook-deliveries-dlq": (batch, env) => webhookDeadLetterConsumer(batch, getDb(env)),
};

export async function dispatchQueue(
  batch: MessageBatch<unknown>,
  env: Env,
  ctx: ExecutionContext,
  from: Consumers = consumers,
) {
  const consumer = from[batch.queue];
  if (!consumer) {
    log("error", "no_queue_consumer", { queue: batch.queue, messages: batch.messages.length });
    batch.retryAll({ delaySeconds: 60 });
    return;
  }
  await consumer(batch, env, ctx);
}
