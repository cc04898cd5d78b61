/**
 * Push devices (DESIGN §4): a user's device tokens. A token value belongs to one device of one
 * user, and a device is (user, device_id, platform): registering the same device again updates it,
 * and a token registered elsewhere is taken away from its previous holder. Every change that adds
 * or removes a deliverable device is announced (`push_token.added` / `push_token.removed`).
 */
import { and, eq, ne, or, type SQL } from "drizzle-orm";
import type { RequestMeta, Scope } from "../app-env";
import { auditEntry } from "../audit/audit-log";
import type { Db } from "../db/client";
import { uniqueViolation } from "../db/errors";
import { type PushTokenRow, pushTokens } from "../db/schema";
import { ApiError, fieldError } from "../errors";
import { commit, commitAll, outboxEvent } from "../events/outbox";
import {
  ownDevice,
  type Platform,
  PROVIDERS_BY_PLATFORM,
  type Provider,
  type PushTokenObject,
  providerIssue,
  toPushTokenObject,
} from "./device-object";

function addedEvent(db: Db, meta: RequestMeta, row: PushTokenRow, at: Date) {
  return outboxEvent(
    db,
    meta,
    "push_token.added",
    {
      user_id: row.userId,
      push_token_id: row.id,
      platform: row.platform,
      provider: row.provider,
      device_id: row.deviceId,
      device_name: row.deviceName,
    },
    at,
  );
}

export function removedEvent(
  db: Db,
  meta: RequestMeta,
  row: Pick<PushTokenRow, "userId" | "id" | "platform">,
  reason: "deleted" | "deactivated" | "moved" | "invalid",
  at: Date,
) {
  return outboxEvent(
    db,
    meta,
    "push_token.removed",
    { user_id: row.userId, push_token_id: row.id, platform: row.platform, reason },
    at,
  );
}

/**
 * The statements that take a token value away from whichever other row holds it (another user's
 * device, or another of this user's), announcing the removal. A previous owner on another account
 * is told twice: by `push_token.removed` (reason "moved", which the email or push service can turn
 * into a notice) and by an entry in their own audit trail — which never names the new account.
 */
async function releaseToken(
  db: Db,
  meta: RequestMeta,
  value: string,
  next: Pick<PushTokenRow, "id" | "userId">,
  at: Date,
) {
  const conditions: SQL[] = [eq(pushTokens.token, value), ne(pushTokens.id, next.id)];
  const holders = await db
    .select()
    .from(pushTokens)
    .where(and(...conditions));
  return holders.flatMap((holder) => [
    db.delete(pushTokens).where(eq(pushTokens.id, holder.id)),
    removedEvent(db, meta, holder, "moved", at),
    ...(holder.userId !== next.userId
      ? [
          auditEntry(db, meta, {
            userId: holder.userId,
            action: "push_token_moved",
            metadata: {
              push_token_id: holder.id,
              platform: holder.platform,
              device_name: holder.deviceName,
              to: "another_account",
            },
            at,
          }),
        ]
      : []),
  ]);
}

/**
 * Another of the user's devices already being this (device_id, platform) is a permanent conflict,
 * reported as such (not as a race to retry).
 */
async function assertDeviceFree(db: Db, device: PushTokenRow) {
  if (device.deviceId === null) return;
  const [clash] = await db
    .select({ id: pushTokens.id })
    .from(pushTokens)
    .where(
      and(
        eq(pushTokens.userId, device.userId),
        eq(pushTokens.deviceId, device.deviceId),
        eq(pushTokens.platform, device.platform),
        ne(pushTokens.id, device.id),
      ),
    )
    .limit(1);
  if (clash) {
    throw new ApiError("conflict", "Another of your devices has this device_id on this platform", {
      details: { device_id: ["Another of your devices has this device_id on this platform."] },
    });
  }
}

/**
 * Writes a device's new state (`current` null: a new device) with the events its change implies,
 * after taking its token away from any other holder. Every device write goes through here.
 */
async function saveDevice(
  { db, meta }: Scope,
  current: PushTokenRow | null,
  next: PushTokenRow,
): Promise<PushTokenObject> {
  const issue = providerIssue(next.platform, next.provider);
  if (issue) throw fieldError("provider", issue);
  // A new device was looked up by (device_id, platform) already.
  if (current) await assertDeviceFree(db, next);
  const now = next.updatedAt;
  // Releasing the token from its old holder comes first: the value is unique.
  const release =
    next.token !== current?.token ? await releaseToken(db, meta, next.token, next, now) : [];
  const events = [];
  if (current?.isActive && !next.isActive) {
    events.push(removedEvent(db, meta, next, "deactivated", now));
  } else if (
    next.isActive &&
    (!current?.isActive || next.token !== current.token || next.platform !== current.platform)
  ) {
    events.push(addedEvent(db, meta, next, now));
  }
  const write = current
    ? db
        .update(pushTokens)
        .set({
          token: next.token,
          platform: next.platform,
          provider: next.provider,
          deviceId: next.deviceId,
          deviceName: next.deviceName,
          isActive: next.isActive,
          updatedAt: now,
        })
        .where(eq(pushTokens.id, current.id))
    : db.insert(pushTokens).values(next);
  try {
    await commitAll(db, meta, [...release, write, ...events]);
  } catch (err) {
    // A unique-index race (two registrations of one token at once) becomes a retryable 409.
    if (uniqueViolation(err)?.startsWith("push_tokens")) {
      throw new ApiError("conflict", "The device changed concurrently; retry the request");
    }
    throw err;
  }
  return toPushTokenObject(next);
}

export interface DeviceRegistration {
  token: string;
  platform: Platform;
  provider?: Provider | undefined;
  device_id?: string | null | undefined;
  device_name?: string | null | undefined;
}

/**
 * Registers a device, or updates the one it refers to: the same (device_id, platform), else the
 * user's row that already holds this token. `created` tells which.
 */
export async function registerDevice(
  scope: Scope,
  userId: string,
  body: DeviceRegistration,
): Promise<{ device: PushTokenObject; created: boolean }> {
  const { db } = scope;
  const now = new Date();
  const provider = body.provider ?? PROVIDERS_BY_PLATFORM[body.platform][0];
  const deviceId = body.device_id ?? null;
  const candidates = await db
    .select()
    .from(pushTokens)
    .where(
      or(
        and(eq(pushTokens.userId, userId), eq(pushTokens.token, body.token)),
        deviceId === null
          ? undefined
          : and(
              eq(pushTokens.userId, userId),
              eq(pushTokens.deviceId, deviceId),
              eq(pushTokens.platform, body.platform),
            ),
      ),
    );
  const existing =
    candidates.find(
      (r) => deviceId !== null && r.deviceId === deviceId && r.platform === body.platform,
    ) ?? candidates.find((r) => r.token === body.token);
  const next: PushTokenRow = {
    id: existing?.id ?? crypto.randomUUID(),
    userId,
    token: body.token,
    platform: body.platform,
    provider,
    deviceId: deviceId ?? existing?.deviceId ?? null,
    deviceName: body.device_name === undefined ? (existing?.deviceName ?? null) : body.device_name,
    isActive: true,
    lastUsedAt: existing?.lastUsedAt ?? null,
    createdAt: existing?.createdAt ?? now,
    updatedAt: now,
  };
  return { device: await saveDevice(scope, existing ?? null, next), created: !existing };
}

/** PUT (`replace`: every field as sent, defaults for the rest) or PATCH of one own device. */
export async function updateDevice(
  scope: Scope,
  userId: string,
  id: string,
  change:
    | { replace: true; body: DeviceRegistration }
    | {
        replace: false;
        body: {
          token?: string | undefined;
          provider?: Provider | undefined;
          device_name?: string | null | undefined;
          is_active?: boolean | undefined;
        };
      },
): Promise<PushTokenObject> {
  const current = await ownDevice(scope.db, userId, id);
  const now = new Date();
  const next: PushTokenRow = change.replace
    ? {
        ...current,
        token: change.body.token,
        platform: change.body.platform,
        provider: change.body.provider ?? PROVIDERS_BY_PLATFORM[change.body.platform][0],
        deviceId: change.body.device_id ?? null,
        deviceName: change.body.device_name ?? null,
        isActive: true,
        updatedAt: now,
      }
    : {
        ...current,
        token: change.body.token ?? current.token,
        provider: change.body.provider ?? current.provider,
        deviceName:
          change.body.device_name === undefined ? current.deviceName : change.body.device_name,
        isActive: change.body.is_active ?? current.isActive,
        updatedAt: now,
      };
  return saveDevice(scope, current, next);
}

export async function removeDevice({ db, meta }: Scope, userId: string, id: string) {
  const current = await ownDevice(db, userId, id);
  const now = new Date();
  await commit(db, meta, [
    db.delete(pushTokens).where(eq(pushTokens.id, current.id)),
    removedEvent(db, meta, current, "deleted", now),
  ]);
}

/** Deactivates every active device of the user; returns how many. */
export async function deactivateAllDevices({ db, meta }: Scope, userId: string): Promise<number> {
  const now = new Date();
  const active = await db
    .select()
    .from(pushTokens)
    .where(and(eq(pushTokens.userId, userId), eq(pushTokens.isActive, true)));
  if (active.length > 0) {
    await commitAll(db, meta, [
      db
        .update(pushTokens)
        .set({ isActive: false, updatedAt: now })
        .where(and(eq(pushTokens.userId, userId), eq(pushTokens.isActive, true))),
      ...active.map((row) => removedEvent(db, meta, row, "deactivated", now)),
    ]);
  }
  return active.length;
}
