/**
 * Worker entry: HTTP (the Hono app), queue consumers and the cron, plus the Durable Object class.
 */
import { createApp } from "./app";
import { getDb } from "./db/client";
import { dispatchQueue } from "./events/consumers";
import { purgeExpired } from "./housekeeping";
import { log } from "./logging";

const app = createApp();

export default {
  fetch: app.fetch,

  async queue(batch, env, ctx) {
    await dispatchQueue(batch, env, ctx);
  },

  async scheduled(controller, env) {
    const purged = await purgeExpired(getDb(env), new Date(controller.scheduledTime));
    log("info", "housekeeping", { cron: controller.cron, purged });
  },
} satisfies ExportedHandler<Env>;

export { RateLimiter } from "./rate-limit/rate-limiter";
