/**
 * A push device as the API shows it (never its token value), which providers can deliver to which
 * platform, and reading a user's devices.
 */
import { and, count, desc, eq } from "drizzle-orm";
import type { Db } from "../db/client";
import { type PLATFORMS, type PROVIDERS, type PushTokenRow, pushTokens } from "../db/schema";
import { ApiError } from "../errors";

export type Platform = (typeof PLATFORMS)[number];
export type Provider = (typeof PROVIDERS)[number];

/** Which providers can deliver to which platform; the first is the default. */
export const PROVIDERS_BY_PLATFORM = {
  android: ["fcm"],
  ios: ["apns", "fcm"],
  web: ["webpush", "fcm"],
} as const satisfies Record<Platform, readonly Provider[]>;

/** The message for a provider that cannot deliver to a platform, or null when it can. */
export function providerIssue(platform: Platform, provider: Provider): string | null {
  const allowed: readonly string[] = PROVIDERS_BY_PLATFORM[platform];
  if (allowed.includes(provider)) return null;
  return `"${provider}" cannot deliver to ${platform}; use ${allowed.join(" or ")}.`;
}

/** The device as users see it: everything but the token value. */
export function toPushTokenObject(row: PushTokenRow) {
  return {
    id: row.id,
    platform: row.platform,
    provider: row.provider,
    device_id: row.deviceId,
    device_name: row.deviceName,
    is_active: row.isActive,
    last_used_at: row.lastUsedAt?.toISOString() ?? null,
    created_at: row.createdAt.toISOString(),
    updated_at: row.updatedAt.toISOString(),
  };
}

export type PushTokenObject = ReturnType<typeof toPushTokenObject>;

const notFound = () => new ApiError("not_found", "Push device not found");

/** One of the user's devices, or 404 (someone else's device is indistinguishable from none). */
export async function ownDevice(db: Db, userId: string, id: string): Promise<PushTokenRow> {
  const [row] = await db
    .select()
    .from(pushTokens)
    .where(and(eq(pushTokens.id, id), eq(pushTokens.userId, userId)))
    .limit(1);
  if (!row) throw notFound();
  return row;
}

/** A page of the user's devices, newest first. */
export async function listDevices(
  db: Db,
  userId: string,
  filter: { is_active?: boolean | undefined },
  page: { page: number; limit: number },
) {
  const where = and(
    eq(pushTokens.userId, userId),
    filter.is_active === undefined ? undefined : eq(pushTokens.isActive, filter.is_active),
  );
  const [rows, [total]] = await db.batch([
    db
      .select()
      .from(pushTokens)
      .where(where)
      .orderBy(desc(pushTokens.createdAt), desc(pushTokens.id))
      .limit(page.limit)
      .offset((page.page - 1) * page.limit),
    db.select({ n: count() }).from(pushTokens).where(where),
  ]);
  return { devices: rows.map(toPushTokenObject), total: total?.n ?? 0 };
}
