import type { RouteHandler } from "@hono/zod-openapi";
import { and, eq } from "drizzle-orm";
import type { Context } from "hono";
import type { AppEnv } from "../../app-env";
import { getDb } from "../../db/client";
import { preferences, users } from "../../db/schema";
import { ApiError, fieldError } from "../../errors";
import { outboxEvent } from "../../events/outbox";
import { requestMeta } from "../../middleware/request-context";
import { ok } from "../openapi";
import { readPreferences, writePreferencesCache } from "./preferences.cache";
import type * as routes from "./preferences.routes";
import {
  PREFERENCE_DEFAULTS,
  type PreferencesInput,
  preferenceColumns,
  quietHoursIssue,
  toPreferencesObject,
} from "./preferences.schemas";

export const get: RouteHandler<typeof routes.get, AppEnv> = async (c) => {
  const userId = c.get("auth").userId;
  const value = await readPreferences(c.env.KV, getDb(c.env), userId);
  if (!value) throw new ApiError("invalid_token", "User not found or inactive");
  return c.json(ok("Preferences retrieved", value), 200);
};

/**
 * Applies a preferences change: PUT (`replace`) resets what it does not send to the defaults,
 * PATCH keeps it. The row, its event and (after the commit) the cache are written together.
 */
async function update(c: Context<AppEnv>, input: PreferencesInput, replace: boolean) {
  const db = getDb(c.env);
  const userId = c.get("auth").userId;
  const now = new Date();
  const [found] = await db
    .select({ row: preferences })
    .from(preferences)
    .innerJoin(users, eq(users.id, preferences.userId))
    .where(and(eq(preferences.userId, userId), eq(users.isActive, true)))
    .limit(1);
  if (!found) throw new ApiError("invalid_token", "User not found or inactive");

  const current = toPreferencesObject(found.row);
  const next = { ...(replace ? PREFERENCE_DEFAULTS : current), ...input };
  const issue = quietHoursIssue(next.quiet_hours_start, next.quiet_hours_end);
  if (issue) throw fieldError(issue.field, issue.message);

  const changed = (Object.keys(PREFERENCE_DEFAULTS) as (keyof typeof PREFERENCE_DEFAULTS)[]).filter(
    (key) => next[key] !== current[key],
  );
  if (changed.length === 0) return current;

  const after = { ...next, updated_at: now.toISOString() };
  const [[row]] = await db.batch([
    db
      .update(preferences)
      // PATCH writes only what it was sent, so concurrent updates of other fields survive.
      .set({ ...preferenceColumns(replace ? next : input), updatedAt: now })
      .where(eq(preferences.userId, userId))
      .returning(),
    outboxEvent(
      db,
      requestMeta(c),
      "preferences.updated",
      { user_id: userId, changed, preferences: after },
      now,
    ),
  ]);
  if (!row) throw new ApiError("invalid_token", "User not found or inactive");
  await writePreferencesCache(c.env.KV, userId, row);
  return toPreferencesObject(row);
}

export const put: RouteHandler<typeof routes.put, AppEnv> = async (c) => {
  return c.json(ok("Preferences updated", await update(c, c.req.valid("json"), true)), 200);
};

export const patch: RouteHandler<typeof routes.patch, AppEnv> = async (c) => {
  return c.json(ok("Preferences updated", await update(c, c.req.valid("json"), false)), 200);
};
