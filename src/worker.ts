/**
 * The Worker's handlers — HTTP (the Hono app), queue consumers and the cron — built once for each
 * entry: src/index.ts (what is deployed) and src/dev/local.ts (what `npm start` serves, the same
 * plus the local stand-ins).
 */
import { type AppExtension, createApp } from "./app";
import { getDb } from "./db/client";
import { type Consumers, consumers, dispatchQueue } from "./events/consumers";
import { outboxQueues, redriveOutbox } from "./events/outbox";
import { purgeExpired } from "./housekeeping";
import { log } from "./logging";

export function createWorker(extension: { app?: AppExtension; consumers?: Consumers } = {}) {
  const app = createApp(extension.app);
  const queues = { ...consumers, ...extension.consumers };
  return {
    fetch: app.fetch,

    async queue(batch, env, ctx) {
      await dispatchQueue(batch, env, ctx, queues);
    },

    async scheduled(controller, env) {
      const db = getDb(env);
      const now = new Date(controller.scheduledTime);
      const republished = await redriveOutbox(db, outboxQueues(env), now);
      const purged = await purgeExpired(db, now);
      log("info", "housekeeping", { cron: controller.cron, republished, purged });
    },
  } satisfies ExportedHandler<Env>;
}
