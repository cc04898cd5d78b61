/**
 * Recognising constraint violations in D1 errors, so a race between a check and an insert still
 * ends in a clean 409 instead of a 500.
 */

/** The unique constraint (table.column or index name) a D1 error reports, or null. */
export function uniqueViolation(err: unknown): string | null {
  for (let e: unknown = err; e instanceof Error; e = e.cause) {
    const match = /UNIQUE constraint failed: (?:index '([\w.]+)'|([\w.]+))/.exec(e.message);
    if (match) return match[1] ?? match[2] ?? null;
  }
  return null;
}

/** The column (table.column) whose NOT NULL constraint a D1 error reports, or null. */
export function notNullViolation(err: unknown): string | null {
  for (let e: unknown = err; e instanceof Error; e = e.cause) {
    const match = /NOT NULL constraint failed: ([\w.]+)/.exec(e.message);
    if (match?.[1]) return match[1];
  }
  return null;
}
