/**
 * Route contracts for lookups by other services (and by users for themselves): the same
 * implementation as the Workers RPC entrypoint (src/users/lookups.ts, src/push/targets.ts).
 */
import { createRoute, z } from "@hono/zod-openapi";
import {
  requireService,
  requireServiceOrLegacyCaller,
  requireUserOrService,
} from "../../auth/callers";
import { PLATFORMS, PROVIDERS } from "../../db/schema";
import { examples } from "../examples";
import { envelope, errorResponses, jsonContent, jsonRequest } from "../openapi";
import { PreferencesSchema } from "../preferences/preferences.schemas";
import { tags } from "../tags";
import { emailField, UserIdParamSchema, UserSchema } from "../users/users.schemas";

/** `X-Service-Key` (or the key as `Authorization: Bearer`). */
const serviceKey = [{ serviceKey: [] as string[] }];
const auth = ["authentication_required", "invalid_token", "forbidden"] as const;

export const byEmail = createRoute({
  method: "get",
  path: "/users/by-email",
  tags: tags("Service lookups"),
  summary: "One user by email (services)",
  security: serviceKey,
  middleware: [requireService] as const,
  request: { query: z.object({ email: emailField }) },
  responses: {
    200: jsonContent(envelope(UserSchema), "The user"),
    ...errorResponses("validation_failed", "not_found", ...auth),
  },
});

export const byId = createRoute({
  method: "get",
  path: "/users/{id}",
  tags: tags("Service lookups"),
  summary: "One user (self, admin or service)",
  security: [{ bearerAuth: [] as string[] }, ...serviceKey],
  middleware: [requireUserOrService] as const,
  request: { params: UserIdParamSchema },
  responses: {
    200: jsonContent(envelope(UserSchema), "The user"),
    ...errorResponses("not_found", ...auth),
  },
});

export const NotificationTargetsSchema = z
  .object({
    user_id: z.uuid(),
    email: z.email(),
    name: z.string(),
    is_active: z.boolean(),
    email_verified: z.boolean(),
    preferences: PreferencesSchema,
    email_enabled: z.boolean().openapi({
      description: "The email switch (false for a deactivated account), as older services read it.",
    }),
    push_enabled: z.boolean().openapi({
      description: "The push switch (false for a deactivated account), as older services read it.",
    }),
    push_devices: z.array(
      z.object({
        id: z.uuid(),
        token: z.string(),
        platform: z.enum(PLATFORMS),
        provider: z.enum(PROVIDERS),
        device_id: z.string().nullable(),
        device_name: z.string().nullable(),
      }),
    ),
    push_token: z
      .string()
      .nullable()
      .openapi({
        description:
          "The primary device token: the most recently updated active device's, else the " +
          "account's own `push_token`.",
      }),
  })
  .openapi("NotificationTargets", {
    example: {
      user_id: examples.userId,
      email: "ada@example.com",
      name: "Ada Lovelace",
      is_active: true,
      email_verified: true,
      preferences: examples.preferences,
      email_enabled: true,
      push_enabled: true,
      push_devices: [
        {
          id: examples.pushToken.id,
          token: "fcm-device-token-123",
          platform: "android",
          provider: "fcm",
          device_id: "pixel-9",
          device_name: "Ada's Pixel",
        },
      ],
      push_token: "fcm-device-token-123",
    },
  });

export const targets = createRoute({
  method: "get",
  path: "/users/{id}/preferences",
  tags: tags("Service lookups"),
  summary: "Preferences and active push devices, for delivery decisions (services)",
  description:
    "Device tokens are included: this is for the services that deliver notifications. Also open " +
    "to the legacy callers an operator lists (LEGACY_CALLER_NETWORKS, LEGACY_CALLER_MTLS).",
  security: serviceKey,
  middleware: [requireServiceOrLegacyCaller] as const,
  request: { params: UserIdParamSchema },
  responses: {
    200: jsonContent(envelope(NotificationTargetsSchema), "Delivery targets"),
    ...errorResponses("not_found", ...auth),
  },
});

export const TokenValidationSchema = z
  .union([
    z.object({
      valid: z.literal(true),
      user_id: z.uuid(),
      sid: z.uuid(),
      email: z.email(),
      role: z.enum(["user", "admin"]),
      expires_at: z.iso.datetime(),
      aal: z
        .enum(["aal1", "aal2"])
        .openapi({ description: "`aal2`: signed in with a second factor" }),
      amr: z
        .array(z.string())
        .openapi({ description: "How: `pwd`, `otp`, `recovery_code`, `webauthn`" }),
      auth_time: z.iso
        .datetime()
        .openapi({ description: "When the user last proved who they are" }),
    }),
    z.object({
      valid: z.literal(false),
      reason: z.enum(["invalid", "expired", "revoked", "inactive"]),
    }),
  ])
  .openapi("TokenValidation", {
    example: {
      valid: true,
      user_id: examples.userId,
      sid: examples.session.id,
      email: "ada@example.com",
      role: "user",
      expires_at: "2026-11-21T09:45:00.000Z",
      aal: "aal2",
      amr: ["pwd", "otp"],
      auth_time: "2026-11-21T09:30:00.000Z",
    },
  });

export const validate = createRoute({
  method: "post",
  path: "/auth/validate",
  tags: tags("Service lookups"),
  summary: "Validate an access token (services)",
  description:
    "Signature, claims and expiry, then revocation: a token of a revoked session or a deactivated " +
    "account is invalid. Always 200; `valid` says the outcome.",
  security: serviceKey,
  middleware: [requireService] as const,
  request: {
    body: jsonRequest(
      z
        .object({ token: z.string().min(1).max(8192) })
        .openapi({ example: { token: examples.tokenPair.access_token } }),
    ),
  },
  responses: {
    200: jsonContent(envelope(TokenValidationSchema), "The validation result"),
    ...errorResponses("validation_failed", ...auth),
  },
});

export const ContactSchema = z
  .object({
    user_id: z.uuid(),
    contact: z.string().nullable().openapi({
      description: "The email address, or the primary device token (null without a device).",
    }),
    notification_type: z.enum(["email", "push"]),
    preferences_enabled: z.boolean(),
  })
  .openapi("Contact", {
    example: {
      user_id: examples.userId,
      contact: "ada@example.com",
      notification_type: "email",
      preferences_enabled: true,
    },
  });

export const contact = createRoute({
  method: "get",
  path: "/users/{id}/contact",
  tags: tags("Service lookups"),
  summary: "How to reach a user on one channel (services, legacy callers)",
  description:
    "The notification-platform gateway's lookup: the address or device token for `type`, and " +
    "whether the user wants that channel.",
  security: serviceKey,
  middleware: [requireServiceOrLegacyCaller] as const,
  request: {
    params: UserIdParamSchema,
    query: z.object({ type: z.enum(["email", "push"]).default("email") }),
  },
  responses: {
    200: jsonContent(envelope(ContactSchema), "The contact"),
    ...errorResponses("validation_failed", "not_found", ...auth),
  },
});

export const PushTokenLookupSchema = z
  .object({
    user_id: z.uuid(),
    token: z.string(),
    push_token: z.string().openapi({ description: "The same token, under its older name." }),
  })
  .openapi("PrimaryPushToken", {
    example: {
      user_id: examples.userId,
      token: "fcm-device-token-123",
      push_token: "fcm-device-token-123",
    },
  });

export const pushToken = createRoute({
  method: "get",
  path: "/users/{id}/push-token",
  tags: tags("Service lookups"),
  summary: "A user's primary device token (services, legacy callers)",
  description:
    "For push services that know one token per user: the most recently updated active device's " +
    "token, else the account's `push_token`; 404 when there is none.",
  security: serviceKey,
  middleware: [requireServiceOrLegacyCaller] as const,
  request: { params: UserIdParamSchema },
  responses: {
    200: jsonContent(envelope(PushTokenLookupSchema), "The token"),
    ...errorResponses("not_found", ...auth),
  },
});

export const byLegacyId = createRoute({
  method: "get",
  path: "/users/by-legacy-id/{legacy_id}",
  tags: tags("Service lookups"),
  summary: "One user by the integer id they had in a replaced Django service (services)",
  description:
    "For users imported with an integer primary key (`legacy_id`). The other service lookups " +
    "(`/users/{id}/`, its preferences, contact and push token) accept that integer in place of " +
    "the UUID too.",
  security: serviceKey,
  middleware: [requireService] as const,
  request: {
    params: z.object({
      legacy_id: z.coerce
        .number()
        .int()
        .min(1)
        .max(Number.MAX_SAFE_INTEGER)
        .openapi({ param: { name: "legacy_id", in: "path" }, example: 42 }),
    }),
  },
  responses: {
    200: jsonContent(envelope(UserSchema), "The user"),
    ...errorResponses("validation_failed", "not_found", ...auth),
  },
});
