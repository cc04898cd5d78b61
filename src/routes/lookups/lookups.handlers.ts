import type { RouteHandler } from "@hono/zod-openapi";
import type { Context } from "hono";
import { z } from "zod";
import type { AppEnv } from "../../app-env";
import { authorizeUserAccess } from "../../auth/callers";
import { ApiError } from "../../errors";
import { contactFor } from "../../notifications/contacts";
import { notificationTargets } from "../../push/targets";
import { validateAccessToken } from "../../sessions/validation";
import { userIdByLegacyId } from "../../users/import";
import { userByEmail, userById } from "../../users/lookups";
import { ok } from "../openapi";
import type * as routes from "./lookups.routes";

const userNotFound = () => new ApiError("not_found", "User not found");

/** A path id that is not a UUID names no user: 404, like an unknown one. */
export function userIdParam(id: string): string {
  if (!z.uuid().safeParse(id).success) throw userNotFound();
  return id;
}

/**
 * The user a service lookup names: a UUID, or — for users imported from a Django service with
 * integer keys — the integer id they had there. Anything else, or nobody, is 404.
 */
export async function lookupUserId(c: Context<AppEnv>, id: string): Promise<string> {
  if (!/^[1-9]\d{0,15}$/.test(id)) return userIdParam(id);
  const found = await userIdByLegacyId(c.get("db"), Number(id));
  if (!found) throw userNotFound();
  return found;
}

export const byEmail: RouteHandler<typeof routes.byEmail, AppEnv> = async (c) => {
  const user = await userByEmail(c.get("db"), c.req.valid("query").email);
  if (!user) throw userNotFound();
  return c.json(ok("User retrieved", user), 200);
};

export const byId: RouteHandler<typeof routes.byId, AppEnv> = async (c) => {
  const id = await lookupUserId(c, c.req.valid("param").id);
  await authorizeUserAccess(c, id, { services: true });
  const user = await userById(c.get("db"), id);
  if (!user) throw userNotFound();
  return c.json(ok("User retrieved", user), 200);
};

export const targets: RouteHandler<typeof routes.targets, AppEnv> = async (c) => {
  const id = await lookupUserId(c, c.req.valid("param").id);
  const found = await notificationTargets(c.get("db"), c.env.KV, id);
  if (!found) throw userNotFound();
  return c.json(ok("Notification targets retrieved", found), 200);
};

export const validate: RouteHandler<typeof routes.validate, AppEnv> = async (c) => {
  const result = await validateAccessToken(
    c.get("db"),
    c.env.KV,
    c.get("config"),
    c.req.valid("json").token,
  );
  return c.json(ok(result.valid ? "Token is valid" : "Token is not valid", result), 200);
};

export const contact: RouteHandler<typeof routes.contact, AppEnv> = async (c) => {
  const id = await lookupUserId(c, c.req.valid("param").id);
  const found = await contactFor(c.get("db"), c.env.KV, id, c.req.valid("query").type);
  if (!found) throw userNotFound();
  return c.json(ok("Contact retrieved", found), 200);
};

export const pushToken: RouteHandler<typeof routes.pushToken, AppEnv> = async (c) => {
  const id = await lookupUserId(c, c.req.valid("param").id);
  const token = (await notificationTargets(c.get("db"), c.env.KV, id))?.push_token;
  if (!token) throw new ApiError("not_found", "No push token for this user");
  return c.json(ok("Push token retrieved", { user_id: id, token, push_token: token }), 200);
};

export const byLegacyId: RouteHandler<typeof routes.byLegacyId, AppEnv> = async (c) => {
  const id = await userIdByLegacyId(c.get("db"), c.req.valid("param").legacy_id);
  const user = id ? await userById(c.get("db"), id) : null;
  if (!user) throw userNotFound();
  return c.json(ok("User retrieved", user), 200);
};
