/**
 * The paths and shapes the sibling clients of the replaced notification-platform service read
 * (its API gateway): bare bodies where they expect bare bodies. Old paths, so deprecated like the
 * other aliases; their canonical counterparts are named in each description.
 */
import { createRoute, z } from "@hono/zod-openapi";
import { requireServiceOrLegacyCaller, requireUserServiceOrLegacyCaller } from "../../auth/callers";
import { examples } from "../examples";
import { envelope, errorResponses, jsonContent } from "../openapi";
import { tags } from "../tags";
import { UserIdParamSchema, UserSchema } from "../users/users.schemas";

const tagged = tags("Compatibility (deprecated)");
const serviceKey = [{ serviceKey: [] as string[] }];
const auth = ["authentication_required", "invalid_token", "forbidden"] as const;

export const GatewayUserSchema = envelope(UserSchema)
  .extend({
    id: z.uuid(),
    email: z.email(),
    name: z.string(),
    preferences: z.object({ email: z.boolean(), push: z.boolean() }),
  })
  .openapi("GatewayUser", {
    description: "The envelope, with the user's id, email, name and switches also at the top.",
    example: {
      success: true,
      message: "User retrieved",
      data: examples.user,
      id: examples.user.id,
      email: examples.user.email,
      name: examples.user.name,
      preferences: examples.user.preferences,
    },
  });

export const gatewayUser = createRoute({
  method: "get",
  path: "/api/users/{id}",
  tags: tagged,
  deprecated: true,
  summary: "One user, for the envelope's readers and the gateway's bare reader alike",
  description:
    "Deprecated: use `GET /api/v1/users/{id}/`. The answer is the usual envelope plus `id`, " +
    "`email`, `name` and `preferences` at the top level, which the notification-platform " +
    "gateway reads. Self, admin, service, or a legacy caller (LEGACY_CALLER_NETWORKS/MTLS).",
  security: [{ bearerAuth: [] as string[] }, ...serviceKey],
  middleware: [requireUserServiceOrLegacyCaller] as const,
  request: { params: UserIdParamSchema },
  responses: {
    200: jsonContent(GatewayUserSchema, "The user"),
    ...errorResponses("not_found", ...auth),
  },
});

export const GatewayPreferencesSchema = z
  .object({
    email_enabled: z.boolean(),
    push_enabled: z.boolean(),
    email: z.email(),
    push_tokens: z.array(z.string()).openapi({ description: "Active device tokens." }),
  })
  .openapi("GatewayPreferences", {
    example: {
      email_enabled: true,
      push_enabled: true,
      email: "ada@example.com",
      push_tokens: ["fcm-device-token-123"],
    },
  });

export const gatewayPreferences = createRoute({
  method: "get",
  path: "/api/users/{id}/preferences",
  tags: tagged,
  deprecated: true,
  summary: "A user's channel switches and device tokens, as a bare body (services, legacy callers)",
  description: "Deprecated: use `GET /api/v1/users/{id}/preferences/` (the envelope).",
  security: serviceKey,
  middleware: [requireServiceOrLegacyCaller] as const,
  request: { params: UserIdParamSchema },
  responses: {
    200: jsonContent(GatewayPreferencesSchema, "Bare body"),
    ...errorResponses("not_found", ...auth),
  },
});

export const GatewayValidationSchema = z
  .object({ id: z.uuid(), email: z.email(), name: z.string() })
  .openapi("GatewayValidation", {
    example: { id: examples.user.id, email: examples.user.email, name: examples.user.name },
  });

export const gatewayValidate = createRoute({
  method: "get",
  path: "/api/users/validate",
  tags: tagged,
  deprecated: true,
  summary: "Validate the bearer's own access token, as a bare body",
  description:
    "Deprecated: services use `POST /api/v1/auth/validate/`. The token to validate is the " +
    "request's `Authorization: Bearer`; a valid one answers the user's id, email and name, " +
    "anything else 401 (revoked sessions and deactivated accounts included).",
  security: [{ bearerAuth: [] as string[] }],
  responses: {
    200: jsonContent(GatewayValidationSchema, "Bare body"),
    ...errorResponses("authentication_required", "invalid_token"),
  },
});
