import type { RouteHandler } from "@hono/zod-openapi";
import type { Context } from "hono";
import type { AppEnv } from "../../app-env";
import { probeKv } from "../../kv";
import { errorDetail, log } from "../../logging";
import type * as routes from "./health.routes";

/** A dependency that does not answer within this time counts as down. */
const CHECK_TIMEOUT_MS = 2_000;

async function probe(name: string, check: () => Promise<unknown>, correlationId: string) {
  let timer: ReturnType<typeof setTimeout> | null = null;
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
const HEALTH_PATHS = new Set([
  "/health",
  "/api/v1/health",
  "/health/ready",
  "/api/v1/health/ready",
  "/api/health",
  "/healthz",
]);

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

type Checks = Record<"database" | "kv" | "queue" | "rate_limiter", "ok" | "error">;

async function probeAll(c: Context<AppEnv>): Promise<Checks> {
  const id = c.get("correlationId");
  const [database, kv, queue, rateLimiter] = await Promise.all([
    probe("database", () => c.env.DB.prepare("SELECT 1").first(), id),
    probe("kv", () => probeKv(c.env.KV), id),
    probe("queue", () => c.env.USER_EVENTS.metrics(), id),
    probe("rate_limiter", () => c.env.RATE_LIMITER.getByName("health").ping(), id),
  ]);
  return { database, kv, queue, rate_limiter: rateLimiter };
}

/** How old probe results may get before `/health` probes again (after answering). */
export const HEALTH_PROBE_MAX_AGE_MS = 5_000;
/** Older than this (an isolate polled rarely), `/health` waits for a fresh probe instead. */
const HEALTH_PROBE_STALE_MS = 30_000;

interface ProbeState {
  last: { at: number; checks: Checks } | null;
  running: Promise<Checks> | null;
}

/** Per set of bindings (one per isolate in production; tests vary them). */
const probes = new WeakMap<object, ProbeState>();

function refresh(c: Context<AppEnv>, state: ProbeState): Promise<Checks> {
  state.running ??= probeAll(c)
    .then((checks) => {
      state.last = { at: Date.now(), checks };
      return checks;
    })
    .finally(() => {
      state.running = null;
    });
  return state.running;
}

function answer(c: Context<AppEnv>, checks: Checks, at: number) {
  c.header("X-Health-Checked-At", new Date(at).toISOString());
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
}

/**
 * `/health` (and the replaced services' `/api/health`, `/healthz`): what load balancers poll, so
 * it answers from the isolate — the last probe results. Older than HEALTH_PROBE_MAX_AGE_MS, they
 * are answered as they are while a fresh probe runs after the response; older than
 * HEALTH_PROBE_STALE_MS (or none yet), the call waits for a fresh probe.
 */
export const health: RouteHandler<typeof routes.health, AppEnv> = async (c) => {
  let state = probes.get(c.env);
  if (!state) {
    state = { last: null, running: null };
    probes.set(c.env, state);
  }
  const { last } = state;
  if (!last || Date.now() - last.at > HEALTH_PROBE_STALE_MS) {
    return answer(c, await refresh(c, state), Date.now());
  }
  if (Date.now() - last.at > HEALTH_PROBE_MAX_AGE_MS) c.executionCtx.waitUntil(refresh(c, state));
  return answer(c, last.checks, last.at);
};

/** `/health/ready`: the deep check on demand, probing every dependency now. */
export const ready: RouteHandler<typeof routes.ready, AppEnv> = async (c) =>
  answer(c, await probeAll(c), Date.now());
