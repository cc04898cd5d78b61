import type { RouteHandler } from "@hono/zod-openapi";
import type { AppEnv } from "../../app-env";
import { getDb } from "../../db/client";
import { ApiError } from "../../errors";
import { scope } from "../../middleware/request-context";
import { readPreferences } from "../../preferences/cache";
import { updatePreferences } from "../../preferences/update";
import { ok } from "../openapi";
import type * as routes from "./preferences.routes";

export const get: RouteHandler<typeof routes.get, AppEnv> = async (c) => {
  // A miss fills the shared cache, which the push pipeline reads too: from the primary, never from
  // a replica that may not have the latest change yet.
  const { userId } = c.get("auth");
  const value = await readPreferences(c.env.KV, getDb(c.env), userId, c.get("prefetched"));
  if (!value) throw new ApiError("invalid_token", "User not found or inactive");
  return c.json(ok("Preferences retrieved", value), 200);
};

export const put: RouteHandler<typeof routes.put, AppEnv> = async (c) => {
  const value = await updatePreferences(scope(c), c.get("auth").userId, c.req.valid("json"), true);
  return c.json(ok("Preferences updated", value), 200);
};

export const patch: RouteHandler<typeof routes.patch, AppEnv> = async (c) => {
  const value = await updatePreferences(scope(c), c.get("auth").userId, c.req.valid("json"), false);
  return c.json(ok("Preferences updated", value), 200);
};
