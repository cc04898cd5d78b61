/**
 * Text for people: aligned tables, key/value blocks, compact dates. Every cell is made safe for a
 * terminal first, since names, user agents and reasons are whatever someone else sent.
 */
import type { PageMeta } from "./client.ts";

/** A column: its header, the cell of a row, and the widest it may be (longer cells are cut). */
export type Column<T> = [header: string, cell: (row: T) => string, max?: number];

const DEFAULT_MAX = 40;

/**
 * One printable line: control characters (an escape sequence in a user's name could rewrite the
 * operator's screen) become "?", and line breaks and tabs spaces, so rows stay one line each.
 */
function clean(value: string): string {
  return value.replace(/[\t\n\r]/g, " ").replace(/\p{Cc}/gu, "?");
}

function cut(value: string, max: number): string {
  return value.length <= max ? value : `${value.slice(0, max - 1)}…`;
}

function table<T>(columns: Column<T>[], rows: T[]): string {
  const cells = rows.map((row) =>
    columns.map(([, cell, max]) => cut(clean(cell(row)), max ?? DEFAULT_MAX)),
  );
  const widths = columns.map(([header], i) =>
    Math.max(header.length, ...cells.map((line) => line[i]?.length ?? 0)),
  );
  return [columns.map(([header]) => header), ...cells]
    .map((line) =>
      line
        .map((cell, i) => cell.padEnd(widths[i] ?? 0))
        .join("  ")
        .trimEnd(),
    )
    .join("\n");
}

/** `key  value` lines, keys aligned. */
export function fields(entries: [string, string][]): string {
  const width = Math.max(...entries.map(([key]) => key.length));
  return entries.map(([key, value]) => `${key.padEnd(width)}  ${clean(value)}`).join("\n");
}

/** "2026-11-21 09:30:00" (UTC, as the service stores it), or "-". */
export function when(iso: string | null | undefined): string {
  return iso ? iso.replace("T", " ").replace(/\.\d+Z$|Z$/, "") : "-";
}

export function text(value: unknown): string {
  if (value === null || value === undefined || value === "") return "-";
  return typeof value === "string" ? value : JSON.stringify(value);
}

export const yesNo = (value: boolean) => (value ? "yes" : "no");

/**
 * A listing: its table (or "No <things>."), then where in the pages it is. `things` is the
 * plural; a count of one drops its final "s".
 */
export function listing<T>(
  columns: Column<T>[],
  rows: T[],
  meta: PageMeta | undefined,
  things: string,
) {
  if (rows.length === 0) {
    const elsewhere = meta && meta.total > 0 ? ` on page ${meta.page} (${meta.total} in all)` : "";
    return `No ${things}${elsewhere}.`;
  }
  if (!meta) return table(columns, rows);
  const noun = meta.total === 1 ? things.replace(/s$/, "") : things;
  const more = meta.has_next ? `; --page ${meta.page + 1} for more` : "";
  return `${table(columns, rows)}\n\n${meta.total} ${noun}, page ${meta.page} of ${meta.total_pages}${more}`;
}
