/**
 * Notification preferences (DESIGN §4): what clients send, what the API returns, the defaults.
 */
import { z } from "@hono/zod-openapi";
import type { PreferencesRow, preferences } from "../../db/schema";
import { examples } from "../examples";

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
  .openapi("PreferencesInput", {
    example: {
      push: false,
      quiet_hours_start: "22:00",
      quiet_hours_end: "07:00",
      timezone: "Europe/Paris",
    },
  });

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

export const PreferencesSchema = z
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
    quiet_hours_start: z.string().nullable(),
    quiet_hours_end: z.string().nullable(),
    timezone: z.string(),
    frequency_limit: z.number().int(),
    updated_at: z.iso.datetime(),
  })
  .openapi("Preferences", { example: examples.preferences });

export type Preferences = z.infer<typeof PreferencesSchema>;

export function toPreferencesObject(row: PreferencesRow): Preferences {
  return {
    email: row.email,
    push: row.push,
    email_marketing: row.emailMarketing,
    email_transactional: row.emailTransactional,
    email_security: row.emailSecurity,
    email_system: row.emailSystem,
    push_marketing: row.pushMarketing,
    push_transactional: row.pushTransactional,
    push_security: row.pushSecurity,
    push_system: row.pushSystem,
    quiet_hours_start: row.quietHoursStart,
    quiet_hours_end: row.quietHoursEnd,
    timezone: row.timezone,
    frequency_limit: row.frequencyLimit,
    updated_at: row.updatedAt.toISOString(),
  };
}

/** The defaults of DESIGN §4, which a PUT falls back to for fields it does not send. */
export const PREFERENCE_DEFAULTS = {
  email: true,
  push: true,
  email_marketing: false,
  email_transactional: true,
  email_security: true,
  email_system: true,
  push_marketing: false,
  push_transactional: true,
  push_security: true,
  push_system: true,
  quiet_hours_start: null,
  quiet_hours_end: null,
  timezone: "UTC",
  frequency_limit: 50,
} as const satisfies Required<PreferencesInput>;

/** Quiet hours are both set or both unset; the message names the missing one. */
export function quietHoursIssue(start: string | null, end: string | null) {
  if ((start === null) === (end === null)) return null;
  return {
    field: start === null ? "quiet_hours_start" : "quiet_hours_end",
    message: "Quiet hours need both a start and an end.",
  };
}
