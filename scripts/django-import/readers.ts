/**
 * Rows out of the input files, one at a time (never a whole file in memory): `manage.py dumpdata`
 * JSON (an array of `{model, pk, fields}`), dumpdata JSON Lines (`--format jsonl`, one object a
 * line) and CSV exports with a header row (a table per file, NULL an unquoted empty field).
 */
import { createReadStream } from "node:fs";
import { open } from "node:fs/promises";
import { basename, extname } from "node:path";
import { type Duplex, pipeline } from "node:stream";
import { parse } from "csv-parse";
import { streamArray } from "stream-json/streamers/stream-array.js";
import { streamValues } from "stream-json/streamers/stream-values.js";

export type Format = "json" | "jsonl" | "csv";

export interface SourceRecord {
  /** The dumpdata model label (`users.user`), or the CSV file's name. */
  model: string;
  /** The dumpdata primary key (absent with --natural-primary); CSV keeps it among the fields. */
  pk: unknown;
  fields: Record<string, unknown>;
  /** `<file>:<n>`: the index in a JSON array, the line of JSON Lines and CSV (from 1). */
  source: string;
}

/** The model label of rows that are not dumpdata objects (reported among the ignored). */
const NOT_DUMPDATA = "(not a dumpdata object)";

/** By extension, else by the first character: `[` an array, `{` JSON Lines, anything else CSV. */
export async function formatOf(path: string): Promise<Format> {
  const extension = extname(path).toLowerCase();
  if (extension === ".csv" || extension === ".tsv") return "csv";
  if (extension === ".jsonl" || extension === ".ndjson") return "jsonl";
  const file = await open(path, "r");
  try {
    const { buffer, bytesRead } = await file.read(Buffer.alloc(4096), 0, 4096, 0);
    const first = buffer
      .subarray(0, bytesRead)
      .toString("utf8")
      .replace(/^\uFEFF/, "")
      .trimStart()[0];
    if (first === "[") return "json";
    if (first === "{") return "jsonl";
    return "csv";
  } finally {
    await file.close();
  }
}

/** The stream of parsed items, with errors of the file itself (missing, unreadable) included. */
function from(path: string, parser: Duplex): AsyncIterable<unknown> {
  return pipeline(createReadStream(path), parser, () => {});
}

function dumpdataRecord(value: unknown, source: string): SourceRecord {
  if (value && typeof value === "object" && !Array.isArray(value)) {
    const { model, pk, fields } = value as Record<string, unknown>;
    if (typeof model === "string" && fields && typeof fields === "object") {
      return { model, pk, fields: fields as Record<string, unknown>, source };
    }
  }
  return { model: NOT_DUMPDATA, pk: undefined, fields: {}, source };
}

async function* jsonRecords(path: string, label: string, lines: boolean) {
  // Numbers stay strings: a bigint primary key must not be rounded on the way.
  const parser = lines
    ? streamValues.withParserAsStream({ jsonStreaming: true, numberAsString: true })
    : streamArray.withParserAsStream({ numberAsString: true });
  for await (const item of from(path, parser)) {
    const { key, value } = item as { key: number; value: unknown };
    yield dumpdataRecord(value, `${label}:${lines ? key + 1 : key}`);
  }
}

async function* csvRecords(path: string, label: string) {
  const parser = parse({
    columns: true,
    info: true,
    bom: true,
    delimiter: extname(path).toLowerCase() === ".tsv" ? "\t" : ",",
    // SQLite and PostgreSQL write NULL as an empty field and an empty string as "".
    cast: (value, context) => (value === "" && !context.quoting ? null : value),
  });
  const model = basename(path);
  for await (const item of from(path, parser)) {
    const { record, info } = item as { record: Record<string, unknown>; info: { lines: number } };
    yield { model, pk: undefined, fields: record, source: `${label}:${info.lines}` };
  }
}

/** Every row of one input file, in file order. */
export function readRecords(path: string, label: string, format: Format) {
  return format === "csv" ? csvRecords(path, label) : jsonRecords(path, label, format === "jsonl");
}
