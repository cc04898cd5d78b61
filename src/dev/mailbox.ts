/**
 * The local stand-in for the email service (DESIGN §6, DEV_TOOLS only): a consumer of USER_EVENTS
 * that keeps every message addressed to someone, so a newcomer can follow verification and reset
 * links from `GET /_dev/mailbox?to=<email>` without any mail server.
 */
import { getConfig } from "../config";
import { anyEventSchema } from "../events/contracts";
import { log } from "../logging";
import { devConsumersOn } from "./enabled";
import { putDevMailboxMessage } from "./store";

export async function devMailboxConsumer(batch: MessageBatch<unknown>, env: Env) {
  if (!devConsumersOn(getConfig(env))) {
    // Not ours to consume outside local development: leave them for the real email service.
    log("error", "dev_mailbox_disabled", { queue: batch.queue });
    batch.retryAll({ delaySeconds: 60 });
    return;
  }
  for (const message of batch.messages) {
    const parsed = anyEventSchema.safeParse(message.body);
    if (!parsed.success) {
      log("warn", "dev_mailbox_unreadable_event", { message_id: message.id });
    } else if ("email" in parsed.data.data) {
      await putDevMailboxMessage(env.KV, parsed.data, parsed.data.data.email);
    }
    message.ack();
  }
}
