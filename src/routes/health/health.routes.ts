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

function healthRoute(path: string, summary: string, description: string) {
  return createRoute({
    method: "get",
    path,
    tags: tags("Health"),
    summary,
    description,
    responses: {
      200: {
        ...jsonContent(
          z.object({ success: z.literal(true), message: z.string(), data: HealthSchema }),
          "Every dependency answered",
        ),
        headers: {
          "X-Health-Checked-At": {
            description: "When the results were taken.",
            schema: { type: "string", format: "date-time" },
          },
        },
      },
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

export const health = healthRoute(
  "/health",
  "Service health from this isolate: liveness and the last dependency probe",
  "What load balancers poll: answered from memory, so it costs about as much as no work " +
    "(`X-Health-Checked-At` says when the results were taken). Results over 5 s old trigger a " +
    "fresh probe after the answer; over 30 s old, the call waits for one. `/health/ready` " +
    "probes now.",
);

export const ready = healthRoute(
  "/health/ready",
  "Deep health check: D1, KV, the queue binding and the Durable Object, probed now",
  "Probes every dependency on every call (a few milliseconds of I/O): for deploy checks and " +
    "on-demand diagnosis rather than frequent polling.",
);
