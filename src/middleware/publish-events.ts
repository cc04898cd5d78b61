/**
 * After the response is sent, publish the outbox events this request committed (`ctx.waitUntil`),
 * so the client never waits for the queue and a queue outage never fails a committed change.
 * Whatever is not published here is re-driven by the cron.
 */
import { createMiddleware } from "hono/factory";
import type { AppEnv } from "../app-env";
import { outboxQueues, publishEvents } from "../events/outbox";
import { errorDetail, log } from "../logging";

export const publishAfterResponse = createMiddleware<AppEnv>(async (c, next) => {
  await next();
  const ids = c.get("eventIds");
  if (ids.length === 0) return;
  c.executionCtx.waitUntil(
    publishEvents(c.get("db"), outboxQueues(c.env), [...ids]).catch((err: unknown) => {
      log("error", "outbox_publish_failed", {
        correlation_id: c.get("correlationId"),
        events: ids,
        detail: errorDetail(err),
      });
    }),
  );
});
