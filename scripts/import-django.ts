/**
 * `npm run import:django -- <files…> [--url …] [--service-key … | --token …] [--dry-run] …`
 *
 * Moves users from a Django service into this one through the import API (POST
 * /api/v1/admin/users/import/): dumpdata JSON / JSON Lines and CSV exports, streamed in two passes
 * (related rows first, kept compactly; then the users, in batches of at most 50 and under 60 KiB,
 * a few calls in flight). Progress on stderr, a summary on stdout, every result in the report
 * file. `--help` for the flags and the --map format; the modules are in scripts/django-import/.
 */
import { randomUUID } from "node:crypto";
import { once } from "node:events";
import { createWriteStream, type WriteStream } from "node:fs";
import { type Batch, Batcher, Dispatcher } from "./django-import/batches.ts";
import { ImportFailed, sendBatch } from "./django-import/client.ts";
import {
  HELP,
  MAX_BODY_BYTES,
  type Options,
  parseOptions,
  UsageError,
} from "./django-import/options.ts";
import { collectRelated, type Input, Models, sendUsers } from "./django-import/passes.ts";
import { formatOf } from "./django-import/readers.ts";
import { Report, startProgress } from "./django-import/report.ts";
import { summary } from "./django-import/summary.ts";

function usage(message: string): never {
  console.error(`${message}\n\nRun with --help for the usage.`);
  process.exit(2);
}

interface Sender {
  send: (batch: Batch) => Promise<void>;
  close: () => Promise<void>;
}

/** --out: each call's body as one JSON line, to a file (owner-only: it holds hashes) or stdout. */
function writer(path: string, report: Report): Sender {
  const out: WriteStream | NodeJS.WriteStream =
    path === "-" ? process.stdout : createWriteStream(path, { mode: 0o600 });
  return {
    send: async (batch) => {
      report.counts.calls++;
      if (!out.write(`${batch.body}\n`)) await once(out, "drain");
      batch.users.forEach(({ warnings, ...user }, index) => {
        report.add({
          status: "written",
          ...user,
          ...(warnings.length > 0 ? { warnings } : {}),
          batch: batch.number,
          index,
        });
      });
    },
    close: async () => {
      if (out === process.stdout) return;
      out.end();
      await once(out, "finish");
    },
  };
}

/** What each call does with a batch: POST it, or (--out) write it. */
function sender(options: Options, report: Report): Sender {
  if (options.out !== null) return writer(options.out, report);
  const run = randomUUID();
  const send = async (batch: Batch) => {
    const results = await sendBatch({
      url: options.url,
      auth: options.auth,
      body: batch.body,
      idempotencyKey: `import-django-${run}-${batch.number}`,
      retries: options.retries,
      report,
    });
    report.counts.calls++;
    const byIndex = new Map(results.map((result) => [result.index, result]));
    batch.users.forEach((sent, index) => {
      const result = byIndex.get(index);
      const warnings = [...(result?.warnings ?? []), ...sent.warnings];
      report.add({
        status: result?.status ?? "refused",
        id: result?.id ?? sent.id,
        legacy_id: result?.legacy_id ?? sent.legacy_id,
        email: result?.email ?? sent.email,
        source: result?.source ?? sent.source,
        ...(result ? (result.reason ? { reason: result.reason } : {}) : { reason: "no result" }),
        ...(warnings.length > 0 ? { warnings } : {}),
        batch: batch.number,
        index,
      });
    });
  };
  return { send, close: async () => {} };
}

/** The JavaScript heap in use after a full collection when exposed (--expose-gc), else as is. */
function heapMiB(): number {
  (globalThis as { gc?: () => void }).gc?.();
  return Math.round(process.memoryUsage().heapUsed / 2 ** 20);
}

function requestSuffix(options: Options): string {
  return `,"update":${JSON.stringify(options.update)},"send_verification":${options.sendVerification},"dry_run":${options.dryRun}`;
}

/** Ctrl-C once: stop reading, finish the calls in flight, write the report. Twice: quit now. */
function onInterrupt(): () => boolean {
  let interrupted = false;
  process.on("SIGINT", () => {
    if (interrupted) process.exit(1);
    interrupted = true;
    console.error("\nInterrupted: finishing the calls in flight (Ctrl-C again to quit now).");
  });
  return () => interrupted;
}

interface Run {
  inputs: Input[];
  models: Models;
  batcher: Batcher;
  dispatcher: Dispatcher;
  report: Report;
  stop: () => boolean;
}

/** Both passes; what went wrong (null when nothing), the related rows left over, timings. */
async function runPasses({ inputs, models, batcher, dispatcher, report, stop }: Run) {
  const started = performance.now();
  const outcome = {
    failure: null as string | null,
    leftOver: { preferences: 0, devices: 0, profiles: 0 },
    timings: { related_ms: 0, users_ms: 0 },
    memory: { held_after_pass_1_mib: 0, peak_rss_mib: 0 },
  };
  try {
    const { related, withUsers } = await collectRelated(inputs, models, stop);
    outcome.timings.related_ms = Math.round(performance.now() - started);
    outcome.memory.held_after_pass_1_mib = heapMiB();
    await sendUsers(withUsers, models, related, batcher, report, stop);
    await dispatcher.drain();
    outcome.timings.users_ms = Math.round(performance.now() - started) - outcome.timings.related_ms;
    // Only a whole run says which related rows no user took; a stopped one never read them all.
    if (!stop()) outcome.leftOver = related.leftOver();
  } catch (err) {
    outcome.failure =
      err instanceof ImportFailed ? err.message : String((err as Error).stack ?? err);
    await dispatcher.drain();
  }
  outcome.memory.peak_rss_mib = Math.round(process.resourceUsage().maxRSS / 1024);
  return outcome;
}

function startReport(options: Options, inputs: Input[]): Report {
  return new Report(options.report, {
    started_at: new Date().toISOString(),
    url: options.out === null ? options.url : null,
    out: options.out,
    dry_run: options.dryRun,
    update: options.update,
    send_verification: options.sendVerification,
    inputs,
  });
}

async function main(options: Options): Promise<number> {
  const started = performance.now();
  const inputs: Input[] = [];
  for (const path of options.files) inputs.push({ path, format: await formatOf(path) });
  const interrupted = onInterrupt();
  const report = startReport(options, inputs);
  const output = sender(options, report);
  const dispatcher = new Dispatcher(options.concurrency, output.send);
  const stop = () => interrupted() || dispatcher.failure !== null;
  const models = new Models(options.map);
  const batcher = new Batcher(
    { users: options.batchSize, bytes: MAX_BODY_BYTES },
    requestSuffix(options),
    async (batch) => {
      report.counts.sent += batch.users.length;
      await dispatcher.submit(batch);
    },
  );
  const label = options.out !== null ? "--out" : options.dryRun ? "import (dry run)" : "import";
  const endProgress = startProgress(report, label, options.out !== null);
  const outcome = await runPasses({ inputs, models, batcher, dispatcher, report, stop });
  await output.close();
  endProgress();
  const { leftOver, timings, memory } = outcome;
  const failure =
    outcome.failure ?? dispatcher.failure?.message ?? (interrupted() ? "interrupted" : null);

  await report.close({
    finished: failure === null,
    error: failure,
    finished_at: new Date().toISOString(),
    timings,
    memory,
    models: models.list().map(({ file, rows, plan: { notCarried, ...plan } }) => ({
      file,
      rows,
      ...plan,
      not_carried: notCarried,
    })),
    related_rows_without_user: leftOver,
  });
  const seconds = (performance.now() - started) / 1000;
  const text = summary({ ...options, models: models.list(), report, leftOver, failure, seconds });
  // With --print the request bodies own stdout; the summary goes to stderr then.
  (options.out === "-" ? console.error : console.log)(text);
  return failure === null ? 0 : 1;
}

let options: Options | null;
try {
  options = parseOptions(process.argv.slice(2));
} catch (err) {
  if (err instanceof UsageError) usage(err.message);
  throw err;
}
if (options === null) {
  console.log(HELP);
} else {
  process.exitCode = await main(options);
}
