/**
 * The local stand-in for the push service (DESIGN §6, DEV_TOOLS only): a consumer of PUSH_DELIVERY
 * that keeps the jobs it would deliver, per user, for `GET /_dev/push-deliveries?user_id=`.
 */
import { getConfig } from "../config";
import { DEV_MAILBOX_TTL_SECONDS, kvKeys } from "../kv";
import { log } from "../logging";
import { type PushDeliveryJob, pushDeliveryJobSchema } from "./contracts";

export async function devPushDeliveryConsumer(batch: MessageBatch<unknown>, env: Env) {
  if (!getConfig(env).devTools) {
    // Not ours to consume outside local development: leave them for the real push service.
    log("error", "dev_push_disabled", { queue: batch.queue });
    batch.retryAll({ delaySeconds: 60 });
    return;
  }
  for (const message of batch.messages) {
    const parsed = pushDeliveryJobSchema.safeParse(message.body);
    if (parsed.success) {
      const job = parsed.data;
      // Keyed by job id: a redelivered job overwrites itself.
      await env.KV.put(
        kvKeys.devPushDelivery(job.user.id, job.created_at, job.job_id),
        JSON.stringify(job),
        {
          expirationTtl: DEV_MAILBOX_TTL_SECONDS,
        },
      );
    } else {
      log("warn", "dev_push_unreadable_job", { message_id: message.id });
    }
    message.ack();
  }
}

/** The newest jobs for one user, newest first. */
export async function readDevPushDeliveries(kv: KVNamespace, userId: string, limit: number) {
  const listed = await kv.list({ prefix: kvKeys.devPushDeliveryPrefix(userId), limit });
  const values = await Promise.all(listed.keys.map((key) => kv.get(key.name)));
  return values.flatMap((value) => (value ? [JSON.parse(value) as PushDeliveryJob] : []));
}
