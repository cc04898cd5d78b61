/**
 * `npm run bench:import` — the Django import end to end: a generated `dumpdata` JSON of 100,000
 * users (BENCH_USERS to change it) with a preferences row each and a push device for one in five,
 * imported by the real CLI (`scripts/import-django.ts`, a child process) into the Worker served
 * locally as `npm start` serves it (`wrangler dev`, local D1, its own state directory, the rate
 * limits wrangler.toml configures), on loopback.
 *
 * Three runs of the CLI: `--out /dev/null` (reading, joining and batching alone: the CLI's own
 * ceiling), the import (every user created), and the same import again (every user unchanged).
 * For each: users per second and the CLI's peak memory (`/usr/bin/time -v`, else VmHWM sampled
 * from /proc). Prints a Markdown section for bench/RESULTS.md (written there with BENCH_WRITE=1).
 * BENCH_RERUN=0 skips the re-import; BENCH_TIMEOUT (seconds, default 3600) bounds each run.
 */
import { execSync, spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { once } from "node:events";
import {
  createWriteStream,
  existsSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  statSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { buildWasm } from "../src/auth/wasm/build.ts";
import { type LocalServer, startServer, writeSection } from "./local-server.ts";

const USERS = Number(process.env.BENCH_USERS ?? 100_000);
const PORT = Number(process.env.BENCH_PORT ?? 8796);
const TIMEOUT_S = Number(process.env.BENCH_TIMEOUT ?? 3600);
const RERUN = process.env.BENCH_RERUN !== "0";
const SERVICE_KEY = "dev-service-key";
const TIME = "/usr/bin/time";

const FIRST = ["Ada", "Grace", "Kwesi", "Zoë", "Amara", "Chen", "Tunde", "Adaeze", "Émile", "Noor"];
const LAST = [
  "Lovelace",
  "Hopper",
  "Appiah",
  "Ångström",
  "Nwosu",
  "Wei",
  "Bakare",
  "Okafor",
  "Zola",
];
const PLATFORMS = ["android", "ios", "web"];

/** Django's pbkdf2_sha256 format (never verified at import, so random bytes do). */
function djangoHash(): string {
  const salt = randomBytes(16).toString("base64").replace(/[+/=]/g, "").slice(0, 22);
  return `pbkdf2_sha256$870000$${salt}$${randomBytes(32).toString("base64")}`;
}

/** "Zoë" → "zoe": addresses stay ASCII (the usernames and names keep the accents). */
const ascii = (name: string) =>
  name
    .normalize("NFD")
    .replace(/[^\x20-\x7e]/g, "")
    .toLowerCase();

function userRow(pk: number) {
  const first = FIRST[pk % FIRST.length] ?? "";
  const last = LAST[pk % LAST.length] ?? "";
  const joined = new Date(Date.UTC(2020, 0, 1) + pk * 600_000).toISOString();
  return {
    model: "accounts.user",
    pk,
    fields: {
      password: djangoHash(),
      last_login: pk % 2 === 0 ? new Date(Date.UTC(2026, 10, 1) + pk * 1000).toISOString() : null,
      is_superuser: pk === 1,
      username: `${first.toLowerCase()}.${last.toLowerCase()}.${pk}`,
      first_name: first,
      last_name: last,
      email: `${ascii(first)}.${pk}@example.com`,
      is_staff: pk % 1000 === 0,
      is_active: pk % 100 !== 0,
      date_joined: joined,
      groups: [],
      user_permissions: [],
    },
  };
}

function relatedRows(pk: number) {
  const rows: unknown[] = [
    {
      model: "accounts.notificationpreference",
      pk,
      fields: {
        user: pk,
        email_notifications: pk % 7 !== 0,
        push_notifications: pk % 5 !== 0,
        marketing_emails: pk % 3 === 0,
      },
    },
  ];
  if (pk % 5 === 0) {
    rows.push({
      model: "accounts.pushdevice",
      pk,
      fields: {
        user: pk,
        token: randomBytes(60).toString("base64url"),
        platform: PLATFORMS[pk % 3],
        device_id: `device-${pk}`,
        is_active: true,
        created_at: new Date(Date.UTC(2026, 0, 1) + pk * 1000).toISOString(),
      },
    });
  }
  return rows;
}

/** Writes the dump (users first, then their related rows, as dumpdata orders them), streamed. */
async function generateDump(path: string, users: number): Promise<{ devices: number }> {
  const out = createWriteStream(path);
  const write = async (text: string) => {
    if (!out.write(text)) await once(out, "drain");
  };
  let first = true;
  const item = (value: unknown) => {
    const text = `${first ? "[\n" : ",\n"}${JSON.stringify(value)}`;
    first = false;
    return write(text);
  };
  for (let pk = 1; pk <= users; pk++) await item(userRow(pk));
  let devices = 0;
  for (let pk = 1; pk <= users; pk++) {
    const rows = relatedRows(pk);
    devices += rows.length - 1;
    for (const row of rows) await item(row);
  }
  out.end("\n]\n");
  await once(out, "finish");
  return { devices };
}

interface Run {
  name: string;
  seconds: number;
  peakKiB: number | null;
  /** The CLI's JavaScript heap after pass 1 (the related rows it holds, plus its baseline). */
  heldMiB: number | null;
  exitCode: number | null;
  totals: Record<string, number>;
  retries: Record<string, number>;
  timings: { related_ms: number; users_ms: number };
  cpuSeconds: number | null;
}

/** Peak RSS in KiB: /usr/bin/time's report, or the highest VmHWM seen while sampling. */
function peakFromTime(stderr: string): number | null {
  const match = stderr.match(/Maximum resident set size \(kbytes\): (\d+)/);
  return match ? Number(match[1]) : null;
}

function vmHwm(pid: number): number | null {
  try {
    const match = readFileSync(`/proc/${pid}/status`, "utf8").match(/VmHWM:\s+(\d+) kB/);
    return match ? Number(match[1]) : null;
  } catch {
    return null;
  }
}

/** Peak RSS of a child in KiB, from /usr/bin/time's report or VmHWM sampled every 100 ms. */
function watchPeak(pid: number | undefined, timed: boolean, stderr: () => string) {
  let sampled = 0;
  const sampler = setInterval(() => {
    if (!timed && pid) sampled = Math.max(sampled, vmHwm(pid) ?? 0);
  }, 100);
  return () => {
    clearInterval(sampler);
    return timed ? peakFromTime(stderr()) : sampled || null;
  };
}

/** Runs the CLI with `args`, measuring wall time and peak memory, bounded by TIMEOUT_S. */
async function runCli(name: string, args: string[], report: string, server?: LocalServer) {
  // --expose-gc: the CLI measures what it holds after pass 1 after one full collection.
  const cli = [process.execPath, "--expose-gc", "scripts/import-django.ts", ...args];
  const timed = existsSync(TIME);
  const [command = "", ...rest] = [...(timed ? [TIME, "-v"] : []), ...cli, "--report", report];
  const cpuBefore = server?.cpuSeconds() ?? null;
  const started = performance.now();
  const child = spawn(command, rest, { stdio: ["ignore", "ignore", "pipe"] });
  let stderr = "";
  child.stderr.on("data", (chunk: Buffer) => {
    stderr = (stderr + chunk.toString()).slice(-20_000);
  });
  const peak = watchPeak(child.pid, timed, () => stderr);
  const killer = setTimeout(() => child.kill("SIGTERM"), TIMEOUT_S * 1000);
  const exitCode = await new Promise<number | null>((resolve) => child.on("exit", resolve));
  clearTimeout(killer);
  const seconds = (performance.now() - started) / 1000;
  const cpuAfter = server?.cpuSeconds() ?? null;
  if (exitCode !== 0) console.error(stderr.slice(-3000));
  const written = existsSync(report) ? JSON.parse(readFileSync(report, "utf8")) : {};
  return {
    name,
    seconds,
    peakKiB: peak(),
    heldMiB: written.memory?.held_after_pass_1_mib ?? null,
    exitCode,
    totals: written.totals ?? {},
    retries: written.retries ?? {},
    timings: written.timings ?? { related_ms: 0, users_ms: 0 },
    cpuSeconds: cpuBefore === null || cpuAfter === null ? null : cpuAfter - cpuBefore,
  } satisfies Run;
}

/** Whether the import route answers (a 400 for an empty batch) rather than 404. */
async function routeStatus(base: string): Promise<number> {
  const res = await fetch(`${base}/api/v1/admin/users/import/`, {
    method: "POST",
    headers: { "Content-Type": "application/json", "X-Service-Key": SERVICE_KEY },
    body: JSON.stringify({ users: [], dry_run: true }),
  });
  await res.body?.cancel();
  return res.status;
}

function shell(command: string): string {
  try {
    return execSync(command, { encoding: "utf8" }).trimEnd();
  } catch {
    return "(unavailable)";
  }
}

const n = (value: number) => Math.round(value).toLocaleString("en-US");
const mib = (kib: number | null) => (kib === null ? "–" : `${(kib / 1024).toFixed(0)} MiB`);

function row(run: Run): string {
  const t = run.totals;
  const done = (t.created ?? 0) + (t.updated ?? 0) + (t.unchanged ?? 0) + (t.written ?? 0);
  const outcome = ["created", "unchanged", "updated", "refused", "written"]
    .filter((k) => (t[k] ?? 0) > 0)
    .map((k) => `${n(t[k] ?? 0)} ${k}`)
    .join(", ");
  const retried = Object.entries(run.retries).filter(([, v]) => v > 0);
  const retries = retried.length ? retried.map(([k, v]) => `${v} ${k}`).join(", ") : "0";
  const cpu =
    run.cpuSeconds === null ? "–" : `${((run.cpuSeconds * 1000) / Math.max(1, done)).toFixed(2)}`;
  const status = run.exitCode === 0 ? "" : ` **(exit ${run.exitCode})**`;
  return `| ${run.name}${status} | ${outcome} | ${run.seconds.toFixed(1)} s | **${n(done / run.seconds)}** | ${(run.timings.related_ms / 1000).toFixed(1)} s | ${n(t.calls ?? 0)} | ${retries} | ${cpu} | ${run.heldMiB ?? "–"} MiB | **${mib(run.peakKiB)}** |`;
}

function section(
  runs: Run[],
  dump: { path: string; bytes: number; devices: number },
  note: string,
) {
  const command = `${USERS === 100_000 ? "" : `BENCH_USERS=${USERS} `}npm run bench:import`;
  return `## Django import (\`npm run import:django\`)

Date ${new Date().toISOString().slice(0, 10)}; \`nproc\` ${shell("nproc")}; ${shell("lscpu | grep 'Model name'").replace(/\s+/g, " ")};
Node ${process.version}. \`free -h\`:

\`\`\`
${shell("free -h")}
\`\`\`

Command: \`${command}\`. Input: one \`dumpdata\` JSON file of ${n(USERS)} users (integer primary keys,
\`pbkdf2_sha256\` hashes, names, usernames, flags, join and login times), a preferences row per user
(\`email_notifications\`, \`push_notifications\`, \`marketing_emails\`, linked by \`user\`) and ${n(dump.devices)}
push devices (\`token\`, \`platform\`, \`device_id\`, \`is_active\`), the related rows after the users as
dumpdata orders them: ${(dump.bytes / 2 ** 20).toFixed(0)} MiB. The CLI runs with its defaults (2 calls in flight, 50 users
and < 60 KiB per call) against \`wrangler dev\` started as \`npm start\` starts it (local D1, KV, Queues
and Durable Object, its own state directory, migrations applied, the rate limits of wrangler.toml),
with the local service key. ${note}

| run | outcome | wall time | users/s | pass 1 | calls | retries | Worker CPU ms/user | CLI heap after pass 1 | CLI peak RSS |
|---|---|---|---|---|---|---|---|---|---|
${runs.map(row).join("\n")}

"users/s" is users answered (or written) per second of the whole run, both passes included; "pass 1"
is the first pass (reading the file for the related rows). "CLI heap after pass 1" is the JavaScript
heap in use after a full collection once the related rows are held (the users are streamed, never
held); peak RSS is the CLI process's (${existsSync(TIME) ? "`/usr/bin/time -v`" : "VmHWM from /proc"}). "Worker CPU" is workerd's CPU time
over the run (from /proc, local D1 included) per user. The CLI and workerd share the machine's CPUs.
`;
}

buildWasm();
const dir = mkdtempSync(join(tmpdir(), "bench-import-"));
const dumpPath = join(dir, "dumpdata.json");
console.error(`Generating ${n(USERS)} users in ${dumpPath} …`);
const { devices } = await generateDump(dumpPath, USERS);
const dump = { path: dumpPath, bytes: statSync(dumpPath).size, devices };

const runs: Run[] = [];
runs.push(
  await runCli(
    "read + map only (`--out /dev/null`)",
    [dumpPath, "--out", "/dev/null"],
    join(dir, "out.json"),
  ),
);
console.error(`Starting the Worker on port ${PORT} …`);
const server = await startServer(PORT, join(dir, "state"));
let note = "";
try {
  const status = await routeStatus(server.base);
  if (status === 404) {
    note = "**The import route is not served yet (404): only the CLI's own run is measured.**";
  } else {
    const args = [dumpPath, "--url", server.base, "--service-key", SERVICE_KEY];
    runs.push(await runCli("import (new users)", args, join(dir, "import.json"), server));
    if (RERUN)
      runs.push(await runCli("re-import (no change)", args, join(dir, "again.json"), server));
  }
} finally {
  await server.stop();
}
const text = section(runs, dump, note);
if (process.env.BENCH_WRITE === "1") writeSection("Django import (`npm run import:django`)", text);
console.log(text);
if (process.env.BENCH_KEEP !== "1") rmSync(dir, { recursive: true, force: true });
