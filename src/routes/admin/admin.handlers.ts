import type { RouteHandler } from "@hono/zod-openapi";
import type { AppEnv } from "../../app-env";
import { adminActor } from "../../auth/callers";
import { resetFactors } from "../../mfa/factors";
import { scope } from "../../middleware/request-context";
import { searchUsers, updateAccount } from "../../users/account";
import { importUsers as importBatch } from "../../users/import";
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

export const importUsers: RouteHandler<typeof routes.importUsers, AppEnv> = async (c) => {
  const body = c.req.valid("json");
  const results = await importBatch(scope(c), body.users, {
    update: body.update,
    sendVerification: body.send_verification,
    dryRun: body.dry_run,
  });
  const count = (status: string) => results.filter((r) => r.status === status).length;
  const data = {
    dry_run: body.dry_run,
    created: count("created"),
    updated: count("updated"),
    unchanged: count("unchanged"),
    refused: count("refused"),
    results,
  };
  const verb = body.dry_run ? "would be imported" : "imported";
  return c.json(
    ok(`${data.created + data.updated} of ${results.length} user(s) ${verb}`, data),
    200,
  );
};

export const resetMfa: RouteHandler<typeof routes.resetMfa, AppEnv> = async (c) => {
  const id = userIdParam(c.req.valid("param").id);
  const result = await resetFactors(scope(c), adminActor(c), id);
  return c.json(ok("Second factors removed; the user's sessions ended", result), 200);
};
