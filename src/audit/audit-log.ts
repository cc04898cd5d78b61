/**
 * The audit trail (DESIGN §4): security-relevant actions with who, from where and when. Entries are
 * written in the same batch as the change they describe; metadata never holds secrets.
 */
import type { Db } from "../db/client";
import { auditLog } from "../db/schema";

export const AUDIT_ACTIONS = [
  "register",
  "login_success",
  "login_failure",
  "logout",
  "refresh_token_reused",
  "profile_updated",
  "email_changed",
  "account_deactivated",
] as const;

export type AuditAction = (typeof AUDIT_ACTIONS)[number];

/** Where a request came from, as recorded in audit rows, sessions and events. */
export interface RequestMeta {
  ip: string | null;
  userAgent: string | null;
  correlationId: string;
}

export function auditEntry(
  db: Db,
  meta: RequestMeta,
  entry: {
    userId: string | null;
    action: AuditAction;
    metadata?: Record<string, unknown>;
    at: Date;
  },
) {
  return db.insert(auditLog).values({
    id: crypto.randomUUID(),
    userId: entry.userId,
    action: entry.action,
    ip: meta.ip,
    userAgent: meta.userAgent,
    metadata: entry.metadata ?? null,
    createdAt: entry.at,
  });
}
