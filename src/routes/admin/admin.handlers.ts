import type { RouteHandler } from "@hono/zod-openapi";
import type { AppEnv } from "../../app-env";
import { scope } from "../../middleware/request-context";
import { searchUsers, updateAccount } from "../../users/account";
import { userIdParam } from "../lookups/lookups.handlers";
import { ok } from "../openapi";
import { okList, pageMeta } from "../pagination";
import type * as routes from "./admin.routes";

export const list: RouteHandler<typeof routes.list, AppEnv> = async (c) => {
  const { page, limit, q, is_active } = c.req.valid("query");
  const found = await searchUsers(c.get("db"), { q, is_active }, { page, limit });
  return c.json(okList("Users retrieved", found.rows, pageMeta(found.total, page, limit)), 200);
};

export const update: RouteHandler<typeof routes.update, AppEnv> = async (c) => {
  const id = userIdParam(c.req.valid("param").id);
  const caller = c.get("caller");
  const adminId = caller.kind === "user" ? caller.userId : null;
  const result = await updateAccount(scope(c), adminId, id, c.req.valid("json"));
  return c.json(ok(result.changed ? "User updated" : "User unchanged", result.user), 200);
};
