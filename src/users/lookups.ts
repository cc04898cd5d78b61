/**
 * A user by id or email, as other services ask for them — served over HTTP (service key) and
 * over Workers RPC (src/rpc/user-service.ts) by this one implementation, so both answer alike.
 */
import { eq } from "drizzle-orm";
import type { Db } from "../db/client";
import { users } from "../db/schema";
import { normalizeEmail } from "./identity";
import { selectUserWithPreferences, toUserObject, type UserObject } from "./user-object";

/** A user object by id (active or not), or null. */
export async function userById(db: Db, id: string): Promise<UserObject | null> {
  const [row] = await selectUserWithPreferences(db).where(eq(users.id, id)).limit(1);
  return row ? toUserObject(row) : null;
}

/** A user object by email (normalised like registration does), or null. */
export async function userByEmail(db: Db, email: string): Promise<UserObject | null> {
  const [row] = await selectUserWithPreferences(db)
    .where(eq(users.email, normalizeEmail(email)))
    .limit(1);
  return row ? toUserObject(row) : null;
}
