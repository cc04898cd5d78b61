/**
 * The paths of the replaced Django services (DESIGN §3 "Seed compatibility"), so their clients keep
 * working: each alias is the canonical route's own contract and handler under another path —
 * same validation (old field names such as `password2`, `password_confirm` and `refresh` are
 * accepted by the canonical schemas), same middleware, same answers — plus a `Deprecation` header
 * and a `Link` to the canonical path, and `deprecated: true` in the OpenAPI document.
 */
import type { RouteConfig } from "@hono/zod-openapi";
import { createMiddleware } from "hono/factory";
import type { AppEnv } from "../../app-env";
import * as adminHandlers from "../admin/admin.handlers";
import * as adminRoutes from "../admin/admin.routes";
import * as authHandlers from "../auth/auth.handlers";
import * as authRoutes from "../auth/auth.routes";
import * as healthHandlers from "../health/health.handlers";
import * as healthRoutes from "../health/health.routes";
import { createRouter } from "../openapi";
import { tags } from "../tags";
import * as userHandlers from "../users/users.handlers";
import * as userRoutes from "../users/users.routes";
import * as siblingHandlers from "./siblings.handlers";
import * as siblings from "./siblings.routes";

/** When these paths were deprecated (RFC 9745 `Deprecation: @<epoch seconds>`): from the start. */
export const DEPRECATED_SINCE = "@1795219200"; // 2026-11-21T00:00:00Z

/** Every alias path (as a pattern that ignores a trailing slash) and its canonical path. */
const ALIASES: { pattern: RegExp; canonical: string }[] = [];

function remember(path: string, canonical: string) {
  if (ALIASES.some((a) => a.pattern.source === patternOf(path).source)) return;
  ALIASES.push({ pattern: patternOf(path), canonical });
}

function patternOf(path: string): RegExp {
  const source = path
    .split("/")
    .map((part) => (/^\{\w+\}$/.test(part) ? `(?<${part.slice(1, -1)}>[^/]+)` : part))
    .join("/");
  return new RegExp(`^${source}/?$`);
}

/**
 * `Deprecation` and `Link: <canonical>; rel="successor-version"` on every answer to an alias path
 * — errors, replays and refusals before routing (413, 415, 429) included — so it runs at the app
 * level, outside everything else. Path parameters are filled into the canonical path.
 */
export const deprecatedPaths = createMiddleware<AppEnv>(async (c, next) => {
  await next();
  const path = c.req.path;
  if (!path.startsWith("/api/") && !path.startsWith("/healthz")) return;
  for (const { pattern, canonical } of ALIASES) {
    const match = pattern.exec(path);
    if (!match) continue;
    const target = canonical.replace(/\{(\w+)\}/g, (_, name: string) => match.groups?.[name] ?? "");
    c.header("Deprecation", DEPRECATED_SINCE);
    c.header("Link", `<${target}>; rel="successor-version"`);
    return;
  }
});

/**
 * The canonical route under an old path: the same contract and middleware, marked deprecated. The
 * result keeps the canonical route's type, so its handler fits it unchanged.
 */
function alias<R extends RouteConfig>(
  route: R,
  path: string,
  canonical: string,
  method: RouteConfig["method"] = route.method,
): R {
  remember(path, canonical);
  return {
    ...route,
    method,
    path,
    deprecated: true,
    tags: tags("Compatibility (deprecated)"),
    operationId: undefined,
    description: `Deprecated: use \`${route.method.toUpperCase()} ${canonical}\`.${route.description ? `\n\n${route.description}` : ""}`,
  } as R;
}

const V1 = "/api/v1";

/** A sibling client's old path (its own contract, not a canonical route's): deprecated too. */
function sibling<R extends RouteConfig>(route: R, canonical: string): R {
  remember(route.path, canonical);
  return route;
}

export const compatRouter = createRouter()
  // The users service (`/api/users/...`).
  .openapi(alias(userRoutes.register, "/api/users/register", `${V1}/users/`), userHandlers.register)
  .openapi(alias(userRoutes.register, "/api/users", `${V1}/users/`), userHandlers.register)
  .openapi(alias(adminRoutes.list, "/api/users", `${V1}/users/`), adminHandlers.list)
  .openapi(
    alias(userRoutes.me.get, "/api/users/me", `${V1}/users/profile/`),
    userHandlers.getProfile,
  )
  .openapi(
    alias(userRoutes.me.put, "/api/users/me", `${V1}/users/profile/`),
    userHandlers.putProfile,
  )
  .openapi(
    alias(userRoutes.me.patch, "/api/users/me", `${V1}/users/profile/`),
    userHandlers.patchProfile,
  )
  .openapi(
    alias(userRoutes.me.delete, "/api/users/me", `${V1}/users/profile/`),
    userHandlers.deleteProfile,
  )
  .openapi(
    alias(userRoutes.changePassword, "/api/users/me/password", `${V1}/users/change-password/`),
    userHandlers.changePassword,
  )
  .openapi(
    alias(
      userRoutes.changePassword,
      "/api/users/me/password",
      `${V1}/users/change-password/`,
      "put",
    ),
    userHandlers.changePassword,
  )
  // The notification-platform gateway's reads (siblings.routes.ts); validate before {id}.
  .openapi(
    sibling(siblings.gatewayValidate, `${V1}/auth/validate/`),
    siblingHandlers.gatewayValidate,
  )
  .openapi(
    sibling(siblings.gatewayPreferences, `${V1}/users/{id}/preferences/`),
    siblingHandlers.gatewayPreferences,
  )
  .openapi(sibling(siblings.gatewayUser, `${V1}/users/{id}/`), siblingHandlers.gatewayUser)
  .openapi(alias(adminRoutes.update, "/api/users/{id}", `${V1}/users/{id}/`), adminHandlers.update)
  .openapi(alias(healthRoutes.health, "/api/health", `${V1}/health/`), healthHandlers.health)
  // The auth service (`/api/auth/...`).
  .openapi(alias(userRoutes.register, "/api/auth/register", `${V1}/users/`), userHandlers.register)
  .openapi(alias(authRoutes.login, "/api/auth/login", `${V1}/auth/login/`), authHandlers.login)
  .openapi(
    alias(authRoutes.refresh, "/api/auth/refresh", `${V1}/auth/refresh/`),
    authHandlers.refresh,
  )
  .openapi(alias(authRoutes.logout, "/api/auth/logout", `${V1}/auth/logout/`), authHandlers.logout)
  // The notification-platform service's end-to-end script registers here.
  .openapi(alias(userRoutes.register, `${V1}/auth/register`, `${V1}/users/`), userHandlers.register)
  // The push-tokens service (`/api/v1/users/...`).
  .openapi(
    alias(userRoutes.register, `${V1}/users/register`, `${V1}/users/`),
    userHandlers.register,
  )
  .openapi(alias(authRoutes.login, `${V1}/users/login`, `${V1}/auth/login/`), authHandlers.login)
  .openapi(
    alias(authRoutes.logout, `${V1}/users/logout`, `${V1}/auth/logout/`),
    authHandlers.logout,
  )
  .openapi(
    alias(authRoutes.refresh, `${V1}/users/token/refresh`, `${V1}/auth/refresh/`),
    authHandlers.refresh,
  )
  // Container probes.
  .openapi(alias(healthRoutes.health, "/healthz", "/health/"), healthHandlers.health);
