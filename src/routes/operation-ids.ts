/**
 * Every operation's `operationId`, in one place: `<area><RouteName>` from the route modules'
 * export names (`auth.login` → `authLogin`, `users.me.get` → `usersMeGet`), so generated clients
 * get stable, readable method names that change only when a route is renamed. Routes declared
 * elsewhere (docs, dev tools, compatibility aliases) are named from their method and path.
 */
import * as admin from "./admin/admin.routes";
import * as operations from "./admin/operations.routes";
import * as auth from "./auth/auth.routes";
import * as siblings from "./compat/siblings.routes";
import * as health from "./health/health.routes";
import * as lookups from "./lookups/lookups.routes";
import * as mfa from "./mfa/mfa.routes";
import * as passkeys from "./mfa/passkeys.routes";
import * as notifications from "./notifications/notifications.routes";
import * as preferences from "./preferences/preferences.routes";
import * as pushRequests from "./push-requests/push-requests.routes";
import * as pushTokens from "./push-tokens/push-tokens.routes";
import * as sessions from "./sessions/sessions.routes";
import * as users from "./users/users.routes";
import * as webhooks from "./webhooks/webhooks.routes";

const AREAS: Record<string, Record<string, unknown>> = {
  admin,
  admin_: operations,
  auth,
  legacy: siblings,
  health,
  lookups,
  mfa,
  passkeys,
  notifications,
  preferences,
  pushRequests,
  pushTokens,
  sessions,
  users,
  webhooks,
};

const pascal = (word: string) => word.charAt(0).toUpperCase() + word.slice(1);

const isRoute = (value: unknown): value is object =>
  typeof value === "object" &&
  value !== null &&
  typeof (value as { method?: unknown }).method === "string" &&
  typeof (value as { path?: unknown }).path === "string";

/**
 * The route modules' routes by their `responses` object: mounting a router copies each route's
 * config (so the config is not the same object in the app's registry), but the copy keeps the
 * same `responses`.
 */
function namesByResponses(): WeakMap<object, string> {
  const names = new WeakMap<object, string>();
  const visit = (value: unknown, name: string) => {
    if (isRoute(value)) {
      const responses = (value as { responses?: object }).responses;
      if (responses) names.set(responses, name);
      return;
    }
    if (typeof value !== "object" || value === null) return;
    for (const [key, inner] of Object.entries(value)) visit(inner, `${name}${pascal(key)}`);
  };
  for (const [area, routes] of Object.entries(AREAS)) {
    for (const [key, value] of Object.entries(routes)) {
      visit(value, `${area.replace(/_$/, "")}${pascal(key)}`);
    }
  }
  return names;
}

/**
 * Names the app's registered routes before the document is generated. A compatibility alias
 * (deprecated, sharing its canonical route's responses) is named from its own path instead.
 */
export function nameOperations(definitions: readonly { type: string; route?: unknown }[]): void {
  const names = namesByResponses();
  for (const definition of definitions) {
    if (definition.type !== "route") continue;
    const route = definition.route as {
      operationId?: string;
      deprecated?: boolean;
      responses?: object;
    };
    if (route.operationId || route.deprecated || !route.responses) continue;
    const name = names.get(route.responses);
    if (name) route.operationId = name;
  }
}

/** An operation with no name of its own: `get /.well-known/jwks.json` → `getWellKnownJwksJson`. */
export function operationIdFromPath(method: string, path: string, deprecated: boolean): string {
  const words = path
    .split(/[^A-Za-z0-9]+/)
    .filter(Boolean)
    .map((w) => pascal(w.toLowerCase()));
  const name = `${method.toLowerCase()}${words.join("")}`;
  return deprecated ? `deprecated${pascal(name)}` : name;
}
