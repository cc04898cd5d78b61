/**
 * After the response is sent, publish the outbox events this request committed (`ctx.waitUntil`),
 * so the client never waits for the queue and a queue outage never fails a committed change.
 * Whatever is not published here is re-driven by the cron.
 */
import type { Context } from "hono";
import { createMiddleware } from "hono/factory";
import type { AppEnv, Scope } from "../app-env";
import { outboxQueues, publishEvents } from "../events/outbox";
import { errorDetail, log } from "../logging";
import { scope } from "./request-context";

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

/**
 * How long deferred work waits before it starts: long enough for the answer to be on its way out
 * of the runtime (whose thread the work's CPU would otherwise hold), short beside a mail's delay.
 */
const HAND_OVER_MS = 25;

/**
 * Runs `work` after the response, and publishes the events it commits: for requests whose answer
 * must not depend on what the work finds — how long it takes included (an emailed code or a reset
 * link: whether the address has an account). The work still commits as one batch; a failure is
 * logged, and the client, who is told the same either way, could not act on it.
 */
export function afterResponse(
  c: Context<AppEnv>,
  what: string,
  work: (scope: Scope) => Promise<void>,
) {
  const base = scope(c);
  const deferred: Scope = { ...base, meta: { ...base.meta, eventIds: [] } };
  const started = new Promise<void>((resolve) => setTimeout(resolve, HAND_OVER_MS));
  c.executionCtx.waitUntil(
    started
      .then(() => work(deferred))
      .then(() => publishEvents(deferred.db, outboxQueues(c.env), deferred.meta.eventIds))
      .catch((err: unknown) => {
        log("error", "deferred_work_failed", {
          correlation_id: c.get("correlationId"),
          work: what,
          detail: errorDetail(err),
        });
      }),
  );
}
