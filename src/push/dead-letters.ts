/**
 * Dead letters of push requests, kept for operators (README: Admin console): the dead-letter
 * consumer records each one with its original message, an admin lists them and re-drives one back
 * to `push-requests`, where it is handled like any request (and deduplicated like one).
 */
import { and, count, desc, eq, isNotNull, isNull } from "drizzle-orm";
import type { Scope } from "../app-env";
import { auditEntry } from "../audit/audit-log";
import type { Db } from "../db/client";
import { type DeadLetterRow, deadLetters } from "../db/operations-schema";
import { ApiError } from "../errors";
import { errorDetail, log } from "../logging";

const QUEUE = "push-requests";

/** Records a dead letter; the same queue message seen again is the same row. */
export function keepDeadLetter(
  db: Db,
  letter: {
    id: string;
    notificationId: string;
    userId: string | null;
    reason: string;
    message: unknown;
    failedAt: Date;
  },
) {
  return db
    .insert(deadLetters)
    .values({ ...letter, queue: QUEUE, reason: letter.reason.slice(0, 2000) })
    .onConflictDoNothing();
}

function toDeadLetterObject(row: DeadLetterRow) {
  return {
    id: row.id,
    queue: row.queue,
    notification_id: row.notificationId,
    user_id: row.userId,
    reason: row.reason,
    message: row.message ?? null,
    can_redrive: row.message !== null && row.message !== undefined,
    failed_at: row.failedAt.toISOString(),
    redriven_at: row.redrivenAt?.toISOString() ?? null,
    redriven_by: row.redrivenBy,
  };
}

export async function listDeadLetters(
  db: Db,
  filter: { state?: "pending" | "redriven" | undefined },
  page: { page: number; limit: number },
) {
  const where =
    filter.state === "pending"
      ? isNull(deadLetters.redrivenAt)
      : filter.state === "redriven"
        ? isNotNull(deadLetters.redrivenAt)
        : undefined;
  const [rows, [total]] = await db.batch([
    db
      .select()
      .from(deadLetters)
      .where(where)
      .orderBy(desc(deadLetters.failedAt), desc(deadLetters.id))
      .limit(page.limit)
      .offset((page.page - 1) * page.limit),
    db.select({ n: count() }).from(deadLetters).where(where),
  ]);
  return { rows: rows.map(toDeadLetterObject), total: total?.n ?? 0 };
}

/**
 * Sends a dead letter's original message back to `push-requests`, once: the row is claimed first
 * (a second re-drive is 409), and released again if the queue refuses the message.
 */
export async function redriveDeadLetter(scope: Scope, queue: Queue, id: string, adminId: string) {
  const { db, meta } = scope;
  const [row] = await db.select().from(deadLetters).where(eq(deadLetters.id, id)).limit(1);
  if (!row) throw new ApiError("not_found", "Dead letter not found");
  if (row.message === null || row.message === undefined) {
    throw new ApiError(
      "conflict",
      "The original message was too large to keep; it cannot be re-driven",
    );
  }
  const now = new Date();
  const [claimed] = await db
    .update(deadLetters)
    .set({ redrivenAt: now, redrivenBy: adminId })
    .where(and(eq(deadLetters.id, id), isNull(deadLetters.redrivenAt)))
    .returning();
  if (!claimed) throw new ApiError("conflict", "This dead letter was re-driven already");
  try {
    await queue.send(row.message, { contentType: "json" });
  } catch (err) {
    log("error", "dead_letter_redrive_failed", { dead_letter: id, detail: errorDetail(err) });
    await db
      .update(deadLetters)
      .set({ redrivenAt: null, redrivenBy: null })
      .where(eq(deadLetters.id, id));
    throw new ApiError("service_unavailable", "The queue did not take the message; try again");
  }
  await auditEntry(db, meta, {
    userId: row.userId,
    action: "dead_letter_redriven",
    metadata: { dead_letter: id, notification_id: row.notificationId, by: adminId },
    at: now,
  });
  return toDeadLetterObject(claimed);
}
