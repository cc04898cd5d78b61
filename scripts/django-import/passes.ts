/**
 * The two passes over the inputs. The first keeps only what relates to users (RelatedRows); the
 * second streams the user rows, joins each with its related rows, refuses here what can never
 * import, and hands the rest to the batcher. Each model's plan is made once, from its first row.
 */
import { basename, extname } from "node:path";
import type { Batcher } from "./batches.ts";
import { ImportFailed } from "./client.ts";
import type { ModelMap } from "./options.ts";
import { type Format, readRecords, type SourceRecord } from "./readers.ts";
import { type Plan, planFor } from "./recognise.ts";
import { RelatedRows } from "./related.ts";
import type { Report } from "./report.ts";
import { buildUser } from "./users.ts";

export interface Input {
  path: string;
  format: Format;
}

export interface ModelSeen {
  file: string;
  plan: Plan;
  rows: number;
}

/** The plans of the models met so far, per file (two services may both have `users.user`). */
export class Models {
  private readonly seen = new Map<string, ModelSeen>();
  private readonly map: ModelMap;

  constructor(map: ModelMap) {
    this.map = map;
  }

  of(input: Input, record: SourceRecord): ModelSeen {
    const id = `${input.path}\u0000${record.model}`;
    let seen = this.seen.get(id);
    if (!seen) {
      const plan = planFor(record.model, record.fields, this.override(input, record.model));
      seen = { file: input.path, plan, rows: 0 };
      this.seen.set(id, seen);
    }
    return seen;
  }

  /** A --map entry by model label, or for CSV by file name (with or without extension) or path. */
  private override(input: Input, model: string) {
    const names =
      input.format === "csv"
        ? [basename(input.path), basename(input.path, extname(input.path)), input.path]
        : [model];
    for (const name of names) {
      const entry = this.map[name.toLowerCase()];
      if (entry) return entry;
    }
    return undefined;
  }

  list(): ModelSeen[] {
    return [...this.seen.values()];
  }
}

/** The rows of one input; a file that cannot be read or parsed stops the import, named. */
async function* rows(input: Input): AsyncGenerator<SourceRecord> {
  try {
    yield* readRecords(input.path, input.path, input.format);
  } catch (err) {
    throw new ImportFailed(`${input.path} (${input.format}): ${(err as Error).message}`);
  }
}

/** Whether to stop reading (an interrupt, or the server refused a call). */
export type ShouldStop = () => boolean;

/**
 * Pass 1: related rows into memory, compactly; user rows skipped (a CSV of users after its first
 * row). Returns the inputs that hold users, the only ones pass 2 reads again.
 */
export async function collectRelated(inputs: Input[], models: Models, stop: ShouldStop) {
  const related = new RelatedRows();
  const withUsers: Input[] = [];
  for (const input of inputs) {
    let hasUsers = false;
    for await (const record of rows(input)) {
      if (stop()) break;
      const seen = models.of(input, record);
      if (seen.plan.role === "user") {
        hasUsers = true;
        if (input.format === "csv") break;
        continue;
      }
      seen.rows++;
      if (seen.plan.role !== "ignore") related.add(record, seen.plan);
    }
    if (hasUsers) withUsers.push(input);
  }
  return { related, withUsers };
}

/** Pass 2: every user row, built, refused here or batched. */
export async function sendUsers(
  inputs: Input[],
  models: Models,
  related: RelatedRows,
  batcher: Batcher,
  report: Report,
  stop: ShouldStop,
) {
  for (const input of inputs) {
    for await (const record of rows(input)) {
      if (stop()) return;
      const seen = models.of(input, record);
      if (seen.plan.role !== "user") continue;
      seen.rows++;
      report.counts.read++;
      const built = buildUser(record, seen.plan, related);
      const reason =
        "refused" in built ? built.refused : await batcher.add(built.user, built.warnings);
      if (reason === null) continue;
      const user = "user" in built ? built.user : null;
      report.add({
        status: "refused",
        id: user?.id ?? null,
        legacy_id: user?.legacy_id ?? null,
        email: "refused" in built ? built.email : (user?.email ?? null),
        source: record.source,
        reason,
        local: true,
      });
    }
  }
  await batcher.flush();
}
