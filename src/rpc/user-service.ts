/**
 * Workers RPC for other Workers (DESIGN §6a): the calls the replaced services offered over gRPC.
 * A caller binds it with
 *   services = [{ binding = "USERS", service = "user-service", entrypoint = "UserService" }]
 * and the binding itself is the credential, so there is no service key here. Every method is the
 * same implementation as its HTTP route (src/users/lookups.ts, src/sessions/validation.ts,
 * src/push/targets.ts): a revoked session is refused alike.
 */
import { WorkerEntrypoint } from "cloudflare:workers";
import { z } from "zod";
import { getConfig } from "../config";
import { getDb } from "../db/client";
import { type NotificationTargets, notificationTargets } from "../push/targets";
import { type TokenValidation, validateAccessToken } from "../sessions/validation";
import { userIdByLegacyId } from "../users/import";
import { userByEmail, userById } from "../users/lookups";
import type { UserObject } from "../users/user-object";

const uuid = z.uuid();

export class UserService extends WorkerEntrypoint<Env> {
  /** The user object, or null for an unknown (or malformed) id. */
  async getUser(id: string): Promise<UserObject | null> {
    if (!uuid.safeParse(id).success) return null;
    return userById(getDb(this.env), id);
  }

  /** The user object of a user imported with this integer Django id (`legacy_id`), or null. */
  async getUserByLegacyId(legacyId: number): Promise<UserObject | null> {
    if (!Number.isSafeInteger(legacyId) || legacyId < 1) return null;
    const db = getDb(this.env);
    const id = await userIdByLegacyId(db, legacyId);
    return id ? userById(db, id) : null;
  }

  /** The user object for an email (trimmed, case-insensitive), or null. */
  async getUserByEmail(email: string): Promise<UserObject | null> {
    if (typeof email !== "string" || email.length > 254) return null;
    return userByEmail(getDb(this.env), email);
  }

  /** `{ valid: true, user_id, sid, email, role, expires_at, aal, amr, auth_time }` or `{ valid: false, reason }`. */
  async validateToken(token: string): Promise<TokenValidation> {
    if (typeof token !== "string" || token.length > 8192)
      return { valid: false, reason: "invalid" };
    return validateAccessToken(getDb(this.env), this.env.KV, getConfig(this.env), token);
  }

  /** Preferences plus active push devices (with their tokens), or null for an unknown user. */
  async getNotificationTargets(userId: string): Promise<NotificationTargets | null> {
    if (!uuid.safeParse(userId).success) return null;
    return notificationTargets(getDb(this.env), this.env.KV, userId);
  }
}
