import { createRoute, z } from "@hono/zod-openapi";
import { jsonContent } from "../openapi";
import { tags } from "../tags";

const CheckSchema = z.enum(["ok", "error"]);

export const HealthSchema = z
  .object({
    status: z.enum(["ok", "unavailable"]),
    checks: z.object({
      database: CheckSchema,
      kv: CheckSchema,
      queue: CheckSchema,
      rate_limiter: CheckSchema,
    }),
  })
  .openapi("Health", {
    example: {
      status: "ok",
      checks: { database: "ok", kv: "ok", queue: "ok", rate_limiter: "ok" },
    },
  });

function healthRoute(path: string) {
  return createRoute({
    method: "get",
    path,
    tags: tags("Health"),
    summary: "Service health: D1, KV, the queue binding and the Durable Object",
    responses: {
      200: jsonContent(
        z.object({ success: z.literal(true), message: z.string(), data: HealthSchema }),
        "Every dependency answered",
      ),
      503: jsonContent(
        z.union([
          z.object({
            success: z.literal(false),
            message: z.string(),
            error: z.literal("service_unavailable"),
            data: HealthSchema,
          }),
          z.object({
            success: z.literal(false),
            message: z.string(),
            error: z.literal("misconfigured"),
            data: z.object({ status: z.literal("misconfigured"), checks: z.null() }),
          }),
        ]),
        "At least one dependency failed (`service_unavailable`; `data.checks` says which), or a " +
          "setting or secret is missing or malformed (`misconfigured`; the log names it)",
      ),
    },
  });
}

export const health = healthRoute("/health");
