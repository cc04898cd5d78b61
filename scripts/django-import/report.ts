/**
 * The report file (every result, written as it arrives so a million results are never held), the
 * running counts, the progress line on stderr, and what the summary lists (refusals and warnings,
 * up to a bound: past it, the file has them all).
 */
import { createWriteStream, type WriteStream } from "node:fs";
import { finished } from "node:stream/promises";

export type Status = "created" | "updated" | "unchanged" | "refused";
/** With --out nothing is sent: a user is "written" (or refused here). */
type Outcome = Status | "written";

export interface ResultEntry {
  status: Outcome;
  id: string | null;
  legacy_id: number | null;
  email: string | null;
  source: string;
  reason?: string;
  warnings?: string[];
  /** The call it was sent in (from 1) and its index there; absent when refused here. */
  batch?: number;
  index?: number;
  /** Refused by the command before sending: it could never import. */
  local?: true;
}

/** At most this many refusals and warnings are kept for the summary; the report has all. */
const LISTED = 1000;

export class Report {
  readonly counts = {
    /** User rows read. */
    read: 0,
    /** Users sent (or written with --out). */
    sent: 0,
    calls: 0,
    created: 0,
    updated: 0,
    unchanged: 0,
    refused: 0,
    refused_here: 0,
    written: 0,
  };
  readonly retries = { rate_limited: 0, server_error: 0, network: 0, in_progress: 0 };
  readonly refusals: ResultEntry[] = [];
  readonly warnings: { source: string; email: string | null; warning: string }[] = [];
  /** Warnings by kind (digits folded), with their counts. */
  readonly warningKinds = new Map<string, number>();
  private readonly file: WriteStream;
  private first = true;
  readonly path: string;

  constructor(path: string, header: Record<string, unknown>) {
    this.path = path;
    this.file = createWriteStream(path, { mode: 0o600 });
    const head = JSON.stringify({ tool: "import-django", ...header }, null, 2);
    this.file.write(`${head.slice(0, -2)},\n  "results": [\n`);
  }

  add(entry: ResultEntry): void {
    if (entry.status === "refused") {
      if (entry.local) this.counts.refused_here++;
      if (this.refusals.length < LISTED) this.refusals.push(entry);
    }
    this.counts[entry.status]++;
    for (const warning of entry.warnings ?? []) {
      const kind = warning.replace(/\d+/g, "N");
      this.warningKinds.set(kind, (this.warningKinds.get(kind) ?? 0) + 1);
      if (this.warnings.length < LISTED) {
        this.warnings.push({ source: entry.source, email: entry.email, warning });
      }
    }
    this.file.write(`${this.first ? "" : ",\n"}    ${JSON.stringify(entry)}`);
    this.first = false;
  }

  /** Ends the results and writes the rest (totals, models, timings, whether it finished). */
  async close(footer: Record<string, unknown>): Promise<void> {
    const tail = JSON.stringify({ totals: this.counts, retries: this.retries, ...footer }, null, 2);
    this.file.end(`\n  ],\n${tail.slice(2)}\n`);
    await finished(this.file);
  }
}

/** A line on stderr every second while it runs: users read, sent, the outcomes so far, the rate. */
export function startProgress(report: Report, label: string, writing: boolean): () => void {
  const started = performance.now();
  const tty = process.stderr.isTTY;
  const line = () => {
    const c = report.counts;
    const seconds = (performance.now() - started) / 1000;
    const done = c.created + c.updated + c.unchanged + c.written + c.refused - c.refused_here;
    const rate = seconds > 0 ? Math.round(done / seconds) : 0;
    const outcomes = writing
      ? `written ${c.written}`
      : `sent ${c.sent} · created ${c.created} updated ${c.updated} unchanged ${c.unchanged}`;
    const text = `${label}: read ${c.read} · ${outcomes} refused ${c.refused} · ${rate} users/s`;
    process.stderr.write(tty ? `\r\u001b[2K${text}` : `${text}\n`);
  };
  const timer = setInterval(line, 1000);
  timer.unref();
  return () => {
    clearInterval(timer);
    line();
    if (tty) process.stderr.write("\n");
  };
}
