/**
 * Exactly-once uses in one batch. A request that uses something up (a challenge, a code's time
 * step, a recovery code, a passkey's counter) marks it with its own random `claim`; the batch's
 * audit row is its guard: its `created_at` is computed in SQL and is NULL unless every mark is this
 * request's, so a use that lost a race fails its whole batch (D1 runs a batch as one transaction)
 * and writes nothing — no session, no token. The same pattern as one-time tokens
 * (src/auth/one-time-tokens.ts).
 */
import { and, type SQL, sql } from "drizzle-orm";
import type { AnySQLiteColumn, SQLiteTable } from "drizzle-orm/sqlite-core";
import type { RequestMeta } from "../app-env";
import type { AuditAction } from "../audit/audit-log";
import type { Db } from "../db/client";
import { notNullViolation } from "../db/errors";
import { auditLog } from "../db/schema";

/** A request's mark on what it uses up. */
export const newClaim = (): string => crypto.randomUUID();

/** A guard condition: the row of `table` whose `key` is `value` carries this request's `claim`. */
export const claimedBy = (
  table: SQLiteTable,
  key: AnySQLiteColumn,
  value: string,
  claimColumn: AnySQLiteColumn,
  claim: string,
): SQL =>
  sql`exists (select 1 from ${table} where ${key} = ${value} and ${claimColumn} = ${claim})`;

/** The audit row of the batch, written only if every `conditions` holds inside the batch. */
export function guardedAudit(
  db: Db,
  meta: RequestMeta,
  entry: { userId: string; action: AuditAction; metadata?: Record<string, unknown>; at: Date },
  conditions: SQL[],
) {
  return db.insert(auditLog).values({
    id: crypto.randomUUID(),
    userId: entry.userId,
    action: entry.action,
    ip: meta.ip,
    userAgent: meta.userAgent,
    metadata: entry.metadata ?? null,
    createdAt: sql`(select ${entry.at.getTime()} where ${and(...conditions)})`,
  });
}

/** Runs a guarded batch; false when its guard refused it (nothing was written). */
export async function committedUnlessLost(run: () => Promise<unknown>): Promise<boolean> {
  try {
    await run();
    return true;
  } catch (err) {
    if (notNullViolation(err) === "audit_log.created_at") return false;
    throw err;
  }
}
