import type { RouteHandler } from "@hono/zod-openapi";
import { z } from "zod";
import type { AppEnv } from "../../app-env";
import { ApiError } from "../../errors";
import { scope } from "../../middleware/request-context";
import { listDevices, ownDevice, toPushTokenObject } from "../../push/device-object";
import {
  deactivateAllDevices,
  registerDevice,
  removeDevice,
  updateDevice,
} from "../../push/devices";
import { ok } from "../openapi";
import { okList, pageMeta } from "../pagination";
import type * as routes from "./push-tokens.routes";

/** A path id that is not a UUID names no device: 404, like someone else's. */
function deviceIdParam(id: string): string {
  if (!z.uuid().safeParse(id).success) throw new ApiError("not_found", "Push device not found");
  return id;
}

export const list: RouteHandler<typeof routes.list, AppEnv> = async (c) => {
  const { page, limit, is_active } = c.req.valid("query");
  const found = await listDevices(
    c.get("db"),
    c.get("auth").userId,
    { is_active },
    { page, limit },
  );
  return c.json(
    okList("Push devices retrieved", found.devices, pageMeta(found.total, page, limit)),
    200,
  );
};

export const create: RouteHandler<typeof routes.create, AppEnv> = async (c) => {
  const { device, created } = await registerDevice(
    scope(c),
    c.get("auth").userId,
    c.req.valid("json"),
  );
  return created
    ? c.json(ok("Push device registered", device), 201)
    : c.json(ok("Push device updated", device), 200);
};

export const get: RouteHandler<typeof routes.get, AppEnv> = async (c) => {
  const id = deviceIdParam(c.req.valid("param").id);
  const row = await ownDevice(c.get("db"), c.get("auth").userId, id);
  return c.json(ok("Push device retrieved", toPushTokenObject(row)), 200);
};

export const put: RouteHandler<typeof routes.put, AppEnv> = async (c) => {
  const id = deviceIdParam(c.req.valid("param").id);
  const body = c.req.valid("json");
  const device = await updateDevice(scope(c), c.get("auth").userId, id, { replace: true, body });
  return c.json(ok("Push device updated", device), 200);
};

export const patch: RouteHandler<typeof routes.patch, AppEnv> = async (c) => {
  const id = deviceIdParam(c.req.valid("param").id);
  const body = c.req.valid("json");
  const device = await updateDevice(scope(c), c.get("auth").userId, id, { replace: false, body });
  return c.json(ok("Push device updated", device), 200);
};

export const remove: RouteHandler<typeof routes.remove, AppEnv> = async (c) => {
  await removeDevice(scope(c), c.get("auth").userId, deviceIdParam(c.req.valid("param").id));
  return c.json(ok("Push device removed", null), 200);
};

export const deactivateAll: RouteHandler<typeof routes.deactivateAll, AppEnv> = async (c) => {
  const deactivated = await deactivateAllDevices(scope(c), c.get("auth").userId);
  return c.json(ok("Push devices deactivated", { deactivated }), 200);
};
