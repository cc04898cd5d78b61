/**
 * Who is calling: a user (bearer access token) or another service (a service key from
 * SERVICE_KEYS, in `X-Service-Key` or as `Authorization: Bearer <key>`). A user token is never a
 * service credential and a service key is never a user token: the two are told apart by form
 * (a JWT has three dot-separated parts) and each is checked only against its own kind.
 */

import { and, eq } from "drizzle-orm";
import type { Context } from "hono";
import { createMiddleware } from "hono/factory";
import type { AppEnv } from "../app-env";
import type { Config } from "../config";
import type { Db } from "../db/client";
import { users } from "../db/schema";
import { ApiError } from "../errors";
import { legacyCaller } from "./legacy-callers";
import { authenticateUser, bearerToken } from "./middleware";
import { timingSafeEqual } from "./tokens";

const JWT_SHAPE = /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*$/;

/**
 * The service whose key this is, or null. Every configured key is compared, in constant time, so
 * the time taken says nothing about which key (or how much of one) matched.
 */
function serviceForKey(config: Config, presented: string): string | null {
  let match: string | null = null;
  for (const { name, key } of config.serviceKeys) {
    if (timingSafeEqual(presented, key) && match === null) match = name;
  }
  return match;
}

function serviceCredential(c: Context<AppEnv>): string | null {
  const header = c.req.header("X-Service-Key");
  if (header !== undefined) return header;
  const bearer = bearerToken(c.req.header("Authorization"));
  if (bearer !== null && !JWT_SHAPE.test(bearer)) return bearer;
  return null;
}

/**
 * The service a request's credential belongs to, or null (no service key, a wrong one, or a
 * malformed Authorization header). For middleware that only needs to know, before routing, whether
 * a trusted service is calling; routes authenticate with `requireService`.
 */
export function presentedService(c: Context<AppEnv>): string | null {
  try {
    const presented = serviceCredential(c);
    return presented === null ? null : serviceForKey(c.get("config"), presented);
  } catch {
    return null;
  }
}

function invalidServiceKey() {
  return new ApiError("invalid_token", "Service key is invalid", {
    headers: { "WWW-Authenticate": 'Bearer realm="user-service", error="invalid_token"' },
  });
}

/**
 * The caller as a service: by its key, or — where `legacy` allows and no credential is sent at
 * all — as a legacy caller from an opened network or with a verified client certificate.
 */
async function authenticateService(c: Context<AppEnv>, legacy: boolean) {
  const presented = serviceCredential(c);
  if (presented === null) {
    const known = legacy && !c.req.header("Authorization") ? legacyCaller(c) : null;
    if (known) {
      c.set("caller", { kind: "service", name: known });
      return;
    }
    // A user's access token is not a service credential: that is a 403, not a missing key.
    if (c.req.header("Authorization")) {
      await authenticateUser(c);
      throw new ApiError("forbidden", "This endpoint is for services only");
    }
    throw new ApiError("authentication_required", "A service key is required", {
      headers: { "WWW-Authenticate": 'Bearer realm="user-service"' },
    });
  }
  const name = serviceForKey(c.get("config"), presented);
  if (name === null) throw invalidServiceKey();
  c.set("caller", { kind: "service", name });
}

/** Routes only other services may call. */
export const requireService = createMiddleware<AppEnv>(async (c, next) => {
  await authenticateService(c, false);
  await next();
});

/**
 * The internal reads the replaced services' siblings call without a key (README: Compatibility):
 * services, and legacy callers where the operator opened them (src/auth/legacy-callers.ts).
 */
export const requireServiceOrLegacyCaller = createMiddleware<AppEnv>(async (c, next) => {
  await authenticateService(c, true);
  await next();
});

async function authenticateUserOrService(c: Context<AppEnv>, legacy: boolean) {
  const presented = serviceCredential(c);
  if (presented !== null) {
    const name = serviceForKey(c.get("config"), presented);
    if (name === null) throw invalidServiceKey();
    c.set("caller", { kind: "service", name });
    return;
  }
  const known = legacy && !c.req.header("Authorization") ? legacyCaller(c) : null;
  if (known) {
    c.set("caller", { kind: "service", name: known });
    return;
  }
  const claims = await authenticateUser(c);
  c.set("caller", { kind: "user", userId: claims.userId, sid: claims.sid, role: claims.role });
}

/** Routes open to users (their own data, or any as admin) and to services. */
export const requireUserOrService = createMiddleware<AppEnv>(async (c, next) => {
  await authenticateUserOrService(c, false);
  await next();
});

/** The same, and legacy callers where the operator opened them (the gateway's user lookup). */
export const requireUserServiceOrLegacyCaller = createMiddleware<AppEnv>(async (c, next) => {
  await authenticateUserOrService(c, true);
  await next();
});

/** Whether this user is an active admin, read from D1 so a demotion takes effect at once. */
async function isAdmin(db: Db, userId: string): Promise<boolean> {
  const [row] = await db
    .select({ role: users.role })
    .from(users)
    .where(and(eq(users.id, userId), eq(users.isActive, true)))
    .limit(1);
  return row?.role === "admin";
}

/**
 * Lets the caller at one user's data: the user themself, an admin, or (when `services`) a service.
 * Anyone else gets 403. With `mustExist`, an admin asking for an unknown user gets 404.
 */
export async function authorizeUserAccess(
  c: Context<AppEnv>,
  targetId: string,
  options: { services: boolean; mustExist?: boolean },
): Promise<void> {
  const caller = c.get("caller");
  if (caller.kind === "service") {
    // An operator's tool (ADMIN_SERVICES) may read what an admin may.
    if (options.services || c.get("config").adminServices.includes(caller.name)) return;
    throw new ApiError("forbidden", "This endpoint is not for services");
  }
  if (caller.userId === targetId) return;
  const db = c.get("db");
  if (!(await isAdmin(db, caller.userId))) {
    throw new ApiError("forbidden", "You may only access your own account");
  }
  if (!options.mustExist) return;
  const [target] = await db
    .select({ id: users.id })
    .from(users)
    .where(eq(users.id, targetId))
    .limit(1);
  if (!target) throw new ApiError("not_found", "User not found");
}

/**
 * Routes for admins only: an admin's bearer token (role read from D1; at `aal2` when
 * MFA_REQUIRED_FOR_ADMINS), or the key of a service named in ADMIN_SERVICES (operators' tools).
 */
export const requireAdmin = createMiddleware<AppEnv>(async (c, next) => {
  const presented = serviceCredential(c);
  const name = presented === null ? null : serviceForKey(c.get("config"), presented);
  if (name !== null && c.get("config").adminServices.includes(name)) {
    c.set("caller", { kind: "service", name });
    return next();
  }
  // Anything else must be an admin's access token (other service keys are refused as before).
  const claims = await authenticateUser(c);
  if (!(await isAdmin(c.get("db"), claims.userId))) {
    throw new ApiError("forbidden", "Admin role required");
  }
  // MFA_REQUIRED_FOR_ADMINS: an admin session must have shown a second factor.
  if (c.get("config").mfa.requiredForAdmins && claims.aal !== "aal2") {
    throw new ApiError(
      "mfa_required",
      "Admin actions need a session signed in with a second factor",
    );
  }
  c.set("caller", { kind: "user", userId: claims.userId, sid: claims.sid, role: "admin" });
  await next();
});

/** Who did an admin action, as audit entries and events record it: a user id or `service:<name>`. */
export function adminActor(c: Context<AppEnv>): string {
  const caller = c.get("caller");
  return caller.kind === "user" ? caller.userId : `service:${caller.name}`;
}

/**
 * Who may import users: an admin (role read from D1), or a service whose key's name is listed in
 * IMPORT_SERVICES — a service key alone is not enough.
 */
export const requireImporter = createMiddleware<AppEnv>(async (c, next) => {
  const presented = serviceCredential(c);
  if (presented === null) {
    const claims = await authenticateUser(c);
    if (!(await isAdmin(c.get("db"), claims.userId))) {
      throw new ApiError("forbidden", "Admin role or an import service key required");
    }
    c.set("caller", { kind: "user", userId: claims.userId, sid: claims.sid, role: "admin" });
    return next();
  }
  const name = serviceForKey(c.get("config"), presented);
  if (name === null) throw invalidServiceKey();
  if (!c.get("config").importServices.includes(name)) {
    throw new ApiError("forbidden", "This service key may not import users (IMPORT_SERVICES)");
  }
  c.set("caller", { kind: "service", name });
  await next();
});
