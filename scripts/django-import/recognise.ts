/**
 * Which model is which, by its fields (never by its name): the user model has `password` and
 * `email` (and the flags AbstractBaseUser/AbstractUser bring), preferences have boolean `email` /
 * `push` (or `email_notifications`, `push_enabled`, our categories …), a device has a `token` and
 * device fields and a `user` link, a profile links by `user` and holds names or a push token, an
 * e-mail address row (django-allauth) has `email`, `verified` and `user`.
 *
 * The result is a plan per model: its role and, for each of our fields, the column holding it.
 */
import { isSwitch, preferenceField } from "./preferences.ts";
import { boolish } from "./values.ts";

export const ROLES = [
  "user",
  "preferences",
  "profile",
  "push_device",
  "email_address",
  "ignore",
] as const;
export type Role = (typeof ROLES)[number];

/** For each role, our fields and the Django names looked for (a link also as `<name>_id`). */
export const CANDIDATES: Record<Role, Record<string, readonly string[]>> = {
  user: {
    pk: ["id", "pk"],
    /** A public UUID next to an integer primary key: kept as our id, the integer as legacy id. */
    uuid: ["uuid"],
    email: ["email", "email_address"],
    password: ["password", "password_hash"],
    username: ["username", "user_name"],
    name: ["name", "full_name", "display_name"],
    first_name: ["first_name", "firstname", "given_name"],
    last_name: ["last_name", "lastname", "family_name", "surname"],
    is_active: ["is_active", "active"],
    is_superuser: ["is_superuser"],
    is_staff: ["is_staff"],
    is_admin: ["is_admin"],
    role: ["role"],
    email_verified: [
      "email_verified",
      "is_verified",
      "is_email_verified",
      "email_confirmed",
      "is_email_confirmed",
      "verified",
    ],
    email_verified_at: ["email_verified_at", "verified_at"],
    created_at: ["date_joined", "created_at", "created", "joined_at", "date_created"],
    last_login_at: ["last_login", "last_login_at"],
    push_token: ["push_token", "fcm_token", "expo_push_token", "device_token"],
    preferences: [
      "preferences",
      "preference",
      "user_preferences",
      "notification_preferences",
      "notification_settings",
    ],
  },
  push_device: {
    pk: ["id", "pk"],
    user: ["user", "owner", "account"],
    token: [
      "token",
      "registration_id",
      "push_token",
      "fcm_token",
      "expo_token",
      "expo_push_token",
      "device_token",
    ],
    platform: ["platform", "device_type", "platform_type", "os"],
    provider: ["provider", "cloud_message_type", "service"],
    device_id: ["device_id", "udid"],
    device_name: ["device_name", "name", "model"],
    is_active: ["is_active", "active"],
    browser: ["browser"],
    used_at: ["last_used_at", "last_used", "updated_at", "date_created", "created_at", "created"],
  },
  email_address: {
    user: ["user"],
    email: ["email"],
    verified: ["verified"],
  },
  profile: {
    pk: ["id", "pk"],
    user: ["user"],
    name: ["name", "full_name", "display_name"],
    first_name: ["first_name", "firstname", "given_name"],
    last_name: ["last_name", "lastname", "family_name", "surname"],
    push_token: ["push_token", "fcm_token", "expo_push_token", "device_token"],
  },
  preferences: {
    pk: ["id", "pk"],
    user: ["user"],
  },
  ignore: {},
};

/** Links hold a key: dumpdata names them `user`, CSV exports `user_id`. */
const LINKS = new Set(["user", "preferences"]);
/** Fields only a user model has (AbstractBaseUser, PermissionsMixin, AbstractUser). */
const USER_MARKERS = ["last_login", "is_active", "is_superuser", "is_staff", "date_joined"];
/** Fields that make a model with `token` + `user` a device rather than, say, a JWT record. */
const DEVICE_MARKERS = ["platform", "provider", "device_id", "is_active", "active", "browser"];
const NOT_DEVICE = ["jti", "expires_at"];

export interface Plan {
  /** The model label (`users.user`) or, for CSV, the file's name. */
  model: string;
  role: Role;
  /** Our field → the column holding it. */
  columns: Record<string, string>;
  /** Our preference field → the column holding it (preferences, profile, user rows). */
  preferences: Record<string, string>;
  /** The columns nothing is taken from, listed in the report. */
  notCarried: string[];
  /** Whether --map decided the role. */
  mapped: boolean;
}

/** The column for one of our fields among `names`, or undefined. */
function find(fields: Record<string, unknown>, field: string, names: readonly string[]) {
  for (const name of names) {
    if (name in fields) return name;
    if (LINKS.has(field) && `${name}_id` in fields) return `${name}_id`;
  }
  return undefined;
}

function columnsFor(role: Role, fields: Record<string, unknown>): Record<string, string> {
  const columns: Record<string, string> = {};
  for (const [field, names] of Object.entries(CANDIDATES[role])) {
    const column = find(fields, field, names);
    if (column !== undefined) columns[field] = column;
  }
  return columns;
}

/**
 * Our preference fields among `fields` (switches only where the value reads as a boolean; on a
 * user row never the address field `email`), leaving out columns already used.
 */
function preferenceColumns(
  fields: Record<string, unknown>,
  used: Set<string>,
  onUserRow: boolean,
): Record<string, string> {
  const found: Record<string, string> = {};
  for (const [column, value] of Object.entries(fields)) {
    if (used.has(column) || (onUserRow && (column === "email" || column === "push"))) continue;
    const ours = preferenceField(column);
    if (!ours || ours in found || (isSwitch(ours) && !boolish(value))) continue;
    found[ours] = column;
  }
  return found;
}

function has(fields: Record<string, unknown>, names: readonly string[]) {
  return names.some((name) => name in fields);
}

/** The role a model's fields say it has. */
function detectRole(fields: Record<string, unknown>): Role {
  const columns = (role: Role) => columnsFor(role, fields);
  if ("password" in fields && "email" in fields && has(fields, USER_MARKERS)) return "user";
  const device = columns("push_device");
  if (device.user && device.token && has(fields, DEVICE_MARKERS) && !has(fields, NOT_DEVICE)) {
    return "push_device";
  }
  const address = columns("email_address");
  if (address.user && address.email && address.verified && boolish(fields[address.verified])) {
    return "email_address";
  }
  const profile = columns("profile");
  const prefs = preferenceColumns(fields, new Set(Object.values(profile)), false);
  const hasSwitch = Object.keys(prefs).some(isSwitch);
  if (profile.user && Object.keys(profile).some((field) => !["pk", "user"].includes(field))) {
    return "profile";
  }
  return hasSwitch ? "preferences" : "ignore";
}

/** The plan for a model from its first row, `override` (from --map) taking precedence. */
export function planFor(
  model: string,
  fields: Record<string, unknown>,
  override?: { role: Role; fields?: Record<string, string> },
): Plan {
  const role = override?.role ?? detectRole(fields);
  const columns = { ...columnsFor(role, fields), ...override?.fields };
  const given = override?.fields ?? {};
  const preferences: Record<string, string> = {};
  for (const [ours, theirs] of Object.entries(given)) {
    if (preferenceField(ours) === ours && !(ours in CANDIDATES[role])) {
      preferences[ours] = theirs;
      delete columns[ours];
    }
  }
  if (role === "user" || role === "preferences" || role === "profile") {
    const detected = preferenceColumns(fields, new Set(Object.values(columns)), role === "user");
    for (const [ours, theirs] of Object.entries(detected)) preferences[ours] ??= theirs;
  }
  const used = new Set([...Object.values(columns), ...Object.values(preferences)]);
  const notCarried = role === "ignore" ? [] : Object.keys(fields).filter((f) => !used.has(f));
  return { model, role, columns, preferences, notCarried, mapped: override !== undefined };
}
