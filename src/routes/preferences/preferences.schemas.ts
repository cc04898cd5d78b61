/**
 * Notification preferences as clients send them (DESIGN §4). Used by registration and the profile
 * today, and by the preferences resource.
 */
import { z } from "@hono/zod-openapi";
import type { preferences } from "../../db/schema";

const HH_MM = /^([01]\d|2[0-3]):[0-5]\d$/;

const timeOfDay = z
  .string()
  .regex(HH_MM, { error: "Enter a valid time in HH:MM format." })
  .nullable();

/** An IANA time zone, stored in its canonical spelling. */
export const timeZone = z
  .string()
  .max(64)
  .transform((value, ctx) => {
    try {
      return new Intl.DateTimeFormat("en-US", { timeZone: value }).resolvedOptions().timeZone;
    } catch {
      ctx.addIssue({ code: "custom", message: `"${value}" is not a valid IANA time zone.` });
      return z.NEVER;
    }
  });

export const PreferencesInputSchema = z
  .object({
    email: z.boolean(),
    push: z.boolean(),
    email_marketing: z.boolean(),
    email_transactional: z.boolean(),
    email_security: z.boolean(),
    email_system: z.boolean(),
    push_marketing: z.boolean(),
    push_transactional: z.boolean(),
    push_security: z.boolean(),
    push_system: z.boolean(),
    quiet_hours_start: timeOfDay,
    quiet_hours_end: timeOfDay,
    timezone: timeZone,
    frequency_limit: z.number().int().min(0).max(1000),
  })
  .partial()
  .openapi("PreferencesInput");

export type PreferencesInput = z.infer<typeof PreferencesInputSchema>;

type PreferenceColumns = Partial<Omit<typeof preferences.$inferInsert, "userId" | "updatedAt">>;

/** The columns a (partial) preferences input sets. */
export function preferenceColumns(input: PreferencesInput): PreferenceColumns {
  const columns: PreferenceColumns = {};
  if (input.email !== undefined) columns.email = input.email;
  if (input.push !== undefined) columns.push = input.push;
  if (input.email_marketing !== undefined) columns.emailMarketing = input.email_marketing;
  if (input.email_transactional !== undefined)
    columns.emailTransactional = input.email_transactional;
  if (input.email_security !== undefined) columns.emailSecurity = input.email_security;
  if (input.email_system !== undefined) columns.emailSystem = input.email_system;
  if (input.push_marketing !== undefined) columns.pushMarketing = input.push_marketing;
  if (input.push_transactional !== undefined) columns.pushTransactional = input.push_transactional;
  if (input.push_security !== undefined) columns.pushSecurity = input.push_security;
  if (input.push_system !== undefined) columns.pushSystem = input.push_system;
  if (input.quiet_hours_start !== undefined) columns.quietHoursStart = input.quiet_hours_start;
  if (input.quiet_hours_end !== undefined) columns.quietHoursEnd = input.quiet_hours_end;
  if (input.timezone !== undefined) columns.timezone = input.timezone;
  if (input.frequency_limit !== undefined) columns.frequencyLimit = input.frequency_limit;
  return columns;
}
