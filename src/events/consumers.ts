/**
 * Queue consumers, chosen by queue name. A batch from a queue without a consumer here is retried
 * rather than acknowledged: dropping messages silently would lose them, while retries end in the
 * queue's dead-letter queue where they can be inspected and replayed.
 */
import { getDb } from "../db/client";
import { log } from "../logging";
import { devMailboxConsumer } from "./dev-mailbox";
import { devPushDeliveryConsumer } from "./dev-push";
import { pushDeadLetterConsumer, pushRequestsConsumer } from "./push-requests";

type Consumer = (batch: MessageBatch<unknown>, env: Env, ctx: ExecutionContext) => Promise<void>;

const consumers: Partial<Record<string, Consumer>> = {
  "push-requests": (batch, env) => pushRequestsConsumer(batch, env, getDb(env)),
  "push-requests-dlq": (batch, env) => pushDeadLetterConsumer(batch, env, getDb(env)),
  // Locally only: in production the email and push services consume these (see wrangler.toml).
  "user-events": devMailboxConsumer,
  "push-delivery": devPushDeliveryConsumer,
};

export async function dispatchQueue(batch: MessageBatch<unknown>, env: Env, ctx: ExecutionContext) {
  const consumer = consumers[batch.queue];
  if (!consumer) {
    log("error", "no_queue_consumer", { queue: batch.queue, messages: batch.messages.length });
    batch.retryAll({ delaySeconds: 60 });
    return;
  }
  await consumer(batch, env, ctx);
}
