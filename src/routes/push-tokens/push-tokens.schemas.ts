import { z } from "@hono/zod-openapi";
import { PLATFORMS, PROVIDERS } from "../../db/schema";
import { PROVIDERS_BY_PLATFORM, providerIssue } from "../../push/device-object";
import { examples } from "../examples";

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
  const issue = providerIssue(body.platform, body.provider);
  if (issue) ctx.addIssue({ code: "custom", path: ["provider"], message: issue });
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
    // The provider must suit the platform (checkProvider), as JSON Schema says it.
    allOf: PLATFORMS.map((platform) => ({
      if: { properties: { platform: { const: platform } }, required: ["platform"] },
      // biome-ignore lint/suspicious/noThenProperty: JSON Schema's `then` keyword, not a thenable.
      then: { properties: { provider: { enum: [...PROVIDERS_BY_PLATFORM[platform]] } } },
    })),
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

export const PushTokenIdParamSchema = z.object({
  id: z.string().openapi({ param: { name: "id", in: "path" }, format: "uuid" }),
});

export const PushTokenListQuerySchema = z.object({
  is_active: z
    .enum(["true", "false"])
    .optional()
    .transform((v) => (v === undefined ? undefined : v === "true")),
});
