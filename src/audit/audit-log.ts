/**
 * The audit trail (DESIGN §4): security-relevant actions with who, from where and when. Entries are
 * written in the same batch as the change they describe; metadata never holds secrets.
 */
import { count, desc, eq } from "drizzle-orm";
import type { RequestMeta } from "../app-env";
import type { Db } from "../db/client";
import { auditLog } from "../db/schema";

const AUDIT_ACTIONS = [
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
  "imported",
  "import_updated",
  "push_token_moved",
  "reauthentication_failure",
  "webhook_created",
  "webhook_updated",
  "webhook_deleted",
  "webhook_redelivered",
  "webhook_disabled",
  "reauthenticated",
  "login_mfa_required",
  "mfa_factor_added",
  "mfa_factor_removed",
  "mfa_recovery_codes_replaced",
  "mfa_failure",
  "mfa_step_up",
  "mfa_reset",
  "dead_letter_redriven",
  "sessions_ended_by_admin",
  "email_code_requested",
  "email_code_failure",
  "identity_linked",
  "identity_unlinked",
  "oauth_failure",
  "address_claimed",
  "identity_link_confirmed",
] as const;

export type AuditAction = (typeof AUDIT_ACTIONS)[number];

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

/** A page of a user's audit entries, newest first, as the API shows them. */
export async function listAuditEntries(
  db: Db,
  userId: string,
  page: { page: number; limit: number },
) {
  const [rows, [total]] = await db.batch([
    db
      .select()
      .from(auditLog)
      .where(eq(auditLog.userId, userId))
      .orderBy(desc(auditLog.createdAt), desc(auditLog.id))
      .limit(page.limit)
      .offset((page.page - 1) * page.limit),
    db.select({ n: count() }).from(auditLog).where(eq(auditLog.userId, userId)),
  ]);
  const entries = rows.map((row) => ({
    id: row.id,
    action: row.action,
    ip: row.ip,
    user_agent: row.userAgent,
    metadata: row.metadata,
    created_at: row.createdAt.toISOString(),
  }));
  return { entries, total: total?.n ?? 0 };
}
