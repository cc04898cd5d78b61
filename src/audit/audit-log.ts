/**
 * The audit trail (DESIGN §4): security-relevant actions with who, from where and when. Entries are
 * written in the same batch as the change they describe; metadata never holds secrets.
 */
import type { Db } from "../db/client";
import { auditLog } from "../db/schema";

export const AUDIT_ACTIONS = [
  "register",
  "registration_duplicate",
  "login_success",
  "login_failure",
  "logout",
  "refresh_token_reused",
  "session_revoked",
  "profile_updated",
  "email_changed",
  "email_verification_requested",
  "email_verified",
  "password_changed",
  "password_reset_requested",
  "password_reset",
  "account_deactivated",
  "account_reactivated",
  "role_changed",
] as const;

export type AuditAction = (typeof AUDIT_ACTIONS)[number];

/** Where a request came from, as recorded in audit rows, sessions and events. */
export interface RequestMeta {
  ip: string | null;
  userAgent: string | null;
  correlationId: string;
  /** Ids of the outbox events this request writes, published after the response. */
  eventIds: string[];
}

export function auditEntry(
  db: Db,
  meta: RequestMeta,
  entry: {
    /**
     * Normally random. A one-time token's use passes the token's id: the primary key then makes a
     * second use of the same token fail its whole batch (see auth/one-time-tokens.ts).
     */
    id?: string;
    userId: string | null;
    action: AuditAction;
    metadata?: Record<string, unknown>;
    at: Date;
  },
) {
  return db.insert(auditLog).values({
    id: entry.id ?? crypto.randomUUID(),
    userId: entry.userId,
    action: entry.action,
    ip: meta.ip,
    userAgent: meta.userAgent,
    metadata: entry.metadata ?? null,
    createdAt: entry.at,
  });
}
