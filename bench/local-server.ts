/**
 * What every benchmark shares: a locally served Worker (`wrangler dev` with local D1, KV, Queues
 * and Durable Objects, migrations applied, in a state directory of its own), polling, a bounded
 * pool of concurrent tasks, and writing a section of bench/RESULTS.md.
 */
import { type ChildProcess, spawn, spawnSync } from "node:child_process";
import { existsSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { cpus, totalmem } from "node:os";
import { ensureDevVars } from "../scripts/dev-vars.ts";

const wrangler = "node_modules/.bin/wrangler";

export interface LocalServer {
  base: string;
  stop: () => Promise<void>;
  /**
   * CPU seconds used so far by the server's workerd processes (user + system, from /proc), or null
   * where /proc is not available. The difference across a run, divided by its requests, is the
   * Worker's CPU cost per request — steadier than latency on a machine the load generator shares.
   */
  cpuSeconds: () => number | null;
}

/** Sums utime + stime of the workerd processes in a process group (Linux /proc). */
function groupCpuSeconds(pgid: number): number | null {
  let entries: string[];
  try {
    entries = readdirSync("/proc").filter((name) => /^\d+$/.test(name));
  } catch {
    return null;
  }
  const ticksPerSecond = 100; // USER_HZ: 100 on every Linux architecture Node supports
  let ticks = 0;
  for (const pid of entries) {
    let stat: string;
    try {
      stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    } catch {
      continue; // the process ended meanwhile
    }
    // "pid (comm) state ppid pgrp …": comm may hold spaces, so split after its closing parenthesis.
    const comm = stat.slice(stat.indexOf("(") + 1, stat.lastIndexOf(")"));
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    if (comm !== "workerd" || Number(fields[2]) !== pgid) continue;
    ticks += Number(fields[11]) + Number(fields[12]);
  }
  return ticks / ticksPerSecond;
}

export async function waitFor(
  what: string,
  done: () => Promise<boolean> | boolean,
  timeoutMs = 300_000,
) {
  const started = performance.now();
  while (!(await done())) {
    if (performance.now() - started > timeoutMs) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
}

/** Runs `task(i)` for i in [0, n) with at most `concurrency` in flight. */
export async function pool(n: number, concurrency: number, task: (i: number) => Promise<void>) {
  let next = 0;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < n) await task(next++);
    }),
  );
}

/**
 * Starts `wrangler dev` on `port` with a fresh state directory and the given vars (e.g. a rate
 * limit switched off), and waits until /health answers.
 */
export async function startServer(
  port: number,
  state: string,
  vars: Record<string, string> = {},
): Promise<LocalServer> {
  await ensureDevVars();
  rmSync(state, { recursive: true, force: true });
  const migrate = spawnSync(
    wrangler,
    ["d1", "migrations", "apply", "DB", "--local", "--persist-to", state],
    { stdio: "ignore", env: { ...process.env, CI: "true" } },
  );
  if (migrate.status !== 0) throw new Error("migrations failed");
  const child: ChildProcess = spawn(
    wrangler,
    [
      "dev",
      "--port",
      String(port),
      "--persist-to",
      state,
      "--show-interactive-dev-session=false",
      "--log-level",
      "error",
      ...Object.entries(vars).flatMap(([name, value]) => ["--var", `${name}:${value}`]),
    ],
    { stdio: "ignore", detached: true },
  );
  const kill = () => {
    if (child.pid && child.exitCode === null) process.kill(-child.pid, "SIGTERM");
  };
  process.on("exit", kill);
  const base = `http://127.0.0.1:${port}`;
  await waitFor("the server", async () => {
    try {
      return (await fetch(`${base}/health`)).ok;
    } catch {
      return false;
    }
  });
  return {
    base,
    cpuSeconds: () => (child.pid ? groupCpuSeconds(child.pid) : null),
    stop: async () => {
      const exited = new Promise((resolve) => child.once("exit", resolve));
      kill();
      await exited;
    },
  };
}

/** "Date …; CPUs, memory; Node …" — the first line of every results section. */
export function machine(): string {
  const cpu = cpus();
  const date = new Date().toISOString().slice(0, 10);
  return `Date ${date}; ${cpu.length} × ${cpu[0]?.model ?? "unknown CPU"}, ${Math.round(totalmem() / 2 ** 30)} GiB;
Node ${process.version}`;
}

/** Replaces (or appends) the section starting with `## <title>` in bench/RESULTS.md. */
export function writeSection(title: string, section: string) {
  const path = "bench/RESULTS.md";
  const header =
    "# Benchmark results\n\nMeasured, never asserted: each section says how it was produced.\n\n";
  const existing = existsSync(path) ? readFileSync(path, "utf8") : header;
  const escaped = title.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
  const pattern = new RegExp(`## ${escaped}\\n[\\s\\S]*?(?=\\n## |$)`);
  const updated = pattern.test(existing)
    ? existing.replace(pattern, section.trimEnd())
    : `${existing.trimEnd()}\n\n${section.trimEnd()}`;
  writeFileSync(path, `${updated.trimEnd()}\n`);
}
