/**
 * The first pass's harvest: the rows that belong to users but are not users (preferences,
 * devices, profiles, verified addresses), held compactly by the key of the user (or, for a
 * preferences row the user row points at, by its own key) until the second pass streams the users
 * and takes each user's rows out. Users themselves are never held.
 */
import { platform, provider } from "./devices.ts";
import { mergePreferences, type PackedPreferences, packPreferences } from "./preferences.ts";
import type { SourceRecord } from "./readers.ts";
import type { Plan } from "./recognise.ts";
import { bool, type Key, relationKey, text, timestamp } from "./values.ts";

/** At most this many devices per user (the import contract's limit). */
export const MAX_DEVICES = 10;

export interface HeldDevice {
  token: string;
  platform: "android" | "ios" | "web";
  provider?: "fcm" | "apns" | "webpush";
  device_id?: string;
  device_name?: string;
  is_active: boolean;
  /** Set when no column gave the platform (reported as a warning). */
  inferred?: true;
  /** Last use (or creation) in ms, to keep the most recent devices of a user who has too many. */
  usedAt: number;
}

export interface HeldProfile {
  name?: string;
  first_name?: string;
  last_name?: string;
  push_token?: string;
}

export class RelatedRows {
  /** Preferences rows the user row links to (`users.preferences` → their pk). */
  readonly preferencesByPk = new Map<Key, PackedPreferences>();
  /** Preferences (and profile preference fields) linked by their `user` column. */
  readonly preferencesByUser = new Map<Key, PackedPreferences>();
  readonly devices = new Map<Key, HeldDevice[]>();
  /** Devices beyond MAX_DEVICES, per user, reported as dropped. */
  readonly droppedDevices = new Map<Key, number>();
  readonly profiles = new Map<Key, HeldProfile>();
  /** Lower-cased verified addresses (django-allauth `account.emailaddress`). */
  readonly verifiedEmails = new Map<Key, string[]>();
  /** Whether any row links to a user by natural key (`["ada@example.com"]`). */
  naturalKeys = false;

  /** Takes what is useful from one row of a related model. */
  add(record: SourceRecord, plan: Plan): void {
    const get = (field: string) => {
      const column = plan.columns[field];
      return column === undefined ? undefined : record.fields[column];
    };
    const userValue = get("user");
    if (Array.isArray(userValue)) this.naturalKeys = true;
    const user = relationKey(userValue);
    if (plan.role === "preferences" || plan.role === "profile") {
      const packed = packPreferences(record.fields, plan.preferences);
      const own = relationKey(plan.columns.pk ? get("pk") : record.pk);
      if (packed !== null && user !== null) mergeInto(this.preferencesByUser, user, packed);
      else if (packed !== null && own !== null) mergeInto(this.preferencesByPk, own, packed);
    }
    if (user === null) return;
    if (plan.role === "profile") this.addProfile(user, get);
    if (plan.role === "push_device") this.addDevice(user, plan, get);
    if (plan.role === "email_address" && bool(get("verified")) === true) {
      const email = held(text(get("email"))?.toLowerCase() ?? null);
      if (email) this.verifiedEmails.set(user, [...(this.verifiedEmails.get(user) ?? []), email]);
    }
  }

  private addProfile(user: Key, get: (field: string) => unknown) {
    const profile: HeldProfile = { ...this.profiles.get(user) };
    for (const field of ["name", "first_name", "last_name", "push_token"] as const) {
      const value = held(text(get(field)));
      if (value !== null) profile[field] = value;
    }
    this.profiles.set(user, profile);
  }

  private addDevice(user: Key, plan: Plan, get: (field: string) => unknown) {
    const token = held(text(get("token")));
    if (token === null) return;
    const given = text(get("provider"));
    const found = platform(text(get("platform")), {
      ...(given === null ? {} : { provider: given }),
      model: plan.model,
      browser: text(get("browser")) !== null,
      token,
    });
    const device: HeldDevice = {
      token,
      platform: found.platform,
      is_active: bool(get("is_active")) ?? true,
      usedAt: Date.parse(timestamp(get("used_at")) ?? "") || 0,
    };
    const known = provider(given);
    if (known) device.provider = known;
    if (found.inferred) device.inferred = true;
    for (const field of ["device_id", "device_name"] as const) {
      const value = held(text(get(field)));
      if (value !== null) device[field] = value;
    }
    const kept = [...(this.devices.get(user) ?? []), device];
    // Active before inactive, then the most recently used: what a user who has too many keeps.
    kept.sort((a, b) => Number(b.is_active) - Number(a.is_active) || b.usedAt - a.usedAt);
    if (kept.length > MAX_DEVICES) {
      kept.length = MAX_DEVICES;
      this.droppedDevices.set(user, (this.droppedDevices.get(user) ?? 0) + 1);
    }
    this.devices.set(user, kept);
  }

  /** Rows still held: those no user took (reported as linked to no user in the input). */
  leftOver(): { preferences: number; devices: number; profiles: number } {
    let devices = 0;
    for (const list of this.devices.values()) devices += list.length;
    return {
      preferences: this.preferencesByPk.size + this.preferencesByUser.size,
      devices,
      profiles: this.profiles.size,
    };
  }
}

/**
 * A copy of a string to keep: what the parsers hand out may be a slice of the chunk it was read
 * from, and keeping the slice would keep the whole chunk (64 KiB) alive for a 100-byte token.
 */
function held(value: string | null): string | null {
  return value === null ? null : Buffer.from(value, "utf8").toString("utf8");
}

function mergeInto(map: Map<Key, PackedPreferences>, key: Key, packed: PackedPreferences) {
  const merged = mergePreferences(map.get(key), packed);
  if (merged) map.set(key, merged);
}

/** Removes and returns what a map holds under any of `keys`. */
export function take<T>(map: Map<Key, T>, keys: readonly Key[]): T | undefined {
  for (const key of keys) {
    const value = map.get(key);
    if (value !== undefined) {
      map.delete(key);
      return value;
    }
  }
  return undefined;
}
