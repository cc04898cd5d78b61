/**
 * One JSON object per line on stdout, per thing that happens — the shape the Worker logs in
 * (src/logging.ts): `level`, `msg`, `time`, then the fields. Never a secret or a message body.
 */
type Level = "info" | "warn" | "error";
type Fields = Record<string, unknown>;

export function log(level: Level, msg: string, fields: Fields = {}): void {
  process.stdout.write(
    `${JSON.stringify({ level, msg, time: new Date().toISOString(), ...fields })}\n`,
  );
}

/** A log whose every line names its side (`side: "in"` / `"out"`): both run in one process. */
export function logFor(side: "in" | "out") {
  return (level: Level, msg: string, fields: Fields = {}) => log(level, msg, { side, ...fields });
}

/** An error as one loggable string. */
export function errorText(err: unknown): string {
  return err instanceof Error ? `${err.name}: ${err.message}` : String(err);
}
