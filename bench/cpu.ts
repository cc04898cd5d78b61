/**
 * `npm run bench:cpu` — the Worker's CPU per request on the hot reads, precisely: the built bundle
 * on Miniflare (bench/lean-server.ts, limits on as deployed, each request from its own client
 * address), one request at a time, scenarios interleaved in blocks so a drift of the machine
 * (this VM moves by ±25 % from minute to minute) falls on every scenario alike. Each block's CPU
 * comes from /proc (the workerd process, its local D1, KV, Durable Object and rate-limiting
 * simulators included); the figure per scenario is the median over its blocks.
 *
 * Beside each read runs its I/O twin (GET /_dev/io: exactly the read's round trips and nothing
 * else, checked by test/bench-twins.test.ts), so the read's CPU above its twin is the Worker's own
 * work and the twin's above the baseline is what this runtime spends simulating the bindings.
 * Login runs beside the bare Argon2id hash (POST /_dev/hash) and its own twin (POST
 * /_dev/login-io: the hash inside login's round trips), in smaller blocks: a login is ~30 ms.
 *
 *   npm run bench:cpu                 # writes "Worker CPU per request" in bench/RESULTS.md
 *   BENCH_ROUNDS=25 npm run bench:cpu # more blocks (default 15, the first one a warm-up)
 */
import { startLeanServer } from "./lean-server.ts";
import { machine, writeSection } from "./local-server.ts";

const PORT = Number(process.env.BENCH_PORT ?? 8796);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 15);
const BLOCK = 100;
/** Requests per block of a CPU-bound scenario (/proc counts CPU in 10 ms ticks: 0.25 ms per request). */
const HASH_BLOCK = 40;
const PASSWORD = "violet-Harbor-42";

interface Scenario {
  name: string;
  path: string;
  auth: boolean;
  /** The path of the read's I/O twin. */
  twin?: string;
  /** A POST body (the CPU-bound scenarios: login, the hash, login's twin). */
  body?: Record<string, string>;
}

const scenarios: Scenario[] = [
  { name: "baseline (GET /_dev/noop)", path: "/_dev/noop", auth: false },
  { name: "health (GET /health)", path: "/health", auth: false },
  {
    name: "profile (GET /api/v1/users/me/)",
    path: "/api/v1/users/me/",
    auth: true,
    twin: "/_dev/io?kv=1&d1=1",
  },
  {
    name: "its round trips alone (GET /_dev/io?kv=1&d1=1)",
    path: "/_dev/io?kv=1&d1=1",
    auth: false,
  },
  {
    name: "preferences, cache hit (GET /api/v1/users/preferences/)",
    path: "/api/v1/users/preferences/",
    auth: true,
    twin: "/_dev/io?kv=2&hits=1",
  },
  {
    name: "its round trips alone (GET /_dev/io?kv=2&hits=1)",
    path: "/_dev/io?kv=2&hits=1",
    auth: false,
  },
];
/** Set once the account exists: login, and its twin counting the same account. */
const credentials = { email: `cpu-${Date.now()}@example.com`, password: PASSWORD };
scenarios.push(
  {
    name: "Argon2id hash alone (POST /_dev/hash)",
    path: "/_dev/hash",
    auth: false,
    body: { password: PASSWORD },
  },
  {
    name: "login (POST /api/v1/auth/login/)",
    path: "/api/v1/auth/login/",
    auth: false,
    twin: "/_dev/login-io",
    body: credentials,
  },
  {
    name: "its round trips around the hash alone (POST /_dev/login-io)",
    path: "/_dev/login-io",
    auth: false,
    body: credentials,
  },
);

let client = 0;
/** A client address of its own for each request (10.0.0.0/8), as real clients spread. */
const nextClient = () => {
  client++;
  return `10.${(client >> 16) & 255}.${(client >> 8) & 255}.${client & 255}`;
};

const started = performance.now();
const server = await startLeanServer(PORT);
const cpu = () => server.cpuSeconds();
const blocks = new Map<string, number[]>(scenarios.map((s) => [s.path, []]));
try {
  const registered = await fetch(`${server.base}/api/v1/users/`, {
    method: "POST",
    headers: { "Content-Type": "application/json", "CF-Connecting-IP": nextClient() },
    body: JSON.stringify(credentials),
  });
  if (registered.status !== 201) throw new Error(`registration answered ${registered.status}`);
  const { data } = (await registered.json()) as { data: { access_token: string } };
  const bearer = `Bearer ${data.access_token}`;
  if (cpu() === null) throw new Error("no /proc here: the Worker's CPU cannot be read");

  for (let round = 0; round < ROUNDS; round++) {
    // Every other round in reverse, so no scenario always follows the same one.
    const order = round % 2 === 0 ? scenarios : [...scenarios].reverse();
    for (const scenario of order) {
      const size = scenario.body ? HASH_BLOCK : BLOCK;
      const before = cpu() ?? 0;
      for (let i = 0; i < size; i++) {
        const res = await fetch(`${server.base}${scenario.path}`, {
          ...(scenario.body ? { method: "POST", body: JSON.stringify(scenario.body) } : {}),
          headers: {
            "CF-Connecting-IP": nextClient(),
            ...(scenario.body ? { "Content-Type": "application/json" } : {}),
            ...(scenario.auth ? { Authorization: bearer } : {}),
          },
        });
        await res.arrayBuffer();
        if (res.status >= 300) throw new Error(`${scenario.path} answered ${res.status}`);
      }
      // The first round warms the isolate and fills the caches (the preferences, the twin's key).
      if (round > 0) blocks.get(scenario.path)?.push((((cpu() ?? 0) - before) * 1000) / size);
    }
  }
} finally {
  await server.stop();
}

const median = (values: number[]) => {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? (sorted[mid] ?? 0) : ((sorted[mid - 1] ?? 0) + (sorted[mid] ?? 0)) / 2;
};
const of = (path: string) => median(blocks.get(path) ?? []);
const spread = (path: string) => {
  const values = blocks.get(path) ?? [];
  return `${Math.min(...values).toFixed(2)}–${Math.max(...values).toFixed(2)}`;
};
const base = of("/_dev/noop");
const signed = (n: number) => `${n >= 0 ? "+" : "−"}${Math.abs(n).toFixed(2)}`;
const rows = scenarios.map((s) => {
  const value = of(s.path);
  const own = s.twin === undefined ? "" : `**${signed(value - of(s.twin))}**`;
  return `| ${s.name} | ${value.toFixed(2)} | ${spread(s.path)} | ${signed(value - base)} | ${own} |`;
});
for (const row of rows) console.log(row);
const hash = of("/_dev/hash");
const login = of("/api/v1/auth/login/");
const loginTwin = of("/_dev/login-io");
const loginLine = `Login above the bare hash: **${signed(login - hash)} ms** of CPU — its round trips
(the twin above the hash) ${signed(loginTwin - hash)} ms, login's own work (above its twin)
**${signed(login - loginTwin)} ms**. For login to reach 0.90 of the hash's throughput on a saturated
thread it may cost ${(hash / 9).toFixed(2)} ms above the hash (a ninth of the hash's ${hash.toFixed(2)} ms).`;
console.log(loginLine);

const seconds = Math.round((performance.now() - started) / 1000);
writeSection(
  "Worker CPU per request",
  `## Worker CPU per request

${machine()}; \`npm run bench:cpu\` (bench/cpu.ts), ${seconds} s: the built bundle on Miniflare
(bench/lean-server.ts), rate limits on as deployed, each request from a client address of its own;
one request at a time, in blocks of ${BLOCK} (${HASH_BLOCK} for login, the hash and login's twin), the scenarios interleaved (every other round
reversed), ${ROUNDS - 1} blocks each after a warm-up round. The workerd process's CPU per request
over each block, from /proc, its median over the blocks and their range.

| scenario | CPU ms / request (median) | range of blocks | above the baseline | the Worker's own: above its I/O twin |
|---|---|---|---|---|
${rows.join("\n")}

${loginLine}

The CPU is the whole workerd process's: locally D1, KV, the Durable Object and the rate-limiting
binding are simulated inside it, on the Worker's thread (Miniflare's rate-limiting binding is a
SQLite-backed object written on every call), so every binding call is counted here as the
Worker's CPU, where on Cloudflare it is another machine's. Each read's I/O twin (GET /_dev/io,
DEV_TOOLS only) makes exactly that read's round trips and nothing else (test/bench-twins.test.ts
checks they match): its CPU above the baseline is what those round trips cost this runtime, and
the read's CPU above its twin is the Worker's own work — routing, authentication, decoding D1's
row or KV's value, the answer. Login's twin (POST /_dev/login-io) is one Argon2id hash inside
login's round trips — the limiter's three calls (one of them to the new instance a new client
network costs), the lookup and the batch as \`SELECT 1\` — with none of login's own work (its
statements are reads, cheaper than login's writes, so login above its twin is an upper bound of
login's own work). Throughput under load is in "HTTP endpoints".
`,
);
