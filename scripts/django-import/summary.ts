/**
 * The summary printed at the end: what each model was taken for (and which of its columns were
 * not carried), the counts, each refusal with its row and reason, the warnings, related rows no
 * user took, and where the full report is.
 */
import { basename } from "node:path";
import type { ModelSeen } from "./passes.ts";
import type { Report } from "./report.ts";

/** Refusals and warnings listed one by one in the summary; past this, counts and the report. */
const SHOWN = 200;

function columns(plan: ModelSeen["plan"]): string {
  const taken = Object.entries({ ...plan.columns, ...plan.preferences })
    .filter(([ours, theirs]) => ours !== theirs || plan.mapped)
    .map(([ours, theirs]) => `${theirs} → ${ours}`);
  const parts = [];
  if (taken.length > 0) parts.push(`renamed: ${taken.join(", ")}`);
  if (Object.keys(plan.preferences).length > 0) {
    parts.push(`preferences: ${Object.keys(plan.preferences).join(", ")}`);
  }
  if (plan.notCarried.length > 0) parts.push(`not carried: ${plan.notCarried.join(", ")}`);
  return parts.length > 0 ? `\n      ${parts.join("\n      ")}` : "";
}

function modelLines(models: ModelSeen[]): string[] {
  return models.map(({ file, plan, rows }) => {
    const role = plan.role === "ignore" ? "ignored" : plan.role;
    const how = plan.mapped ? " (--map)" : "";
    const detail = plan.role === "ignore" ? "" : columns(plan);
    const where = plan.model === basename(file) ? file : `${plan.model} in ${file}`;
    return `  ${where}: ${role}${how}, ${rows} ${rows === 1 ? "row" : "rows"}${detail}`;
  });
}

function listed<T>(title: string, items: T[], total: number, line: (item: T) => string) {
  if (total === 0) return [];
  const lines = [`${title} (${total}):`, ...items.slice(0, SHOWN).map((item) => `  ${line(item)}`)];
  if (total > SHOWN) lines.push(`  … and ${total - SHOWN} more in the report`);
  return lines;
}

export interface SummaryFacts {
  models: ModelSeen[];
  report: Report;
  dryRun: boolean;
  out: string | null;
  url: string;
  leftOver: { preferences: number; devices: number; profiles: number };
  failure: string | null;
  seconds: number;
}

export function summary(facts: SummaryFacts): string {
  const { report, dryRun, out, leftOver } = facts;
  const c = report.counts;
  const where = out ? `written to ${out === "-" ? "stdout" : out}` : `sent to ${facts.url}`;
  const would = dryRun ? " (dry run: nothing written)" : "";
  const lines = ["Models:", ...modelLines(facts.models), ""];
  lines.push(
    `Users: ${c.read} read, ${c.sent} ${where} in ${c.calls} calls${would}, ${facts.seconds.toFixed(1)} s`,
  );
  if (out) lines.push(`  written    ${c.written}`);
  if (!out) {
    const verb = dryRun ? " (would be)" : "";
    lines.push(`  created    ${c.created}${verb}`, `  updated    ${c.updated}${verb}`);
    lines.push(`  unchanged  ${c.unchanged}`);
  }
  lines.push(
    `  refused    ${c.refused}${c.refused_here ? ` (${c.refused_here} before sending)` : ""}`,
  );
  const retried = Object.entries(report.retries).filter(([, n]) => n > 0);
  if (retried.length > 0) {
    lines.push(`  retried    ${retried.map(([why, n]) => `${n} × ${why}`).join(", ")}`);
  }
  lines.push(
    ...listed(
      "Refused",
      report.refusals,
      c.refused,
      (r) => `${r.source}  ${r.email ?? "(no e-mail)"}  ${r.reason ?? ""}`,
    ),
  );
  const warnings = [...report.warningKinds.values()].reduce((sum, n) => sum + n, 0);
  lines.push(
    ...listed(
      "Warnings",
      report.warnings,
      warnings,
      (w) => `${w.source}  ${w.email}  ${w.warning}`,
    ),
  );
  if (warnings > SHOWN) {
    lines.push("  by kind:", ...[...report.warningKinds].map(([kind, n]) => `    ${n} × ${kind}`));
  }
  const orphans = Object.entries(leftOver).filter(([, n]) => n > 0);
  if (orphans.length > 0) {
    lines.push(
      `Related rows no user in the input took: ${orphans.map(([k, n]) => `${n} ${k}`).join(", ")}`,
    );
  }
  if (facts.failure) lines.push(`NOT FINISHED: ${facts.failure}`);
  lines.push(`Report: ${report.path}`);
  return lines.join("\n");
}
