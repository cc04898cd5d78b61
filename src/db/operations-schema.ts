/**
 * What operators look at and act on (README: Admin console): the push requests that ended in the
 * dead-letter queue, kept with their original message so an admin can send them again.
 */
import { index, integer, sqliteTable, text } from "drizzle-orm/sqlite-core";

const timestamp = (name: string) => integer(name, { mode: "timestamp_ms" });

export const deadLetters = sqliteTable(
  "dead_letters",
  {
    /** The dead-letter queue message's id: a redelivery of the same message is the same row. */
    id: text("id").primaryKey(),
    /** The queue the message was meant for (where a re-drive sends it). */
    queue: text("queue").notNull(),
    notificationId: text("notification_id").notNull(),
    userId: text("user_id"),
    reason: text("reason").notNull(),
    /** The original message; null when it was too large to keep (it cannot be re-driven). */
    message: text("message", { mode: "json" }).$type<unknown>(),
    failedAt: timestamp("failed_at").notNull(),
    redrivenAt: timestamp("redriven_at"),
    redrivenBy: text("redriven_by"),
  },
  (t) => [
    index("dead_letters_failed_at_idx").on(t.failedAt),
    index("dead_letters_redriven_idx").on(t.redrivenAt),
  ],
);

export type DeadLetterRow = typeof deadLetters.$inferSelect;
