/**
 * The local stand-in for the email service (DESIGN §6, DEV_TOOLS only): a consumer of USER_EVENTS
 * that keeps every message addressed to someone, so a newcomer can follow verification and reset
 * links from `GET /_dev/mailbox?to=<email>` without any mail server.
 */
import { getConfig } from "../config";
import { DEV_MAILBOX_TTL_SECONDS, kvKeys } from "../kv";
import { log } from "../logging";
import { type AnyEvent, anyEventSchema } from "./contracts";

export async function devMailboxConsumer(batch: MessageBatch<unknown>, env: Env) {
  if (!getConfig(env).devTools) {
    // Not ours to consume outside local development: leave them for the real email service.
    log("error", "dev_mailbox_disabled", { queue: batch.queue });
    batch.retryAll({ delaySeconds: 60 });
    return;
  }
  for (const message of batch.messages) {
    const parsed = anyEventSchema.safeParse(message.body);
    if (!parsed.success) {
      log("warn", "dev_mailbox_unreadable_event", { message_id: message.id });
      message.ack();
      continue;
    }
    const event = parsed.data;
    if ("email" in event.data) {
      // Keyed by event id: a redelivered message overwrites itself instead of duplicating.
      await env.KV.put(
        kvKeys.devMailboxMessage(event.data.email, event.occurred_at, event.id),
        JSON.stringify(event),
        { expirationTtl: DEV_MAILBOX_TTL_SECONDS },
      );
    }
    message.ack();
  }
}

/** The newest messages for one address, newest first. */
export async function readDevMailbox(kv: KVNamespace, email: string, limit: number) {
  const listed = await kv.list({ prefix: kvKeys.devMailboxPrefix(email), limit });
  const values = await Promise.all(listed.keys.map((key) => kv.get(key.name)));
  return values.flatMap((value) => (value ? [JSON.parse(value) as AnyEvent] : []));
}
