import { z } from "@hono/zod-openapi";
import { examples } from "../examples";

export const SessionSchema = z
  .object({
    id: z.uuid(),
    created_at: z.iso.datetime(),
    last_used_at: z.iso.datetime(),
    expires_at: z.iso.datetime(),
    ip: z.string().nullable(),
    user_agent: z.string().nullable(),
    current: z.boolean().openapi({ description: "The session of the token making this request." }),
  })
  .openapi("Session", { example: examples.session });

export const SessionIdParamSchema = z.object({
  id: z.string().openapi({ param: { name: "id", in: "path" }, format: "uuid" }),
});
