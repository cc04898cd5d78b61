/**
 * The local stand-in for the push service (DESIGN §6, DEV_TOOLS only): a consumer of PUSH_DELIVERY
 * that keeps the jobs it would deliver, per user, for `GET /_dev/push-deliveries?user_id=`.
 */
import { getConfig } from "../config";
import { pushDeliveryJobSchema } from "../events/push-messages";
import { log } from "../logging";
import { devConsumersOn } from "./enabled";
import { putDevPushDelivery } from "./store";

export async function devPushDeliveryConsumer(batch: MessageBatch<unknown>, env: Env) {
  if (!devConsumersOn(getConfig(env))) {
    // Not ours to consume outside local development: leave them for the real push service.
    log("error", "dev_push_disabled", { queue: batch.queue });
    batch.retryAll({ delaySeconds: 60 });
    return;
  }
  for (const message of batch.messages) {
    const parsed = pushDeliveryJobSchema.safeParse(message.body);
    if (parsed.success) await putDevPushDelivery(env.KV, parsed.data);
    else log("warn", "dev_push_unreadable_job", { message_id: message.id });
    message.ack();
  }
}
