import { z } from "@hono/zod-openapi";
import { PLATFORMS, PROVIDERS, type PushTokenRow } from "../../db/schema";
import { examples } from "../examples";

/** Which providers can deliver to which platform; the first is the default. */
export const PROVIDERS_BY_PLATFORM = {
  android: ["fcm"],
  ios: ["apns", "fcm"],
  web: ["webpush", "fcm"],
} as const satisfies Record<(typeof PLATFORMS)[number], readonly (typeof PROVIDERS)[number][]>;

const tokenField = z
  .string()
  .trim()
  .min(1)
  .max(4096)
  .openapi({ description: "The device token. Write-only: never returned." });
const deviceIdField = z.string().trim().min(1).max(255);
const deviceNameField = z.string().trim().max(255);

function checkProvider(
  body: { platform?: (typeof PLATFORMS)[number]; provider?: (typeof PROVIDERS)[number] },
  ctx: z.RefinementCtx,
) {
  if (!body.platform || !body.provider) return;
  const allowed: readonly string[] = PROVIDERS_BY_PLATFORM[body.platform];
  if (!allowed.includes(body.provider)) {
    ctx.addIssue({
      code: "custom",
      path: ["provider"],
      message: `"${body.provider}" cannot deliver to ${body.platform}; use ${allowed.join(" or ")}.`,
    });
  }
}

/** Registering a device (POST) or replacing it (PUT). */
export const PushTokenWriteSchema = z
  .object({
    token: tokenField,
    platform: z.enum(PLATFORMS),
    provider: z
      .enum(PROVIDERS)
      .optional()
      .openapi({ description: "Defaults to fcm (android), apns (ios), webpush (web)." }),
    device_id: deviceIdField.nullable().optional(),
    device_name: deviceNameField.nullable().optional(),
  })
  .superRefine(checkProvider)
  .openapi("PushTokenWrite", {
    example: {
      token: "fcm-device-token-123",
      platform: "android",
      device_id: "pixel-9",
      device_name: "Ada's Pixel",
    },
  });

export const PushTokenPatchSchema = z
  .object({
    token: tokenField,
    provider: z.enum(PROVIDERS),
    device_name: deviceNameField.nullable(),
    is_active: z.boolean(),
  })
  .partial()
  .openapi("PushTokenUpdate", { example: { device_name: "Work phone", is_active: false } });

export const PushTokenSchema = z
  .object({
    id: z.uuid(),
    platform: z.enum(PLATFORMS),
    provider: z.enum(PROVIDERS),
    device_id: z.string().nullable(),
    device_name: z.string().nullable(),
    is_active: z.boolean(),
    last_used_at: z.iso.datetime().nullable(),
    created_at: z.iso.datetime(),
    updated_at: z.iso.datetime(),
  })
  .openapi("PushToken", { example: examples.pushToken });

export type PushTokenObject = z.infer<typeof PushTokenSchema>;

/** The device as users see it: everything but the token value. */
export function toPushTokenObject(row: PushTokenRow): PushTokenObject {
  return {
    id: row.id,
    platform: row.platform,
    provider: row.provider,
    device_id: row.deviceId,
    device_name: row.deviceName,
    is_active: row.isActive,
    last_used_at: row.lastUsedAt?.toISOString() ?? null,
    created_at: row.createdAt.toISOString(),
    updated_at: row.updatedAt.toISOString(),
  };
}

export const PushTokenIdParamSchema = z.object({
  id: z.string().openapi({ param: { name: "id", in: "path" }, format: "uuid" }),
});

export const PushTokenListQuerySchema = z.object({
  is_active: z
    .enum(["true", "false"])
    .optional()
    .transform((v) => (v === undefined ? undefined : v === "true")),
});
