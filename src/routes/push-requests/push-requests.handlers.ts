import type { RouteHandler } from "@hono/zod-openapi";
import type { Context } from "hono";
import type { AppEnv } from "../../app-env";
import { ApiError } from "../../errors";
import { acceptPushRequests } from "../../push/ingress";
import { ok } from "../openapi";
import type * as routes from "./push-requests.routes";

function caller(c: Context<AppEnv>): string {
  const who = c.get("caller");
  return who.kind === "service" ? who.name : who.userId;
}

export const ingest: RouteHandler<typeof routes.ingest, AppEnv> = async (c) => {
  const body = c.req.valid("json");
  const bodies = Array.isArray(body) ? body : [body];
  const results = await acceptPushRequests(c.env, c.get("db"), bodies, caller(c), new Date());
  const count = (status: string) => results.filter((r) => r.status === status).length;
  const accepted = count("accepted");
  return c.json(
    ok(`${accepted} of ${results.length} push request(s) queued`, {
      accepted,
      duplicates: count("duplicate"),
      refused: count("refused"),
      results,
    }),
    202,
  );
};

export const testNotification: RouteHandler<typeof routes.testNotification, AppEnv> = async (c) => {
  const body = c.req.valid("json");
  const payload = {
    notification_type: "push",
    user_id: body.user_id,
    template_code: body.template_code ?? "WELCOME_TEST",
    variables: body.variables ?? {},
    request_id: crypto.randomUUID(),
    priority: body.priority ?? 1,
    metadata: { source: "test-endpoint", ...body.metadata },
  };
  const [result] = await acceptPushRequests(c.env, c.get("db"), [payload], caller(c), new Date());
  if (result?.status === "refused") throw new ApiError("validation_failed", result.reason);
  return c.json(
    ok("Test notification queued", { message: "Test push notification queued", payload }),
    200,
  );
};
