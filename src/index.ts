/**
 * Worker entry: HTTP (the Hono app), queue consumers and the cron, plus the Durable Object class
 * and the RPC entrypoint.
 */
import { createApp } from "./app";
import { getDb } from "./db/client";
import { dispatchQueue } from "./events/consumers";
import { outboxQueues, redriveOutbox } from "./events/outbox";
import { purgeExpired } from "./housekeeping";
import { log } from "./logging";

const app = createApp();

export default {
  fetch: app.fetch,

  async queue(batch, env, ctx) {
    await dispatchQueue(batch, env, ctx);
  },

  async scheduled(controller, env) {
    const db = getDb(env);
    const now = new Date(controller.scheduledTime);
    const republished = await redriveOutbox(db, outboxQueues(env), now);
    const purged = await purgeExpired(db, now);
    log("info", "housekeeping", { cron: controller.cron, republished, purged });
  },
} satisfies ExportedHandler<Env>;

export { RateLimiter } from "./rate-limit/rate-limiter";
export { UserService } from "./rpc/user-service";
