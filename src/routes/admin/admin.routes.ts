/**
 * Route contracts for administrators: find users, activate/deactivate them, change roles.
 */
import { createRoute, z } from "@hono/zod-openapi";
import { requireAdmin, requireImporter } from "../../auth/callers";
import { ROLES } from "../../db/schema";
import { UPDATABLE_FIELDS } from "../../users/import-fields";
import { examples } from "../examples";
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

/** Users per call: each is one batch of up to ~15 queries, and a call must stay within D1's limit. */
const IMPORT_BATCH = 50;

export const ImportResultSchema = z
  .object({
    index: z.number().int(),
    status: z.enum(["created", "updated", "unchanged", "refused"]),
    id: z.string().nullable(),
    legacy_id: z.number().int().nullable(),
    email: z.string().nullable(),
    source: z.string().optional(),
    reason: z.string().optional(),
    warnings: z.array(z.string()).optional(),
  })
  .openapi("ImportResult", {
    example: {
      index: 0,
      status: "created",
      id: examples.userId,
      legacy_id: 42,
      email: "ada@example.com",
      source: "dump.json:7",
    },
  });

export const importUsers = createRoute({
  method: "post",
  path: "/admin/users/import",
  tags: tagged,
  summary: "Import users from a replaced Django service (admin, or an import service key)",
  description:
    `At most ${IMPORT_BATCH} users per call (each user is one batch of its account, preferences, ` +
    "devices, audit row and `user.imported` event; 50 keeps a call within D1's 1,000 queries per " +
    "invocation). Matched to existing accounts by id, legacy id, then email: re-importing never " +
    "duplicates anyone, and only the fields in `update` change. A row that cannot be imported is " +
    "a `refused` result with its reason, not an error. `dry_run` validates and matches without " +
    "writing. Used by `npm run import:django`.",
  security: [...bearer, { serviceKey: [] as string[] }],
  middleware: [requireImporter] as const,
  request: {
    body: jsonRequest(
      z
        .object({
          users: z.array(z.unknown()).min(1).max(IMPORT_BATCH),
          update: z.array(z.enum(UPDATABLE_FIELDS)).default([]),
          send_verification: z.boolean().default(false),
          dry_run: z.boolean().default(false),
        })
        .openapi("ImportRequest", {
          example: {
            users: [
              {
                legacy_id: 42,
                email: "ada@example.com",
                username: "ada",
                first_name: "Ada",
                last_name: "Lovelace",
                password_hash:
                  "pbkdf2_sha256$720000$40q0UlKnENiOuYAjG9Vv7g$qYTBJg6XztMZbE2ZDZvqJ2ioDnDgs+Rrka7n1mNbd7k=",
                is_active: true,
                role: "user",
                email_verified: true,
                created_at: "2024-03-01T09:00:00Z",
                preferences: { email: true, push: false },
                source: "dump.json:7",
              },
            ],
            update: [],
            dry_run: false,
          },
        }),
    ),
  },
  responses: {
    200: jsonContent(
      envelope(
        z.object({
          dry_run: z.boolean(),
          created: z.number().int(),
          updated: z.number().int(),
          unchanged: z.number().int(),
          refused: z.number().int(),
          results: z.array(ImportResultSchema),
        }),
      ),
      "One result per user, in order",
    ),
    ...errorResponses("validation_failed", ...auth),
  },
});

export const resetMfa = createRoute({
  method: "delete",
  path: "/admin/users/{id}/mfa",
  tags: tagged,
  summary: "Remove all of a user's second factors (admin)",
  description:
    "For a user who lost every factor and recovery code: factors and codes go, every session of " +
    "the user ends, the reset is audited and the user is told (`security.mfa_reset`).",
  security: bearer,
  middleware: [requireAdmin] as const,
  request: { params: UserIdParamSchema },
  responses: {
    200: jsonContent(
      envelope(z.object({ revoked_sessions: z.number().int() })),
      "Factors removed, sessions ended",
    ),
    ...errorResponses("not_found", "mfa_required", ...auth),
  },
});
