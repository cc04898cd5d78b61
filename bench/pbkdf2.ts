/**
 * `npm run bench:pbkdf2` — PBKDF2-HMAC-SHA256 above WebCrypto's production limit, inside workerd:
 * what src/auth/pbkdf2.ts ships ("shipped") against @noble/hashes (`pbkdf2Async`, and the
 * synchronous `pbkdf2` for comparison), with native WebCrypto as a reference (local workerd computes
 * any count; production Workers refuse more than 100,000 iterations).
 *
 * The Worker in bench/pbkdf2/ is served by `wrangler dev` on loopback. Inside workerd the clock does
 * not advance during CPU work, so each derivation is timed here, around its request, minus the
 * median round trip of GET /noop. Every implementation runs on the same inputs (Django's counts,
 * a typical password, a 22-character salt like Django's), in rounds whose order rotates, after one
 * warm-up call each; every key is checked against Node's OpenSSL. Prints a Markdown table.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { pbkdf2Sync } from "node:crypto";
import { rmSync } from "node:fs";
import { buildWasm } from "../src/auth/wasm/build.ts";
import { waitFor } from "./local-server.ts";

const PORT = Number(process.env.BENCH_PORT ?? 8797);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 5);
const ITERATIONS = [260_000, 600_000, 720_000, 1_000_000];
const IMPLEMENTATIONS = ["shipped", "noble-async", "noble-sync", "webcrypto"] as const;
const PASSWORD = "Tr0ub4dor&3-summer";
const SALT = "Xk2vB9qLz0pR7sTwQ4mN8c";
const STATE = ".wrangler/bench-pbkdf2";
const base = `http://127.0.0.1:${PORT}`;

type Implementation = (typeof IMPLEMENTATIONS)[number];

function startWorker(): ChildProcess {
  rmSync(STATE, { recursive: true, force: true });
  const child = spawn(
    "node_modules/.bin/wrangler",
    [
      "dev",
      "--config",
      "bench/pbkdf2/wrangler.toml",
      "--ip",
      "127.0.0.1",
      "--port",
      String(PORT),
      "--persist-to",
      STATE,
      "--show-interactive-dev-session=false",
      "--log-level",
      "error",
    ],
    { stdio: ["ignore", "ignore", "inherit"], detached: true },
  );
  process.on("exit", () => {
    if (child.pid && child.exitCode === null) process.kill(-child.pid, "SIGTERM");
  });
  return child;
}

/** Wall milliseconds of one request, and its body. */
async function timed(path: string): Promise<{ ms: number; body: string }> {
  const started = performance.now();
  const res = await fetch(`${base}${path}`, { signal: AbortSignal.timeout(120_000) });
  const body = await res.text();
  const ms = performance.now() - started;
  if (!res.ok) throw new Error(`${path}: ${res.status} ${body}`);
  return { ms, body };
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? (sorted[mid] ?? 0) : ((sorted[mid - 1] ?? 0) + (sorted[mid] ?? 0)) / 2;
}

async function derive(impl: Implementation, iterations: number, expected: string) {
  const query = new URLSearchParams({
    impl,
    iterations: String(iterations),
    password: PASSWORD,
    salt: SALT,
  });
  const { ms, body } = await timed(`/run?${query}`);
  const { hex } = JSON.parse(body) as { hex: string };
  if (hex !== expected) throw new Error(`${impl} at ${iterations}: wrong key ${hex}`);
  return ms;
}

buildWasm();
const child = startWorker();
const deadline = setTimeout(() => {
  console.error("bench:pbkdf2 took more than 15 minutes; stopping");
  process.exit(1);
}, 15 * 60_000);
try {
  await waitFor(
    "the bench Worker",
    async () => {
      try {
        return (await fetch(`${base}/noop`)).status === 204;
      } catch {
        return false;
      }
    },
    120_000,
  );

  const expected = new Map(
    ITERATIONS.map((n) => [n, pbkdf2Sync(PASSWORD, SALT, n, 32, "sha256").toString("hex")]),
  );
  const noop: number[] = [];
  for (let i = 0; i < 30; i++) noop.push((await timed("/noop")).ms);
  const roundTrip = median(noop);

  for (const impl of IMPLEMENTATIONS) {
    await derive(impl, ITERATIONS[0] ?? 0, expected.get(ITERATIONS[0] ?? 0) ?? "");
  }
  const samples = new Map<string, number[]>();
  for (const n of ITERATIONS) {
    for (let round = 0; round < ROUNDS; round++) {
      for (let k = 0; k < IMPLEMENTATIONS.length; k++) {
        const impl = IMPLEMENTATIONS[(k + round) % IMPLEMENTATIONS.length] as Implementation;
        const ms = (await derive(impl, n, expected.get(n) ?? "")) - roundTrip;
        const key = `${impl} ${n}`;
        samples.set(key, [...(samples.get(key) ?? []), ms]);
      }
    }
    process.stderr.write(`${n.toLocaleString("en-US")} iterations done\n`);
  }

  const ms = (impl: Implementation, n: number) => median(samples.get(`${impl} ${n}`) ?? []);
  console.log(`Round trip (GET /noop, median of 30): ${roundTrip.toFixed(1)} ms, subtracted.`);
  console.log(`Median of ${ROUNDS} per cell, ms; every key checked against Node's OpenSSL.\n`);
  console.log(
    `| iterations | ${IMPLEMENTATIONS.join(" | ")} | noble-async / shipped | shipped / webcrypto |`,
  );
  console.log(`|---|${IMPLEMENTATIONS.map(() => "---|").join("")}---|---|`);
  for (const n of ITERATIONS) {
    const cells = IMPLEMENTATIONS.map((impl) => ms(impl, n).toFixed(0));
    const ratio = ms("noble-async", n) / ms("shipped", n);
    const native = ms("shipped", n) / ms("webcrypto", n);
    console.log(
      `| ${n.toLocaleString("en-US")} | ${cells.join(" | ")} | ${ratio.toFixed(2)} | ${native.toFixed(2)} |`,
    );
  }
  const all = (impl: Implementation) => ITERATIONS.reduce((sum, n) => sum + ms(impl, n), 0);
  console.log(
    `\nPer 100,000 iterations (all counts pooled): ${IMPLEMENTATIONS.map(
      (impl) =>
        `${impl} ${((all(impl) / ITERATIONS.reduce((a, b) => a + b, 0)) * 100_000).toFixed(1)} ms`,
    ).join(", ")}.`,
  );
  for (const impl of IMPLEMENTATIONS) {
    const spread = ITERATIONS.map((n) => {
      const s = samples.get(`${impl} ${n}`) ?? [];
      return `${Math.min(...s).toFixed(0)}–${Math.max(...s).toFixed(0)}`;
    });
    console.log(`Range ${impl}: ${spread.join(", ")} ms`);
  }
} finally {
  clearTimeout(deadline);
  if (child.pid && child.exitCode === null) {
    const exited = new Promise((resolve) => child.once("exit", resolve));
    process.kill(-child.pid, "SIGTERM");
    await exited;
  }
}
