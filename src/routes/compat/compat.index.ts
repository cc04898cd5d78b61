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
import * as lookupHandlers from "../lookups/lookups.handlers";
import * as lookupRoutes from "../lookups/lookups.routes";
import { createRouter } from "../openapi";
import * as userHandlers from "../users/users.handlers";
import * as userRoutes from "../users/users.routes";

/** When these paths were deprecated (RFC 9745 `Deprecation: @<epoch seconds>`): from the start. */
export const DEPRECATED_SINCE = "@1795219200"; // 2026-11-21T00:00:00Z

/**
 * `Deprecation` and `Link: <canonical>; rel="successor-version"` on every answer of an alias,
 * errors included. Path parameters of the alias are filled into the canonical path.
 */
function deprecation(canonical: string) {
  return createMiddleware<AppEnv>(async (c, next) => {
    await next();
    const target = canonical.replace(/\{(\w+)\}/g, (_, name: string) =>
      encodeURIComponent(c.req.param(name) ?? ""),
    );
    c.header("Deprecation", DEPRECATED_SINCE);
    c.header("Link", `<${target}>; rel="successor-version"`);
  });
}

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
  const inner = route.middleware === undefined ? [] : [route.middleware].flat();
  return {
    ...route,
    method,
    path,
    deprecated: true,
    tags: ["Compatibility (deprecated)"],
    operationId: undefined,
    description: `Deprecated: use \`${method.toUpperCase()} ${canonical}\`.${route.description ? `\n\n${route.description}` : ""}`,
    middleware: [deprecation(canonical), ...inner],
  } as R;
}

const V1 = "/api/v1";

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
  .openapi(alias(lookupRoutes.byId, "/api/users/{id}", `${V1}/users/{id}/`), lookupHandlers.byId)
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
