/**
 * One user of an import (POST /api/v1/admin/users/import/), as the Django importer sends it: what
 * a row may hold, and the rows it becomes here. A row that does not fit is refused with the reason,
 * never half-imported.
 */
import { z } from "zod";
import { classifyPasswordHash } from "../auth/passwords";
import { randomToken } from "../auth/tokens";
import { PLATFORMS, PROVIDERS, type PushTokenRow, ROLES, type UserRow } from "../db/schema";
import { PreferencesInputSchema } from "../preferences/preferences";
import { PROVIDERS_BY_PLATFORM } from "../push/device-object";
import { normalizeEmail, usernameKey } from "./identity";

/** At most this many devices per imported user, so a call stays within D1's query limit. */
const MAX_DEVICES = 10;

const text = (max: number) => z.string().max(max);
const time = z.iso.datetime({ offset: true });

const ImportDeviceSchema = z.object({
  token: z.string().trim().min(1).max(4096),
  platform: z.enum(PLATFORMS),
  provider: z.enum(PROVIDERS).optional(),
  device_id: text(255).nullable().optional(),
  device_name: text(255).nullable().optional(),
  is_active: z.boolean().default(true),
});

export const ImportUserSchema = z.object({
  id: z.uuid().optional(),
  legacy_id: z.number().int().min(1).max(Number.MAX_SAFE_INTEGER).optional(),
  email: z
    .string()
    .max(254)
    .transform(normalizeEmail)
    .pipe(z.email({ error: "Enter a valid email address." })),
  username: text(150)
    .regex(/^[\p{L}\p{N}_.@+-]*$/u, { error: "Not a valid username." })
    .nullable()
    .optional(),
  name: text(150).optional(),
  first_name: text(150).optional(),
  last_name: text(150).optional(),
  password_hash: text(1024).nullable().optional(),
  is_active: z.boolean().default(true),
  role: z.enum(ROLES).default("user"),
  email_verified: z.boolean().default(false),
  created_at: time.optional(),
  last_login_at: time.nullable().optional(),
  push_token: text(4096).nullable().optional(),
  preferences: PreferencesInputSchema.optional(),
  push_devices: z.array(ImportDeviceSchema).max(MAX_DEVICES).default([]),
  source: text(500).optional(),
});

export type ImportUser = z.output<typeof ImportUserSchema>;

/** What a stored password hash becomes here, and what the report should say about it. */
export function storedPassword(encoded: string | null | undefined): {
  hash: string;
  warning?: string;
} {
  const verdict = classifyPasswordHash(encoded ?? "");
  if (verdict.kind === "verifiable") return { hash: encoded ?? "" };
  // "!" never verifies: the account imports and signs in only after a password reset.
  const hash = `!${verdict.kind === "unusable" ? "unusable" : "must-reset"}:${randomToken(16)}`;
  if (verdict.kind === "unusable") {
    return {
      hash,
      warning: "no usable password: the user can sign in only after a password reset",
    };
  }
  return {
    hash,
    warning: `password (${verdict.format}) cannot be verified here: ${verdict.reason ?? "unknown format"}; the user must reset it`,
  };
}

/** The user row a new imported user gets. */
export function importedUserRow(row: ImportUser, now: Date): { user: UserRow; warnings: string[] } {
  const password = storedPassword(row.password_hash);
  const username = row.username ? row.username : null;
  const created = row.created_at ? new Date(row.created_at) : now;
  const name = row.name ?? [row.first_name, row.last_name].filter(Boolean).join(" ");
  return {
    user: {
      id: row.id ?? crypto.randomUUID(),
      legacyId: row.legacy_id ?? null,
      email: row.email,
      username,
      usernameKey: usernameKey(username),
      name,
      firstName: row.first_name || null,
      lastName: row.last_name || null,
      passwordHash: password.hash,
      role: row.role,
      isActive: row.is_active,
      emailVerifiedAt: row.email_verified ? created : null,
      pushToken: row.push_token ?? null,
      createdAt: created,
      updatedAt: now,
      lastLoginAt: row.last_login_at ? new Date(row.last_login_at) : null,
      deletedAt: row.is_active ? null : now,
    },
    warnings: password.warning ? [password.warning] : [],
  };
}

/** The device rows of an imported user (a provider the platform cannot use is refused). */
export function importedDevices(row: ImportUser, userId: string, now: Date): PushTokenRow[] {
  return row.push_devices.map((device) => {
    const allowed: readonly string[] = PROVIDERS_BY_PLATFORM[device.platform];
    const provider = device.provider ?? PROVIDERS_BY_PLATFORM[device.platform][0];
    if (!allowed.includes(provider)) {
      throw new ImportRefusal(`push device: "${provider}" cannot deliver to ${device.platform}`);
    }
    return {
      id: crypto.randomUUID(),
      userId,
      token: device.token,
      platform: device.platform,
      provider: provider as PushTokenRow["provider"],
      deviceId: device.device_id ?? null,
      deviceName: device.device_name ?? null,
      isActive: device.is_active,
      lastUsedAt: null,
      createdAt: now,
      updatedAt: now,
    };
  });
}

/** A row that cannot be imported: its reason goes into the report. */
export class ImportRefusal extends Error {}

/** The reason of a row that does not fit the schema, one line. */
export function refusalReason(error: z.ZodError): string {
  return error.issues
    .map((issue) => `${issue.path.join(".") || "row"}: ${issue.message}`)
    .join("; ")
    .slice(0, 500);
}
