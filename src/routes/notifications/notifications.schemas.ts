import { z } from "@hono/zod-openapi";
import { CHANNELS, DELIVERY_STATUSES } from "../../db/schema";
import { examples } from "../examples";

/** Stored with every status row: bounded so one report cannot bloat the log. */
const METADATA_MAX_LENGTH = 4096;

export const StatusReportSchema = z
  .object({
    notification_id: z.string().trim().min(1).max(255),
    user_id: z.uuid().nullable().optional(),
    status: z.enum(DELIVERY_STATUSES),
    error: z.string().max(2000).nullable().optional(),
    timestamp: z.iso
      .datetime({ offset: true })
      .optional()
      .openapi({ description: "When it happened; defaults to when it was reported." }),
    metadata: z
      .record(z.string(), z.unknown())
      .refine((value) => JSON.stringify(value).length <= METADATA_MAX_LENGTH, {
        error: `Ensure this field has no more than ${METADATA_MAX_LENGTH} characters as JSON.`,
      })
      .optional()
      .openapi({ description: `Free-form; at most ${METADATA_MAX_LENGTH} characters as JSON.` }),
  })
  .openapi("StatusReport", {
    example: {
      notification_id: "welcome-6f1c2b9e",
      user_id: examples.userId,
      status: "delivered",
      metadata: { provider: "ses" },
    },
  });

export const StatusEntrySchema = z
  .object({
    id: z.uuid(),
    notification_id: z.string(),
    user_id: z.uuid().nullable(),
    channel: z.enum(CHANNELS),
    status: z.enum(DELIVERY_STATUSES),
    error: z.string().nullable(),
    metadata: z.record(z.string(), z.unknown()).nullable(),
    created_at: z.iso.datetime(),
    reported_by: z.string().nullable(),
  })
  .openapi("StatusEntry", { example: examples.statusEntry });
