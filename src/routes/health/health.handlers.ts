import type { RouteHandler } from "@hono/zod-openapi";
import type { Context } from "hono";
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

/** The health paths (the canonical one, and under /api/v1), with or without a trailing slash. */
const HEALTH_PATHS = new Set(["/health", "/api/v1/health"]);

export function isHealthPath(path: string): boolean {
  return HEALTH_PATHS.has(path.replace(/\/+$/, ""));
}

/**
 * A misconfigured service is not ready: a load balancer's probe gets a 503 it understands, not a
 * 500. The settings at fault are in the log (`misconfigured`), never in the answer.
 */
export function misconfiguredHealth(c: Context) {
  return c.json(
    {
      success: false as const,
      message: "The service is misconfigured",
      error: "misconfigured" as const,
      data: { status: "misconfigured" as const, checks: null },
    },
    503,
  );
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
