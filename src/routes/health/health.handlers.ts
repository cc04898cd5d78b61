import type { RouteHandler } from "@hono/zod-openapi";
import type { AppEnv } from "../../app-env";
import { probeKv } from "../../kv";
import { errorDetail, log } from "../../logging";
import type * as routes from "./health.routes";

/** A dependency that does not answer within this time counts as down. */
const CHECK_TIMEOUT_MS = 2_000;

async function probe(name: string, check: () => Promise<unknown>, correlationId: string) {
  let timer: number | null = null;
  try {
    await Promise.race([
      check(),
      new Promise((_, reject) => {
        timer = setTimeout(() => reject(new Error("timed out")), CHECK_TIMEOUT_MS);
      }),
    ]);
    return "ok" as const;
  } catch (err) {
    log("error", "health_check_failed", {
      check: name,
      correlation_id: correlationId,
      detail: errorDetail(err),
    });
    return "error" as const;
  } finally {
    clearTimeout(timer);
  }
}

export const health: RouteHandler<typeof routes.health, AppEnv> = async (c) => {
  const id = c.get("correlationId");
  const [database, kv, queue, rateLimiter] = await Promise.all([
    probe("database", () => c.env.DB.prepare("SELECT 1").first(), id),
    probe("kv", () => probeKv(c.env.KV), id),
    probe("queue", () => c.env.USER_EVENTS.metrics(), id),
    probe("rate_limiter", () => c.env.RATE_LIMITER.getByName("health").ping(), id),
  ]);
  const checks = { database, kv, queue, rate_limiter: rateLimiter };
  if (Object.values(checks).every((v) => v === "ok")) {
    return c.json(
      {
        success: true as const,
        message: "Service healthy",
        data: { status: "ok" as const, checks },
      },
      200,
    );
  }
  return c.json(
    {
      success: false as const,
      message: "One or more dependencies are unavailable",
      error: "service_unavailable" as const,
      data: { status: "unavailable" as const, checks },
    },
    503,
  );
};
