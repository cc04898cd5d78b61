/**
 * Structured logs: one JSON object per line, which Workers Logs indexes field by field. Callers
 * pass only what is safe to keep — never a password, token, hash or request body.
 */
export type LogLevel = "debug" | "info" | "warn" | "error";

export function log(level: LogLevel, msg: string, fields: Record<string, unknown> = {}): void {
  const line = JSON.stringify({ level, msg, time: new Date().toISOString(), ...fields });
  if (level === "error") console.error(line);
  else if (level === "warn") console.warn(line);
  else console.log(line);
}

/**
 * A loggable description of an error: its innermost cause only. drizzle wraps a failed query in an
 * error whose message holds the SQL and its parameters (emails, token hashes), which must not
 * reach the logs; the driver's own error below it says what went wrong.
 */
export function errorDetail(err: unknown): string {
  let current = err;
  while (current instanceof Error && current.cause !== undefined) current = current.cause;
  return current instanceof Error ? `${current.name}: ${current.message}` : String(current);
}
