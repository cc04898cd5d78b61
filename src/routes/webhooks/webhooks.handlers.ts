import type { RouteHandler } from "@hono/zod-openapi";
import type { Context } from "hono";
import type { AppEnv } from "../../app-env";
import { scope } from "../../middleware/request-context";
import * as endpoints from "../../webhooks/endpoints";
import { ok } from "../openapi";
import { okList, pageMeta } from "../pagination";
import type * as routes from "./webhooks.routes";

function adminId(c: Context<AppEnv>): string | null {
  const caller = c.get("caller");
  return caller.kind === "user" ? caller.userId : null;
}

export const create: RouteHandler<typeof routes.create, AppEnv> = async (c) => {
  const endpoint = await endpoints.createEndpoint(scope(c), adminId(c), c.req.valid("json"));
  return c.json(ok("Webhook endpoint created; its secret is shown only now", endpoint), 201);
};

export const list: RouteHandler<typeof routes.list, AppEnv> = async (c) =>
  c.json(ok("Webhook endpoints", await endpoints.listEndpoints(c.get("db"))), 200);

export const read: RouteHandler<typeof routes.read, AppEnv> = async (c) =>
  c.json(
    ok("Webhook endpoint", await endpoints.getEndpoint(c.get("db"), c.req.valid("param").id)),
    200,
  );

export const update: RouteHandler<typeof routes.update, AppEnv> = async (c) => {
  const { id } = c.req.valid("param");
  const endpoint = await endpoints.updateEndpoint(scope(c), adminId(c), id, c.req.valid("json"));
  return c.json(ok("Webhook endpoint updated", endpoint), 200);
};

export const remove: RouteHandler<typeof routes.remove, AppEnv> = async (c) => {
  await endpoints.deleteEndpoint(scope(c), adminId(c), c.req.valid("param").id);
  return c.json(ok("Webhook endpoint deleted", null), 200);
};

export const deliveries: RouteHandler<typeof routes.deliveries, AppEnv> = async (c) => {
  const { page, limit, status } = c.req.valid("query");
  const found = await endpoints.listDeliveries(
    c.get("db"),
    c.req.valid("param").id,
    { status },
    { page, limit },
  );
  return c.json(okList("Deliveries", found.rows, pageMeta(found.total, page, limit)), 200);
};

export const redeliver: RouteHandler<typeof routes.redeliver, AppEnv> = async (c) => {
  const { id, delivery_id } = c.req.valid("param");
  const delivery = await endpoints.redeliver(
    scope(c),
    c.env.WEBHOOK_DELIVERIES,
    adminId(c),
    id,
    delivery_id,
  );
  return c.json(ok("Delivery queued again", delivery), 202);
};
