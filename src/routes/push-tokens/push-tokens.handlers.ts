import type { RouteHandler } from "@hono/zod-openapi";
import { and, count, desc, eq, ne, or, type SQL } from "drizzle-orm";
import type { Context } from "hono";
import { z } from "zod";
import type { AppEnv } from "../../app-env";
import type { RequestMeta } from "../../audit/audit-log";
import { type Db, getDb, runBatch } from "../../db/client";
import { uniqueViolation } from "../../db/errors";
import { type PushTokenRow, pushTokens } from "../../db/schema";
import { ApiError, fieldError } from "../../errors";
import { outboxEvent } from "../../events/outbox";
import { requestMeta } from "../../middleware/request-context";
import { ok } from "../openapi";
import { okList, pageMeta } from "../pagination";
import type * as routes from "./push-tokens.routes";
import { PROVIDERS_BY_PLATFORM, toPushTokenObject } from "./push-tokens.schemas";

const notFound = () => new ApiError("not_found", "Push device not found");

/** One of the caller's devices, or 404 (someone else's device is indistinguishable from none). */
async function ownDevice(c: Context<AppEnv>, id: string): Promise<PushTokenRow> {
  if (!z.uuid().safeParse(id).success) throw notFound();
  const [row] = await getDb(c.env)
    .select()
    .from(pushTokens)
    .where(and(eq(pushTokens.id, id), eq(pushTokens.userId, c.get("auth").userId)))
    .limit(1);
  if (!row) throw notFound();
  return row;
}

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

function removedEvent(
  db: Db,
  meta: RequestMeta,
  row: PushTokenRow,
  reason: "deleted" | "deactivated" | "moved",
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
 * A token value belongs to one device of one user: the statements that take it away from whichever
 * other row holds it (another user's device, or another of the caller's), announcing the removal.
 */
async function releaseToken(
  db: Db,
  meta: RequestMeta,
  value: string,
  keepId: string | null,
  at: Date,
) {
  const conditions: SQL[] = [eq(pushTokens.token, value)];
  if (keepId) conditions.push(ne(pushTokens.id, keepId));
  const holders = await db
    .select()
    .from(pushTokens)
    .where(and(...conditions));
  return holders.flatMap((holder) => [
    db.delete(pushTokens).where(eq(pushTokens.id, holder.id)),
    removedEvent(db, meta, holder, "moved", at),
  ]);
}

/**
 * A device is (user, device_id, platform): another of the caller's devices already being that is a
 * permanent conflict, reported as such (not as a race to retry).
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

/** A unique-index race (two registrations of one token at once) becomes a retryable 409. */
async function commit<T>(run: () => Promise<T>): Promise<T> {
  try {
    return await run();
  } catch (err) {
    if (uniqueViolation(err)?.startsWith("push_tokens")) {
      throw new ApiError("conflict", "The device changed concurrently; retry the request");
    }
    throw err;
  }
}

export const list: RouteHandler<typeof routes.list, AppEnv> = async (c) => {
  const { page, limit, is_active } = c.req.valid("query");
  const db = getDb(c.env);
  const where = and(
    eq(pushTokens.userId, c.get("auth").userId),
    is_active === undefined ? undefined : eq(pushTokens.isActive, is_active),
  );
  const [rows, [total]] = await db.batch([
    db
      .select()
      .from(pushTokens)
      .where(where)
      .orderBy(desc(pushTokens.createdAt), desc(pushTokens.id))
      .limit(limit)
      .offset((page - 1) * limit),
    db.select({ n: count() }).from(pushTokens).where(where),
  ]);
  return c.json(
    okList(
      "Push devices retrieved",
      rows.map(toPushTokenObject),
      pageMeta(total?.n ?? 0, page, limit),
    ),
    200,
  );
};

export const create: RouteHandler<typeof routes.create, AppEnv> = async (c) => {
  const body = c.req.valid("json");
  const db = getDb(c.env);
  const meta = requestMeta(c);
  const userId = c.get("auth").userId;
  const now = new Date();
  const provider = body.provider ?? PROVIDERS_BY_PLATFORM[body.platform][0];
  const deviceId = body.device_id ?? null;

  // The device this registration refers to: the same (device_id, platform), else the caller's row
  // that already holds this token.
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
  const release = await releaseToken(db, meta, body.token, existing?.id ?? null, now);

  if (existing) {
    const next: PushTokenRow = {
      ...existing,
      token: body.token,
      platform: body.platform,
      provider,
      deviceId: deviceId ?? existing.deviceId,
      deviceName: body.device_name === undefined ? existing.deviceName : body.device_name,
      isActive: true,
      updatedAt: now,
    };
    const becameActive =
      !existing.isActive || existing.token !== body.token || existing.platform !== body.platform;
    await assertDeviceFree(db, next);
    // Releasing the token from its old holder comes first: the value is unique.
    await commit(() =>
      runBatch(db, [
        ...release,
        db
          .update(pushTokens)
          .set({
            token: next.token,
            platform: next.platform,
            provider: next.provider,
            deviceId: next.deviceId,
            deviceName: next.deviceName,
            isActive: true,
            updatedAt: now,
          })
          .where(eq(pushTokens.id, existing.id)),
        ...(becameActive ? [addedEvent(db, meta, next, now)] : []),
      ]),
    );
    return c.json(ok("Push device updated", toPushTokenObject(next)), 200);
  }

  const row: PushTokenRow = {
    id: crypto.randomUUID(),
    userId,
    token: body.token,
    platform: body.platform,
    provider,
    deviceId,
    deviceName: body.device_name ?? null,
    isActive: true,
    lastUsedAt: null,
    createdAt: now,
    updatedAt: now,
  };
  // Releasing the token from its old holder comes first: the value is unique.
  await commit(() =>
    runBatch(db, [...release, db.insert(pushTokens).values(row), addedEvent(db, meta, row, now)]),
  );
  return c.json(ok("Push device registered", toPushTokenObject(row)), 201);
};

export const get: RouteHandler<typeof routes.get, AppEnv> = async (c) => {
  const row = await ownDevice(c, c.req.valid("param").id);
  return c.json(ok("Push device retrieved", toPushTokenObject(row)), 200);
};

/** Writes a device's new state with the events its change implies. */
async function save(c: Context<AppEnv>, current: PushTokenRow, next: PushTokenRow) {
  const db = getDb(c.env);
  const meta = requestMeta(c);
  const now = next.updatedAt;
  if (!(PROVIDERS_BY_PLATFORM[next.platform] as readonly string[]).includes(next.provider)) {
    throw fieldError(
      "provider",
      `"${next.provider}" cannot deliver to ${next.platform}; use ${PROVIDERS_BY_PLATFORM[next.platform].join(" or ")}.`,
    );
  }
  await assertDeviceFree(db, next);
  const release =
    next.token !== current.token ? await releaseToken(db, meta, next.token, current.id, now) : [];
  const events: ReturnType<typeof addedEvent>[] = [];
  if (current.isActive && !next.isActive)
    events.push(removedEvent(db, meta, next, "deactivated", now));
  else if (
    next.isActive &&
    (!current.isActive || next.token !== current.token || next.platform !== current.platform)
  ) {
    events.push(addedEvent(db, meta, next, now));
  }
  await commit(() =>
    runBatch(db, [
      ...release,
      db
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
        .where(eq(pushTokens.id, current.id)),
      ...events,
    ]),
  );
  return toPushTokenObject(next);
}

export const put: RouteHandler<typeof routes.put, AppEnv> = async (c) => {
  const body = c.req.valid("json");
  const current = await ownDevice(c, c.req.valid("param").id);
  const next: PushTokenRow = {
    ...current,
    token: body.token,
    platform: body.platform,
    provider: body.provider ?? PROVIDERS_BY_PLATFORM[body.platform][0],
    deviceId: body.device_id ?? null,
    deviceName: body.device_name ?? null,
    isActive: true,
    updatedAt: new Date(),
  };
  return c.json(ok("Push device updated", await save(c, current, next)), 200);
};

export const patch: RouteHandler<typeof routes.patch, AppEnv> = async (c) => {
  const body = c.req.valid("json");
  const current = await ownDevice(c, c.req.valid("param").id);
  const next: PushTokenRow = {
    ...current,
    token: body.token ?? current.token,
    provider: body.provider ?? current.provider,
    deviceName: body.device_name === undefined ? current.deviceName : body.device_name,
    isActive: body.is_active ?? current.isActive,
    updatedAt: new Date(),
  };
  return c.json(ok("Push device updated", await save(c, current, next)), 200);
};

export const remove: RouteHandler<typeof routes.remove, AppEnv> = async (c) => {
  const current = await ownDevice(c, c.req.valid("param").id);
  const db = getDb(c.env);
  const now = new Date();
  await db.batch([
    db.delete(pushTokens).where(eq(pushTokens.id, current.id)),
    removedEvent(db, requestMeta(c), current, "deleted", now),
  ]);
  return c.json(ok("Push device removed", null), 200);
};

export const deactivateAll: RouteHandler<typeof routes.deactivateAll, AppEnv> = async (c) => {
  const db = getDb(c.env);
  const meta = requestMeta(c);
  const userId = c.get("auth").userId;
  const now = new Date();
  const active = await db
    .select()
    .from(pushTokens)
    .where(and(eq(pushTokens.userId, userId), eq(pushTokens.isActive, true)));
  const [first, ...events] = active.map((row) => removedEvent(db, meta, row, "deactivated", now));
  if (first) {
    await db.batch([
      db
        .update(pushTokens)
        .set({ isActive: false, updatedAt: now })
        .where(and(eq(pushTokens.userId, userId), eq(pushTokens.isActive, true))),
      first,
      ...events,
    ]);
  }
  return c.json(ok("Push devices deactivated", { deactivated: active.length }), 200);
};
