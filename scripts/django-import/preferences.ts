/**
 * Notification preferences: which of a Django model's fields are ours (by name, across the
 * spellings the replaced services use), and a compact form to hold them between the two passes —
 * the ten switches packed into one small integer, the few other fields aside.
 */
import { bool, text } from "./values.ts";

/** Our boolean preference fields (GET /users/preferences/), in packing order. */
const SWITCHES = [
  "email",
  "push",
  "email_marketing",
  "email_transactional",
  "email_security",
  "email_system",
  "push_marketing",
  "push_transactional",
  "push_security",
  "push_system",
] as const;
/** Our other preference fields, carried as they are. */
const OTHERS = ["quiet_hours_start", "quiet_hours_end", "timezone", "frequency_limit"] as const;

const CHANNELS: Record<string, "email" | "push"> = {
  email: "email",
  emails: "email",
  mail: "email",
  push: "push",
  pushes: "push",
};
const CATEGORIES = new Set(["marketing", "transactional", "security", "system"]);
const OTHER_ALIASES: Record<string, (typeof OTHERS)[number]> = {
  quiet_hours_start: "quiet_hours_start",
  quiet_hours_end: "quiet_hours_end",
  timezone: "timezone",
  time_zone: "timezone",
  frequency_limit: "frequency_limit",
};
const PREFIXES = /^(?:receive|allow|enable|enabled|notify|wants|is|send)_/;
const SUFFIXES = /_(?:enabled|notifications?|notify|opt_in|allowed|alerts?)$/;

/**
 * Our preference field for a Django field name, or null: `email`, `push`, `email_notifications`,
 * `push_enabled`, `receive_emails` → the channel switches; `email_marketing`, `marketing_emails`,
 * `push_security_alerts`, `security_push_notifications` → the categories; `timezone`/`time_zone`,
 * `quiet_hours_start`/`_end`, `frequency_limit` as they are.
 */
export function preferenceField(name: string): string | null {
  const lower = name.toLowerCase();
  if (OTHER_ALIASES[lower]) return OTHER_ALIASES[lower];
  const bare = lower.replace(PREFIXES, "").replace(SUFFIXES, "").replace(SUFFIXES, "");
  const channel = CHANNELS[bare];
  if (channel) return channel;
  const parts = bare.split("_");
  if (parts.length !== 2) return null;
  const [first = "", second = ""] = parts;
  if (CHANNELS[first] && CATEGORIES.has(second)) return `${CHANNELS[first]}_${second}`;
  if (CHANNELS[second] && CATEGORIES.has(first)) return `${CHANNELS[second]}_${first}`;
  return null;
}

export function isSwitch(field: string): boolean {
  return (SWITCHES as readonly string[]).includes(field);
}

/**
 * Preferences between the passes: the switches packed into one small integer (2 bits each: set,
 * value) — a plain number in the maps, no object — and the few other fields, when a row has them,
 * beside it.
 */
export type PackedPreferences = number | { bits: number; others: Record<string, string | number> };

const bitsOf = (packed: PackedPreferences) => (typeof packed === "number" ? packed : packed.bits);
const othersOf = (packed: PackedPreferences) =>
  typeof packed === "number" ? undefined : packed.others;
const packed = (bits: number, others: Record<string, string | number> | undefined) =>
  others ? { bits, others } : bits;

/** Packs the values of a row's preference fields; `columns` maps our field → their column. */
export function packPreferences(
  fields: Record<string, unknown>,
  columns: Record<string, string>,
): PackedPreferences | null {
  let bits = 0;
  let others: Record<string, string | number> | undefined;
  for (const [ours, theirs] of Object.entries(columns)) {
    const value = fields[theirs];
    const index = (SWITCHES as readonly string[]).indexOf(ours);
    if (index >= 0) {
      const on = bool(value);
      if (on !== null) bits |= (1 << (2 * index)) | (on ? 1 << (2 * index + 1) : 0);
      continue;
    }
    const other = otherValue(ours, value);
    if (other !== null) others = { ...others, [ours]: other };
  }
  if (bits === 0 && others === undefined) return null;
  return packed(bits, others);
}

function otherValue(field: string, value: unknown): string | number | null {
  const raw = text(value);
  if (raw === null) return null;
  if (field === "frequency_limit") return Number.isInteger(Number(raw)) ? Number(raw) : null;
  // "22:00:00" (a TimeField) → "22:00"; copied, so no slice keeps the parser's chunk alive.
  const kept = field.startsWith("quiet_hours_") ? raw.slice(0, 5) : raw;
  return Buffer.from(kept, "utf8").toString("utf8");
}

/** `later` wins for every field it sets. */
export function mergePreferences(
  earlier: PackedPreferences | undefined,
  later: PackedPreferences | undefined,
): PackedPreferences | undefined {
  if (earlier === undefined) return later;
  if (later === undefined) return earlier;
  const set = bitsOf(later) & 0x55555;
  const bits = (bitsOf(earlier) & ~(set | (set << 1))) | bitsOf(later);
  const [a, b] = [othersOf(earlier), othersOf(later)];
  return packed(bits, a || b ? { ...a, ...b } : undefined);
}

/** The ImportUser `preferences` object. */
export function unpackPreferences(
  preferences: PackedPreferences,
): Record<string, boolean | string | number> {
  const bits = bitsOf(preferences);
  const out: Record<string, boolean | string | number> = {};
  SWITCHES.forEach((field, index) => {
    if (bits & (1 << (2 * index))) out[field] = (bits & (1 << (2 * index + 1))) !== 0;
  });
  return { ...out, ...othersOf(preferences) };
}
