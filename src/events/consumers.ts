/**
 * Queue consumers, chosen by queue name. A batch from a queue without a consumer here is retried
 * rather than acknowledged: dropping messages silently would lose them, while retries end in the
 * queue's dead-letter queue where they can be inspected and replayed.
 */
import { log } from "../logging";
import { devMailboxConsumer } from "./dev-mailbox";

type Consumer = (batch: MessageBatch<unknown>, env: Env, ctx: ExecutionContext) => Promise<void>;

const consumers: Partial<Record<string, Consumer>> = {
  // Locally only: in production the email service consumes user-events (see wrangler.toml).
  "user-events": devMailboxConsumer,
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
