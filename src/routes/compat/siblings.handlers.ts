import type { RouteHandler } from "@hono/zod-openapi";
import type { AppEnv } from "../../app-env";
import { authorizeUserAccess } from "../../auth/callers";
import { bearerToken } from "../../auth/middleware";
import { ApiError } from "../../errors";
import { notificationTargets } from "../../push/targets";
import { validateAccessToken } from "../../sessions/validation";
import { userById } from "../../users/lookups";
import { lookupUserId } from "../lookups/lookups.handlers";
import type * as routes from "./siblings.routes";

const userNotFound = () => new ApiError("not_found", "User not found");

export const gatewayUser: RouteHandler<typeof routes.gatewayUser, AppEnv> = async (c) => {
  const id = await lookupUserId(c, c.req.valid("param").id);
  await authorizeUserAccess(c, id, { services: true });
  const user = await userById(c.get("db"), id);
  if (!user) throw userNotFound();
  const { email, name, preferences } = user;
  return c.json(
    { success: true as const, message: "User retrieved", data: user, id, email, name, preferences },
    200,
  );
};

export const gatewayPreferences: RouteHandler<typeof routes.gatewayPreferences, AppEnv> = async (
  c,
) => {
  const id = await lookupUserId(c, c.req.valid("param").id);
  const targets = await notificationTargets(c.get("db"), c.env.KV, id);
  if (!targets) throw userNotFound();
  return c.json(
    {
      email_enabled: targets.email_enabled,
      push_enabled: targets.push_enabled,
      email: targets.email,
      push_tokens: targets.push_devices.map((d) => d.token),
    },
    200,
  );
};

export const gatewayValidate: RouteHandler<typeof routes.gatewayValidate, AppEnv> = async (c) => {
  const token = bearerToken(c.req.header("Authorization"));
  if (token === null) throw new ApiError("authentication_required", "A bearer token is required");
  const result = await validateAccessToken(c.get("db"), c.env.KV, c.get("config"), token);
  const user = result.valid ? await userById(c.get("db"), result.user_id) : null;
  if (!user) throw new ApiError("invalid_token", "Access token is not valid");
  return c.json({ id: user.id, email: user.email, name: user.name }, 200);
};
