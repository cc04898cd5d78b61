/**
 * The Hono app: middleware in order, routers, and the 404/405/error envelopes.
 *
 * Order matters: the request context comes first so every response (errors included) carries the
 * correlation id and is logged; configuration is parsed before anything reads it; bodies are
 * checked before any route parses them; authentication is per route.
 */

import type { Context, MiddlewareHandler } from "hono";
import { createMiddleware } from "hono/factory";
import { secureHeaders } from "hono/secure-headers";
import { decodeJwt } from "jose";
import packageJson from "../package.json";
import type { AppEnv } from "./app-env";
import { accessCookie } from "./auth/browser-cookies";
import { presentedService } from "./auth/callers";
import { knownAccessClaims } from "./auth/jwt";
import { legacyCaller } from "./auth/legacy-callers";
import { type Config, getCheckedConfig } from "./config";
import { getDb, sessionDb } from "./db/client";
import { ApiError, errorResponse, handleError } from "./errors";
import { browserSessions } from "./middleware/browser-sessions";
import { BOOKMARK_HEADER, corsFromConfig } from "./middleware/cors";
import { idempotency } from "./middleware/idempotency";
import { jsonBody, WRITE_METHODS } from "./middleware/json-body";
import { publishAfterResponse } from "./middleware/publish-events";
import { requestContext } from "./middleware/request-context";
import { clientNetwork, enforceCeiling } from "./rate-limit/limits";
import { adminRouter } from "./routes/admin/admin.index";
import { asyncapiRouter } from "./routes/asyncapi/asyncapi.index";
import { authRouter } from "./routes/auth/auth.index";
import { compatRouter, deprecatedPaths } from "./routes/compat/compat.index";
import { consoleContentSecurityPolicy, consoleRouter } from "./routes/console/console.index";
import { docsContentSecurityPolicy, docsRouter } from "./routes/docs/docs.index";
import { isHealthPath, misconfiguredHealth } from "./routes/health/health.handlers";
import { healthRouter } from "./routes/health/health.index";
import { lookupsRouter } from "./routes/lookups/lookups.index";
import { mfaRouter } from "./routes/mfa/mfa.index";
import { notificationsRouter } from "./routes/notifications/notifications.index";
import { createRouter } from "./routes/openapi";
import { buildOpenApiDocument } from "./routes/openapi-document";
import { preferencesRouter } from "./routes/preferences/preferences.index";
import { pushRequestsRouter } from "./routes/push-requests/push-requests.index";
import { pushTokensRouter } from "./routes/push-tokens/push-tokens.index";
import { sessionsRouter } from "./routes/sessions/sessions.index";
import { signInRouter } from "./routes/sign-in/sign-in.index";
import { usersRouter } from "./routes/users/users.index";
import { webhooksRouter } from "./routes/webhooks/webhooks.index";
import { wellKnownRouter } from "./routes/well-known/well-known.index";

const API_BASE = "/api/v1";

type Router = ReturnType<typeof createRouter>;

/** Routes an entry adds to the app (the local stand-ins, src/dev/local.ts). */
export interface AppExtension {
  routers: Router[];
  /** Whether they answer this request; where they do not, the document does not list them. */
  enabled: (config: Config, url: string) => boolean;
  /** Pages with a Content-Security-Policy of their own, set after (so over) the strict one. */
  pagePolicies?: { path: string; middleware: MiddlewareHandler<AppEnv> }[];
}

/** The OpenAPI paths of a router's routes (`/users/:id` becomes `/users/{id}`). */
function documentedPaths(router: Router): string[] {
  return router.openAPIRegistry.definitions.flatMap((d) =>
    d.type === "route" ? [d.route.path.replace(/:(\w+)/g, "{$1}")] : [],
  );
}

/** The configuration and the database, the one way handlers reach them (`c.get`). */
const config = createMiddleware<AppEnv>(async (c, next) => {
  try {
    c.set("config", await getCheckedConfig(c.env));
  } catch (err) {
    if (err instanceof ApiError && err.code === "misconfigured" && isHealthPath(c.req.path)) {
      return misconfiguredHealth(c);
    }
    throw err;
  }
  // A missing binding (a broken deployment) must fail where the database is used, and /health
  // report it, rather than here for every request.
  if (!c.env.DB) {
    c.set("db", getDb(c.env));
    return next();
  }
  const session = sessionDb(
    c.env,
    readsPrimary(c) ? { primary: true } : { bookmark: c.req.header(BOOKMARK_HEADER) },
  );
  c.set("db", session.db);
  await next();
  // Only to callers who proved who they are: an anonymous answer (a login, a reset request)
  // must not carry the database's position, whose movement could tell what the request wrote.
  const bookmark = session.bookmark();
  if (bookmark && (c.get("auth") || c.get("caller"))) c.header(BOOKMARK_HEADER, bookmark);
});

/** A session as old as this is "new": its user's own writes may not have reached a replica. */
const NEW_SESSION_SECONDS = 60;

/**
 * The requests a read replica must not answer: writes; services (a service looking a user up
 * because of an event has no bookmark and must find the user); admin routes and token validation
 * (a demotion, a deactivation must count at once); and a user whose access token is under a
 * minute old — just registered or signed in, whose client may not send the bookmark back yet.
 * The token is only peeked at here (its claims decide nothing but where to read); the route
 * verifies it.
 */
function readsPrimary(c: Context<AppEnv>): boolean {
  if (WRITE_METHODS.has(c.req.method)) return true;
  if (presentedService(c) !== null || legacyCaller(c) !== null) return true;
  const path = c.req.path;
  if (path.startsWith(`${API_BASE}/admin/`) || path.startsWith("/api/users/validate")) return true;
  const bearer =
    /^Bearer (\S+)$/i.exec(c.req.header("Authorization") ?? "")?.[1] ?? accessCookie(c);
  if (!bearer) return false;
  try {
    // A token this isolate has verified before (most requests) needs no decoding again.
    const { iat } = knownAccessClaims(c.get("config"), bearer) ?? decodeJwt(bearer);
    return typeof iat !== "number" || Date.now() / 1000 - iat < NEW_SESSION_SECONDS;
  } catch {
    return false;
  }
}

/**
 * The general per-client ceiling (DESIGN §7: 300 a minute), on every request but CORS preflights
 * and callers holding a valid service key: a notification service looking up a user per message
 * makes far more than 300 calls a minute from a handful of addresses, and its key is a secret (a
 * wrong key is counted like anyone else). Legacy callers an operator opened (LEGACY_CALLER_*) are
 * trusted alike. Counted in-colo by the rate-limiting binding: no Durable Object on a read.
 */
const globalLimit = createMiddleware<AppEnv>(async (c, next) => {
  if (c.req.method !== "OPTIONS" && presentedService(c) === null && legacyCaller(c) === null) {
    await enforceCeiling(c, clientNetwork(c.get("clientIp")));
  }
  await next();
});

/** Responses carrying tokens or personal data must not be stored by any cache. */
const noStore = createMiddleware<AppEnv>(async (c, next) => {
  await next();
  if (!c.res.headers.has("Cache-Control")) c.header("Cache-Control", "no-store");
});

type RouteMatcher = { method: string; pattern: RegExp };

/** Turns Hono route paths (`/users/:id`, `*`) into regexes that ignore a trailing slash. */
function routeMatchers(routes: { method: string; path: string }[]): RouteMatcher[] {
  return routes
    .filter((r) => r.method !== "ALL")
    .map((r) => {
      const source = r.path
        .replace(/\/+$/, "")
        .split("/")
        .map((part) => {
          if (part.startsWith(":")) return "[^/]+";
          if (part === "*") return ".*";
          return part.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
        })
        .join("/");
      return { method: r.method, pattern: new RegExp(`^${source}/?$`) };
    });
}

export function createApp(extension?: AppExtension) {
  const app = createRouter();

  app.use("*", requestContext);
  // Outside everything else, so every answer to an old path says where to go instead.
  app.use("*", deprecatedPaths);
  // Before secureHeaders so they run after it and replace the strict CSP on the /docs and /admin
  // pages (and an extension's own pages) only.
  app.use("/docs", docsContentSecurityPolicy);
  app.use("/admin", consoleContentSecurityPolicy);
  for (const page of extension?.pagePolicies ?? []) app.use(page.path, page.middleware);
  // Headers that need no configuration come first, so even a 500 `misconfigured` carries them.
  app.use(
    "*",
    secureHeaders({
      // ASVS 5.0 3.4.1: a year, subdomains included. 3.4.6: frame-ancestors in a CSP; JSON
      // responses need no other source at all.
      strictTransportSecurity: "max-age=31536000; includeSubDomains",
      contentSecurityPolicy: { defaultSrc: ["'none'"], frameAncestors: ["'none'"] },
      xFrameOptions: "DENY",
    }),
  );
  app.use("*", noStore);
  app.use("*", config);
  app.use("*", publishAfterResponse);
  app.use("*", corsFromConfig);
  // After the header middleware, so a 429 carries the same security, cache and CORS headers.
  app.use("*", globalLimit);
  app.use("*", jsonBody);
  app.use("*", browserSessions);
  app.use("*", idempotency);

  // Order matters where paths overlap: fixed paths (/users/profile, /users/preferences,
  // /users/by-email, ...) are registered before the /users/{id} routes that would also match them.
  app.route(API_BASE, usersRouter);
  app.route(API_BASE, preferencesRouter);
  app.route(API_BASE, pushTokensRouter);
  app.route(API_BASE, sessionsRouter);
  app.route(API_BASE, authRouter);
  app.route(API_BASE, mfaRouter);
  app.route(API_BASE, signInRouter);
  app.route(API_BASE, notificationsRouter);
  app.route(API_BASE, pushRequestsRouter);
  app.route(API_BASE, lookupsRouter);
  app.route(API_BASE, adminRouter);
  app.route(API_BASE, webhooksRouter);
  app.route(API_BASE, healthRouter);
  // The replaced services' paths; after the canonical routes, which they never shadow.
  app.route("/", compatRouter);
  app.route("/", healthRouter);
  app.route("/", wellKnownRouter);
  app.route("/", asyncapiRouter);
  for (const router of extension?.routers ?? []) app.route("/", router);
  app.route("/", docsRouter);
  app.route("/", consoleRouter);

  app.openAPIRegistry.registerComponent("securitySchemes", "bearerAuth", {
    type: "http",
    scheme: "bearer",
    bearerFormat: "JWT",
    description: "A user's access token.",
  });
  app.openAPIRegistry.registerComponent("securitySchemes", "browserSession", {
    type: "apiKey",
    in: "cookie",
    name: "__Host-access",
    description:
      "A browser session's access cookie (README: Browser sessions), taken wherever a bearer " +
      "token is; unsafe requests also need `X-CSRF-Token`. An Authorization header wins.",
  });
  app.openAPIRegistry.registerComponent("securitySchemes", "browserRefresh", {
    type: "apiKey",
    in: "cookie",
    name: "__Host-refresh",
    description: "A browser session's refresh cookie, with `X-CSRF-Token`.",
  });
  app.openAPIRegistry.registerComponent("securitySchemes", "serviceKey", {
    type: "apiKey",
    in: "header",
    name: "X-Service-Key",
    description: "A key from SERVICE_KEYS; also accepted as `Authorization: Bearer <key>`.",
  });

  // Built on first request from the registered routes, then kept for the isolate's life: one
  // with the extension's routes, one without (where they do not answer).
  const extensionPaths = new Set(extension?.routers.flatMap(documentedPaths));
  const documents = new Map<boolean, ReturnType<typeof buildOpenApiDocument>>();
  app.get("/openapi.json", (c) => {
    const withExtension = extension?.enabled(c.get("config"), c.req.url) ?? false;
    let document = documents.get(withExtension);
    if (!document) {
      const hidden = withExtension ? new Set<string>() : extensionPaths;
      document = buildOpenApiDocument(app, packageJson.version, hidden);
      documents.set(withExtension, document);
    }
    return c.json(document, 200, { "Cache-Control": "public, max-age=300" });
  });

  let matchers: RouteMatcher[] | undefined;
  app.notFound((c) => {
    matchers ??= routeMatchers(app.routes);
    const path = new URL(c.req.url).pathname;
    const allowed = [...new Set(matchers.filter((m) => m.pattern.test(path)).map((m) => m.method))];
    if (allowed.length > 0) {
      return errorResponse(
        new ApiError("method_not_allowed", `Method ${c.req.method} not allowed`, {
          headers: { Allow: allowed.join(", ") },
        }),
      );
    }
    return errorResponse(new ApiError("not_found", "Not found"));
  });
  app.onError(handleError);
  return app;
}
