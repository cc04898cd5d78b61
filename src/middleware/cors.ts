/**
 * CORS, per configuration: CORS_ORIGINS may call with bearer tokens; those of them also in
 * COOKIE_ORIGINS (README: Browser sessions) with credentials too.
 */
import type { MiddlewareHandler } from "hono";
import { cors } from "hono/cors";
import { createMiddleware } from "hono/factory";
import type { AppEnv } from "../app-env";
import { CSRF_HEADER } from "../auth/browser-cookies";
import type { Config } from "../config";

/** The header carrying a D1 bookmark both ways (src/db/client.ts `sessionDb`). */
export const BOOKMARK_HEADER = "X-D1-Bookmark";

/** The CORS middleware for a configuration, built once per isolate rather than per request. */
const corsByConfig = new WeakMap<
  Config,
  { plain: MiddlewareHandler; credentialed: MiddlewareHandler }
>();

const CORS_OPTIONS = {
  allowMethods: ["GET", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"],
  allowHeaders: [
    "Authorization",
    "Content-Type",
    "Idempotency-Key",
    "X-Request-ID",
    "X-Correlation-ID",
    "X-Service-Key",
    CSRF_HEADER,
    BOOKMARK_HEADER,
  ],
  exposeHeaders: [
    "X-Correlation-ID",
    "Retry-After",
    "RateLimit",
    "RateLimit-Policy",
    "Idempotent-Replayed",
    "Deprecation",
    "Link",
    BOOKMARK_HEADER,
  ],
  maxAge: 600,
};

/**
 * CORS_ORIGINS may call with bearer tokens; those of them also in COOKIE_ORIGINS (README: Browser
 * sessions) with credentials — cookies — too, and only they: a wildcard never comes with
 * credentials.
 */
function corsFor(config: Config) {
  let middleware = corsByConfig.get(config);
  if (!middleware) {
    const allowed = config.corsOrigins;
    // Credentials only to an origin CORS_ORIGINS names too (a wildcard names none).
    const cookieOrigins = config.cookies.enabled
      ? config.cookies.origins.filter((o) => allowed.includes(o))
      : [];
    middleware = {
      plain: cors({
        ...CORS_OPTIONS,
        origin: (origin) =>
          allowed.includes("*") ? "*" : allowed.includes(origin) ? origin : null,
      }),
      credentialed: cors({
        ...CORS_OPTIONS,
        origin: (origin) => (cookieOrigins.includes(origin) ? origin : null),
        credentials: true,
      }),
    };
    corsByConfig.set(config, middleware);
  }
  return middleware;
}

export const corsFromConfig = createMiddleware<AppEnv>((c, next) => {
  const config = c.get("config");
  const { plain, credentialed } = corsFor(config);
  const origin = c.req.header("Origin") ?? "";
  const cookieOrigin =
    config.cookies.enabled &&
    config.cookies.origins.includes(origin) &&
    config.corsOrigins.includes(origin);
  return (cookieOrigin ? credentialed : plain)(c, next);
});
