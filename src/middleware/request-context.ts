/**
 * First middleware of every request: correlation id in and out, client address, and one structured
 * log line when the response is ready (method, path, status, duration, correlation id, user id or
 * calling service — never a body, query string, password or token).
 */
import type { Context } from "hono";
import { createMiddleware } from "hono/factory";
import type { AppEnv, RequestMeta, Scope } from "../app-env";
import { log } from "../logging";

const CORRELATION_ID = /^[A-Za-z0-9._:-]{1,128}$/;
const USER_AGENT_MAX = 512;

export const requestContext = createMiddleware<AppEnv>(async (c, next) => {
  const started = performance.now();
  const offered = c.req.header("X-Correlation-ID");
  // A caller-supplied id is kept only if it is safe to echo and log verbatim.
  const correlationId = offered && CORRELATION_ID.test(offered) ? offered : crypto.randomUUID();
  c.set("correlationId", correlationId);
  // Cloudflare sets CF-Connecting-IP at the edge and overwrites any client-sent value; a client's
  // X-Forwarded-For is never trusted.
  c.set("clientIp", c.req.header("CF-Connecting-IP") ?? null);
  c.set("userAgent", c.req.header("User-Agent")?.slice(0, USER_AGENT_MAX) ?? null);
  c.set("eventIds", []);

  await next();

  c.header("X-Correlation-ID", correlationId);
  const caller = c.get("caller");
  log("info", "request", {
    method: c.req.method,
    path: new URL(c.req.url).pathname,
    status: c.res.status,
    duration_ms: Math.round((performance.now() - started) * 100) / 100,
    correlation_id: correlationId,
    user_id: c.get("auth")?.userId ?? null,
    service: caller?.kind === "service" ? caller.name : undefined,
  });
});

/** The request's origin as recorded in audit rows, sessions and events. */
function requestMeta(c: Context<AppEnv>): RequestMeta {
  return {
    ip: c.get("clientIp"),
    userAgent: c.get("userAgent"),
    correlationId: c.get("correlationId"),
    eventIds: c.get("eventIds"),
  };
}

/** What the domain functions a handler calls work with, for this request. */
export function scope(c: Context<AppEnv>): Scope {
  return { db: c.get("db"), kv: c.env.KV, config: c.get("config"), meta: requestMeta(c) };
}
