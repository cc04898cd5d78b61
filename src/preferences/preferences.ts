/**
 * Notification preferences (DESIGN §4): what clients send, what the API returns, the defaults —
 * all derived from the drizzle table (src/db/schema.ts), whose keys are the API's field names, so
 * a field is added in one place. Only the rules a column cannot express are written here.
 */

import { getTableColumns } from "drizzle-orm";
import { createInsertSchema, createSelectSchema } from "drizzle-zod";
import { z } from "zod";
import { type PreferencesRow, preferences } from "../db/schema";

const HH_MM = /^([01]\d|2[0-3]):[0-5]\d$/;

const timeOfDay = z
  .string()
  .regex(HH_MM, { error: "Enter a valid time in HH:MM format." })
  .nullable();

/** An IANA time zone, stored in its canonical spelling. */
/** The IANA zones the runtime knows, for the document (the check below is the runtime's own). */
const IANA_ZONES = [...new Set(["UTC", ...Intl.supportedValuesOf("timeZone")])].sort();

const timeZone = z
  .string()
  .max(64)
  .openapi({ enum: IANA_ZONES, example: "Europe/London" })
  .transform((value, ctx) => {
    try {
      return new Intl.DateTimeFormat("en-US", { timeZone: value }).resolvedOptions().timeZone;
    } catch {
      ctx.addIssue({ code: "custom", message: `"${value}" is not a valid IANA time zone.` });
      return z.NEVER;
    }
  });

/** The columns that are not preference fields. */
const NOT_FIELDS = { user_id: true, updated_at: true } as const;

/** What clients send (PUT, PATCH, registration): some or all of the fields. */
export const PreferencesInputSchema = createInsertSchema(preferences, {
  quiet_hours_start: timeOfDay,
  quiet_hours_end: timeOfDay,
  timezone: timeZone,
  frequency_limit: z.number().int().min(0).max(1000),
})
  .omit(NOT_FIELDS)
  .partial();

export type PreferencesInput = z.infer<typeof PreferencesInputSchema>;

/** What the API returns: every field, and when they last changed. */
export const PreferencesSchema = createSelectSchema(preferences)
  .omit({ user_id: true })
  .extend({ updated_at: z.iso.datetime() });

export type Preferences = z.infer<typeof PreferencesSchema>;

export type PreferenceField = keyof PreferencesInput;
type PreferenceValues = Required<PreferencesInput>;

/** The defaults of DESIGN §4 (the table's column defaults), which a PUT falls back to. */
export const PREFERENCE_DEFAULTS = Object.fromEntries(
  Object.entries(getTableColumns(preferences))
    .filter(([key]) => !(key in NOT_FIELDS))
    .map(([key, column]) => [key, column.default ?? null]),
) as PreferenceValues;

export const PREFERENCE_FIELDS = Object.keys(PREFERENCE_DEFAULTS) as PreferenceField[];

export function toPreferencesObject(row: PreferencesRow): Preferences {
  const { user_id: _user, updated_at, ...fields } = row;
  return { ...fields, updated_at: updated_at.toISOString() };
}

/** Quiet hours are both set or both unset; the message names the missing one. */
export function quietHoursIssue(start: string | null | undefined, end: string | null | undefined) {
  if ((start == null) === (end == null)) return null;
  return {
    field: start == null ? "quiet_hours_start" : "quiet_hours_end",
    message: "Quiet hours need both a start and an end.",
  } as const;
}
