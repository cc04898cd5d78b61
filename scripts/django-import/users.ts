/**
 * One user row (and what the first pass holds for it) → the import contract's ImportUser, or a
 * refusal decided here because the row can never import (no e-mail address, a password column
 * that holds no Django hash, a primary key out of range).
 */
import {
  mergePreferences,
  type PackedPreferences,
  packPreferences,
  preferenceField,
  unpackPreferences,
} from "./preferences.ts";
import type { SourceRecord } from "./readers.ts";
import type { Plan } from "./recognise.ts";
import { MAX_DEVICES, type RelatedRows, take } from "./related.ts";
import {
  bool,
  integer,
  type Key,
  MAX_LEGACY_ID,
  naturalKey,
  relationKey,
  text,
  timestamp,
  uuid,
} from "./values.ts";

interface ImportDevice {
  token: string;
  platform: "android" | "ios" | "web";
  provider?: "fcm" | "apns" | "webpush";
  device_id?: string;
  device_name?: string;
  is_active: boolean;
}

export interface ImportUser {
  id?: string;
  legacy_id?: number;
  email: string;
  username?: string;
  name?: string;
  first_name?: string;
  last_name?: string;
  password_hash: string | null;
  is_active?: boolean;
  role?: "user" | "admin";
  email_verified?: boolean;
  created_at?: string;
  last_login_at?: string;
  push_token?: string;
  preferences?: Record<string, boolean | string | number>;
  push_devices?: ImportDevice[];
  source: string;
}

export type Built =
  | { user: ImportUser; warnings: string[] }
  | { refused: string; email: string | null; source: string };

const ADMIN_ROLES = new Set(["admin", "administrator", "superuser", "staff"]);
/** Django's unsalted MD5 (`identify_hasher`): 32 hex digits with no algorithm prefix. */
const UNSALTED_MD5 = /^[0-9a-f]{32}$/i;

/** The value as Django stored it, or a refusal: never send what may be a plain-text password. */
function passwordHash(value: unknown): { hash: string | null } | { refused: string } {
  if (value === null || value === undefined || value === "") return { hash: null };
  if (typeof value !== "string") return { refused: "the password column holds no text" };
  if (value.startsWith("!") || value.includes("$") || UNSALTED_MD5.test(value)) {
    return { hash: value };
  }
  return {
    refused:
      "the password column does not hold a Django password hash (algorithm$…, or ! for an " +
      "unusable password): refused without sending it, it may be a plain-text password",
  };
}

type Ids = { id?: string; legacy_id?: number };

function ids(pk: unknown, uuidColumn: unknown, warnings: string[]): Ids | { refused: string } {
  const out: Ids = {};
  const asUuid = uuid(pk);
  const asInteger = integer(pk);
  if (asUuid) out.id = asUuid;
  else if (asInteger !== null) {
    if (asInteger < 1n || asInteger > MAX_LEGACY_ID) {
      return { refused: `primary key ${asInteger} is outside 1 … 2^53 − 1 (legacy_id)` };
    }
    out.legacy_id = Number(asInteger);
  } else if (pk === undefined || pk === null || pk === "") {
    warnings.push("no primary key in the export (dumpdata --natural-primary?): a new id is given");
  } else {
    warnings.push(
      `primary key "${String(pk)}" is neither an integer nor a UUID: a new id is given`,
    );
  }
  const extra = uuid(uuidColumn);
  if (extra && !out.id) out.id = extra;
  return out;
}

/** A JSONField of preferences on the user row (`{"email": true, "push": false}`). */
function jsonPreferences(value: unknown): PackedPreferences | undefined {
  let object = value;
  if (typeof value === "string" && value.trimStart().startsWith("{")) {
    try {
      object = JSON.parse(value);
    } catch {
      return undefined;
    }
  }
  if (!object || typeof object !== "object" || Array.isArray(object)) return undefined;
  const fields = object as Record<string, unknown>;
  const columns: Record<string, string> = {};
  for (const key of Object.keys(fields)) {
    const ours = preferenceField(key);
    if (ours && !(ours in columns)) columns[ours] = key;
  }
  return packPreferences(fields, columns) ?? undefined;
}

function preferencesOf(
  record: SourceRecord,
  plan: Plan,
  related: RelatedRows,
  keys: readonly Key[],
): PackedPreferences | undefined {
  const column = plan.columns.preferences;
  const linked = column === undefined ? undefined : record.fields[column];
  const inline = jsonPreferences(linked);
  const link = inline !== undefined ? null : relationKey(linked);
  let packed = link === null ? undefined : take(related.preferencesByPk, [link]);
  packed = mergePreferences(packed, take(related.preferencesByUser, keys));
  packed = mergePreferences(packed, inline);
  return mergePreferences(packed, packPreferences(record.fields, plan.preferences) ?? undefined);
}

function devicesOf(related: RelatedRows, keys: readonly Key[], warnings: string[]) {
  const held = take(related.devices, keys);
  const dropped = take(related.droppedDevices, keys);
  if (dropped) warnings.push(`${dropped} more push devices not imported (at most ${MAX_DEVICES})`);
  if (!held) return undefined;
  const inferred = held.filter((device) => device.inferred).map((device) => device.platform);
  if (inferred.length > 0) {
    warnings.push(
      `platform of ${inferred.length} push devices inferred (no platform column): ${[...new Set(inferred)].join(", ")}`,
    );
  }
  return held.map(({ usedAt: _used, inferred: _inferred, ...device }): ImportDevice => device);
}

function isAdmin(get: (field: string) => unknown): boolean {
  const flags = ["is_superuser", "is_staff", "is_admin"].some((field) => bool(get(field)));
  return flags || ADMIN_ROLES.has(text(get("role"))?.toLowerCase() ?? "");
}

/** Sets `field` when `value` is not null/undefined (the JSON sent stays small). */
function put<K extends keyof ImportUser>(user: ImportUser, field: K, value: ImportUser[K] | null) {
  if (value !== null && value !== undefined) user[field] = value;
}

export function buildUser(record: SourceRecord, plan: Plan, related: RelatedRows): Built {
  const get = (field: string) => {
    const column = plan.columns[field];
    return column === undefined ? undefined : record.fields[column];
  };
  const email = text(get("email"));
  const refuse = (reason: string): Built => ({ refused: reason, email, source: record.source });
  if (email === null) return refuse("no e-mail address");
  const warnings: string[] = [];
  const pk = plan.columns.pk === undefined ? record.pk : get("pk");
  const identity = ids(pk, get("uuid"), warnings);
  if ("refused" in identity) return refuse(identity.refused);
  const password = passwordHash(get("password"));
  if ("refused" in password) return refuse(password.refused);

  const username = text(get("username"));
  const own = relationKey(pk);
  const keys: Key[] = own === null ? [] : [own];
  if (related.naturalKeys)
    keys.push(naturalKey(email), ...(username ? [naturalKey(username)] : []));
  const profile = take(related.profiles, keys) ?? {};
  const verified = take(related.verifiedEmails, keys)?.includes(email.toLowerCase()) ?? false;

  const user = { ...identity, email, password_hash: password.hash } as ImportUser;
  put(user, "username", username);
  put(user, "name", text(get("name")) ?? profile.name);
  put(user, "first_name", text(get("first_name")) ?? profile.first_name);
  put(user, "last_name", text(get("last_name")) ?? profile.last_name);
  put(user, "is_active", bool(get("is_active")));
  user.role = isAdmin(get) ? "admin" : "user";
  put(
    user,
    "email_verified",
    bool(get("email_verified")) || timestamp(get("email_verified_at")) !== null || verified,
  );
  put(user, "created_at", timestamp(get("created_at")));
  put(user, "last_login_at", timestamp(get("last_login_at")));
  put(user, "push_token", text(get("push_token")) ?? profile.push_token);
  const preferences = preferencesOf(record, plan, related, keys);
  if (preferences !== undefined) user.preferences = unpackPreferences(preferences);
  put(user, "push_devices", devicesOf(related, keys, warnings));
  user.source = record.source;
  return { user, warnings };
}
