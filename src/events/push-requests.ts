/**
 * The consumers of PUSH_REQUESTS and its dead letters (DESIGN §6): thin, like handlers — each
 * message goes to src/push/requests.ts, and is acknowledged or retried with exponential backoff;
 * after the retry limit the queue moves it to the dead letters.
 */
import type { Db } from "../db/client";
import { getPushRequestError, putPushRequestError } from "../kv";
import { errorDetail, log } from "../logging";
import { keepDeadLetter } from "../push/dead-letters";
import { handlePushRequest, identify, recordFailure } from "../push/requests";
import { deadLetterSchema } from "./push-messages";

const RETRY_BASE_SECONDS = 5;
const RETRY_MAX_SECONDS = 15 * 60;

/** Exponential backoff with ±20% jitter: 5 s, 10 s, 20 s, … capped at 15 minutes. */
export function retryDelaySeconds(attempts: number, random: () => number = Math.random): number {
  const base = Math.min(RETRY_MAX_SECONDS, RETRY_BASE_SECONDS * 2 ** Math.max(0, attempts - 1));
  return Math.max(1, Math.round(base * (0.8 + 0.4 * random())));
}

export async function pushRequestsConsumer(batch: MessageBatch<unknown>, env: Env, db: Db) {
  // Different users' requests are independent, so they are handled concurrently (their D1, KV and
  // queue round trips overlap); one user's requests go one after the other.
  const byUser = new Map<string, Message<unknown>[]>();
  for (const message of batch.messages) {
    const key = identify(message.body, message.id).userId ?? message.id;
    byUser.set(key, [...(byUser.get(key) ?? []), message]);
  }
  await Promise.all(
    [...byUser.values()].map(async (messages) => {
      for (const message of messages) await consumeOne(message, env, db);
    }),
  );
}

async function consumeOne(message: Message<unknown>, env: Env, db: Db) {
  try {
    const outcome = await handlePushRequest(env, db, message.body, message.id, new Date());
    log("info", "push_request", { message_id: message.id, attempts: message.attempts, ...outcome });
    message.ack();
  } catch (err) {
    const delaySeconds = retryDelaySeconds(message.attempts);
    const detail = errorDetail(err);
    log("warn", "push_request_retry", {
      message_id: message.id,
      attempts: message.attempts,
      delaySeconds,
      detail,
    });
    // Remembered for the dead-letter consumer, should this turn out to be the last attempt.
    const { notificationId } = identify(message.body, message.id);
    await putPushRequestError(env.KV, notificationId, detail.slice(0, 2000)).catch(() => undefined);
    message.retry({ delaySeconds });
  }
}

/**
 * The dead letters of push requests: requests that exhausted their retries (recorded `failed` with
 * the last error seen) and the copies this service sent itself (already recorded; the dedupe key
 * makes this a no-op). What this consumer cannot record after its own retries is parked in
 * `push-requests-parked` (wrangler.toml) for an operator.
 */
export async function pushDeadLetterConsumer(batch: MessageBatch<unknown>, env: Env, db: Db) {
  for (const message of batch.messages) {
    const wrapped = deadLetterSchema.safeParse(message.body);
    const ids = wrapped.success
      ? {
          ...identify(wrapped.data.message, message.id),
          notificationId: wrapped.data.dead_letter.notification_id,
          userId: wrapped.data.dead_letter.user_id,
        }
      : identify(message.body, message.id);
    try {
      const reason = wrapped.success
        ? wrapped.data.dead_letter.reason
        : `retries exhausted: ${(await getPushRequestError(env.KV, ids.notificationId)) ?? "unknown error"}`;
      const now = new Date();
      await recordFailure(db, ids, reason, now);
      // Kept with the original, so an admin can send it again (src/push/dead-letters.ts).
      await keepDeadLetter(db, {
        id: message.id,
        notificationId: ids.notificationId,
        userId: ids.userId,
        reason,
        message: wrapped.success ? wrapped.data.message : message.body,
        failedAt: wrapped.success ? new Date(wrapped.data.dead_letter.failed_at) : now,
      });
      message.ack();
    } catch (err) {
      log("error", "push_dead_letter_retry", { message_id: message.id, detail: errorDetail(err) });
      message.retry({ delaySeconds: retryDelaySeconds(message.attempts) });
    }
  }
}
