/**
 * Route contracts for administrators: find users, activate/deactivate them, change roles.
 */
import { createRoute, z } from "@hono/zod-openapi";
import { requireAdmin } from "../../auth/callers";
import { ROLES } from "../../db/schema";
import { envelope, errorResponses, jsonContent, jsonRequest } from "../openapi";
import { listEnvelope, PaginationQuerySchema } from "../pagination";
import { tags } from "../tags";
import { UserIdParamSchema, UserSchema } from "../users/users.schemas";

const tagged = tags("Admin");
const bearer = [{ bearerAuth: [] as string[] }];
const auth = ["authentication_required", "invalid_token", "forbidden"] as const;

export const list = createRoute({
  method: "get",
  path: "/users",
  tags: tagged,
  summary: "Find users (admin)",
  description: "`q` matches email, username or name (case-insensitive); newest first.",
  security: bearer,
  middleware: [requireAdmin] as const,
  request: {
    query: PaginationQuerySchema.extend({
      q: z.string().trim().max(254).optional(),
      is_active: z
        .enum(["true", "false"])
        .optional()
        .transform((v) => (v === undefined ? undefined : v === "true")),
    }),
  },
  responses: {
    200: jsonContent(listEnvelope(UserSchema), "Users"),
    ...errorResponses("validation_failed", ...auth),
  },
});

export const update = createRoute({
  method: "patch",
  path: "/users/{id}",
  tags: tagged,
  summary: "Activate, deactivate or change the role of a user (admin)",
  description:
    "Deactivation revokes every session and emits `user.deactivated`. Admins cannot change their " +
    "own role or status (so the last admin cannot lock everyone out by accident).",
  security: bearer,
  middleware: [requireAdmin] as const,
  request: {
    params: UserIdParamSchema,
    body: jsonRequest(
      z
        .object({ is_active: z.boolean(), role: z.enum(ROLES) })
        .partial()
        .openapi("AdminUserUpdate", { example: { is_active: false } }),
    ),
  },
  responses: {
    200: jsonContent(envelope(UserSchema), "The updated user"),
    ...errorResponses("validation_failed", "not_found", ...auth),
  },
});
