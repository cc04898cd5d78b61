/**
 * Field values as the exports hold them, made uniform: dumpdata JSON (parsed with numbers kept as
 * strings, so big integer keys stay exact) and CSV (every value a string; NULL an unquoted empty
 * field) both end up as the same JavaScript values here.
 */

const UUID_DASHED = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const UUID_HEX = /^[0-9a-f]{32}$/i;
const INTEGER = /^[+-]?\d+$/;
const TRUE = new Set(["true", "t", "1", "yes", "y", "on"]);
const FALSE = new Set(["false", "f", "0", "no", "n", "off"]);
/** `2026-12-01 08:42:10.832737`, `2026-12-01T08:42:10.832Z`, `…+00`, `…+05:30`, `…+0530`. */
const TIMESTAMP =
  /^(\d{4}-\d{2}-\d{2})(?:[T ](\d{2}:\d{2}(?::\d{2})?)(\.\d+)?)?\s*(Z|[+-]\d{2}(?::?\d{2})?)?$/i;

/** A UUID in its dashed, lower-case form, whether dashed or 32 hex digits (SQLite); else null. */
export function uuid(value: unknown): string | null {
  if (typeof value !== "string") return null;
  if (UUID_DASHED.test(value)) return value.toLowerCase();
  if (!UUID_HEX.test(value)) return null;
  const hex = value.toLowerCase();
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

/** An integer written as digits (or a JS number), exactly; else null. */
export function integer(value: unknown): bigint | null {
  if (typeof value === "number") return Number.isInteger(value) ? BigInt(value) : null;
  if (typeof value !== "string" || !INTEGER.test(value.trim())) return null;
  return BigInt(value.trim());
}

/** true/false, 1/0, t/f (PostgreSQL), yes/no, True/False; null when empty or anything else. */
export function bool(value: unknown): boolean | null {
  if (typeof value === "boolean") return value;
  if (typeof value === "number") return value === 1 ? true : value === 0 ? false : null;
  if (typeof value !== "string") return null;
  const word = value.trim().toLowerCase();
  if (TRUE.has(word)) return true;
  if (FALSE.has(word)) return false;
  return null;
}

/** Whether a value can be read as a boolean (or is empty), for recognising preference models. */
export function boolish(value: unknown): boolean {
  return value === null || value === undefined || value === "" || bool(value) !== null;
}

/** Trimmed text, or null when empty / not a scalar. */
export function text(value: unknown): string | null {
  if (typeof value === "string") return value.trim() === "" ? null : value.trim();
  if (typeof value === "number" || typeof value === "bigint") return String(value);
  return null;
}

/**
 * A Django datetime as ISO 8601 UTC (`…Z`). Values without an offset are UTC (Django stores UTC
 * when USE_TZ is on; SQLite keeps no offset); a bare date is midnight UTC. Null when not a time.
 */
export function timestamp(value: unknown): string | null {
  if (typeof value !== "string") return null;
  const match = TIMESTAMP.exec(value.trim());
  if (!match) return null;
  const [, date, time = "00:00:00", fraction = "", zone = "Z"] = match;
  const seconds = time.length === 5 ? `${time}:00` : time;
  const millis = `${fraction.slice(1)}000`.slice(0, 3);
  const offset = zone.toUpperCase() === "Z" ? "Z" : normaliseOffset(zone);
  const parsed = new Date(`${date}T${seconds}.${millis}${offset}`);
  return Number.isNaN(parsed.getTime()) ? null : parsed.toISOString();
}

function normaliseOffset(zone: string): string {
  const digits = zone.slice(1).replace(":", "");
  return `${zone[0]}${digits.slice(0, 2)}:${digits.slice(2, 4) || "00"}`;
}

/**
 * A compact, comparable key for a primary key or a link to one, so related rows can be held by
 * key without holding users: integers as numbers, UUIDs as 16 raw bytes (whatever their
 * spelling), natural keys (`["ada"]`) and other strings prefixed apart. Null when empty.
 */
export type Key = number | string;

export function relationKey(value: unknown): Key | null {
  if (value === null || value === undefined || value === "") return null;
  if (Array.isArray(value)) return `n${value.map(String).join("\u001f")}`;
  const id = uuid(value);
  if (id) return `u${Buffer.from(id.replaceAll("-", ""), "hex").toString("latin1")}`;
  const whole = integer(value);
  if (whole !== null && whole >= BigInt(Number.MIN_SAFE_INTEGER) && whole <= MAX_LEGACY_ID) {
    return Number(whole);
  }
  return typeof value === "string" || typeof value === "number" ? `s${value}` : null;
}

/** The key under which rows linking to a user by natural key (`["ada@example.com"]`) are held. */
export function naturalKey(value: string): Key {
  return `n${value}`;
}

/** The largest legacy id the service keeps (2^53 − 1: exact in JSON and JavaScript). */
export const MAX_LEGACY_ID = BigInt(Number.MAX_SAFE_INTEGER);
