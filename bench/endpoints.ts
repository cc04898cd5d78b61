/**
 * `npm run bench` — the HTTP endpoints under load, in one sitting, with autocannon against the
 * locally served Worker (`wrangler dev` with local D1, KV, Queues and the Durable Object, started
 * the way `npm start` starts it, with a state directory of its own), or against a running server
 * given as BENCH_URL (e.g. `BENCH_URL=http://localhost:8787 npm run bench`).
 *
 * Scenarios: a baseline that does no work (GET /_dev/noop), health, register, login, refresh, GET
 * profile, GET preferences (a KV cache hit), create a push token, and one Argon2id hash alone
 * (POST /_dev/hash) — the cost login is bounded by; beside profile and preferences their I/O
 * twins (GET /_dev/io: the read's round trips alone), and beside login its twin (POST
 * /_dev/login-io: the hash inside login's round trips). Each runs under load (20 connections) for
 * throughput — the fast ones in slices taken in turns so the machine's drift falls on all alike,
 * the CPU-bound ones (register, login, its twin, the hash) in two long halves, in order and then
 * reversed — and then one request at a time for the latency a single client sees; the hash's own
 * cost and login's overhead above it come from the latter.
 *
 * Configurations (BENCH_CONFIGS, default all three, in this order):
 * - `dev-on`: `wrangler dev` as `npm start` runs it, **rate limits on** as deployed, each request
 *   from its own client address (CF-Connecting-IP drawn from 10.0.0.0/8, as real clients spread);
 * - `dev-off`: the same server with every RATE_LIMIT_* off;
 * - `lean-on`: the bundle wrangler would upload, served by Miniflare's API (bench/lean-server.ts:
 *   no dev proxy), limits on — the Worker's own cost apart from the dev server's.
 * Ratios are always to the baseline of the same server in the same run.
 *
 * Results go to bench/RESULTS.md ("HTTP endpoints") and the chart (dev-on) to bench/endpoints.svg.
 * `BENCH_ONLY=profile,preferences` runs a subset and only prints it.
 */
import { readFileSync, writeFileSync } from "node:fs";
import autocannon from "autocannon";
import { startLeanServer } from "./lean-server.ts";
import { machine, pool, startServer, waitFor, writeSection } from "./local-server.ts";

const PORT = Number(process.env.BENCH_PORT ?? 8798);
const DURATION = Number(process.env.BENCH_DURATION ?? 10);
const SOLO_DURATION = Number(process.env.BENCH_SOLO_DURATION ?? 5);
const WARM_UP = 1;
const CONNECTIONS = 20;
const PASSWORD = "violet-Harbor-42";
/** Registered before the scenarios: their tokens serve profile, preferences, push and refresh. */
const USERS = 200;
/** The throughput runs are cut into this many slices, taken in turns across the scenarios. */
const SLICES = Number(process.env.BENCH_SLICES ?? 5);
/** Login cycles through these few accounts, as returning users do. */
const LOGIN_ACCOUNTS = 5;
const CHART = "bench/endpoints.svg";
/**
 * The I/O twins (test/bench-twins.test.ts checks they match): a profile read is one KV read (the
 * deny-list, an absent key) and one D1 statement at once; a cached preferences read one bulk KV
 * read of two keys, one absent (the deny-list) and one present (the cache).
 */
const PROFILE_TWIN = "/_dev/io?kv=1&d1=1";
const PREFERENCES_TWIN = "/_dev/io?kv=2&hits=1";
/** Login's twin: one Argon2id hash inside login's round trips (test/bench-twins.test.ts). */
const LOGIN_TWIN = "/_dev/login-io";

const given = process.env.BENCH_URL?.replace(/\/+$/, "");

type ConfigName = "dev-on" | "dev-off" | "lean-on";
const CONFIG_LABELS: Record<ConfigName, string> = {
  "dev-on": "wrangler dev, limits on",
  "dev-off": "wrangler dev, limits off",
  "lean-on": "Miniflare (built bundle), limits on",
};
const configs = (process.env.BENCH_CONFIGS ?? "dev-on,dev-off,lean-on")
  .split(",")
  .map((c) => c.trim())
  .filter((c): c is ConfigName => c in CONFIG_LABELS);
/** Whether requests come from many client addresses (with the limits on, as real traffic does). */
let spread = false;
/** A client address of its own for each request. */
const anyClient = () =>
  `10.${Math.floor(Math.random() * 256)}.${Math.floor(Math.random() * 256)}.${1 + Math.floor(Math.random() * 254)}`;
/**
 * BENCH_ONLY=profile,preferences runs only the scenarios whose names contain one of the words (and
 * the baseline), and prints them without touching bench/RESULTS.md.
 */
const only = process.env.BENCH_ONLY?.split(",")
  .map((word) => word.trim())
  .filter(Boolean);

/** Every RATE_LIMIT_* var wrangler.toml declares, so a new limit is switched off here too. */
function rateLimitVars(): string[] {
  const toml = readFileSync("wrangler.toml", "utf8");
  return [...new Set([...toml.matchAll(/^(RATE_LIMIT_\w+)\s*=/gm)].map((m) => m[1] ?? ""))]
    .filter(Boolean)
    .sort();
}

function hashParams(): string {
  const toml = readFileSync("wrangler.toml", "utf8");
  const value = (name: string) => toml.match(new RegExp(`^${name}\\s*=\\s*"(\\d+)"`, "m"))?.[1];
  return `m=${value("PASSWORD_HASH_MEMORY_KIB")} KiB, t=${value("PASSWORD_HASH_ITERATIONS")}, p=${value("PASSWORD_HASH_PARALLELISM")}`;
}

interface Session {
  email: string;
  access: string;
  refresh: string;
}

/** What one autocannon request of a scenario looks like; `next` fills in what varies. */
type Setup = autocannon.Request;

interface Scenario {
  name: string;
  method: "GET" | "POST";
  path: string;
  /** The status every answer should have; anything else is flagged in the table. */
  expect: number;
  /** The path of this read's I/O twin: its round trips (GET /_dev/io) and none of its work. */
  twin?: string;
  /**
   * CPU-bound (an Argon2id hash per request): measured in two halves, not in short slices — with
   * answers taking most of a second under load, a short slice would end with much of its work in
   * flight.
   */
  whole?: boolean;
  /** Builds the next request (unique email, a token from the pool …); static when absent. */
  next?: (context: Record<string, unknown>) => { headers?: Record<string, string>; body?: string };
  onResponse?: (status: number, body: string, context: Record<string, unknown>) => void;
  static?: { headers?: Record<string, string>; body?: string };
}

interface Measure {
  rps: number;
  p50: number;
  p99: number;
  mean: number;
  total: number;
  answers: Record<string, number>;
  unexpected: number;
  errors: number;
  timeouts: number;
  /** The Worker's CPU milliseconds per request (workerd, from /proc), when it can be read. */
  cpuMs: number | null;
}

async function run(
  base: string,
  scenario: Scenario,
  duration: number,
  connections: number,
): Promise<Measure> {
  const request: Setup = {
    method: scenario.method,
    path: scenario.path,
    headers: { "content-type": "application/json", ...scenario.static?.headers },
    ...(scenario.static?.body === undefined ? {} : { body: scenario.static.body }),
  };
  const { next, onResponse } = scenario;
  if (next || spread) {
    request.setupRequest = (req, context) => {
      const varying = next?.(context as Record<string, unknown>) ?? {};
      return {
        ...req,
        headers: {
          ...req.headers,
          ...varying.headers,
          ...(spread ? { "cf-connecting-ip": anyClient() } : {}),
        },
        ...(varying.body === undefined ? {} : { body: varying.body }),
      };
    };
  }
  if (onResponse) {
    request.onResponse = (status, body, context) =>
      onResponse(status, body, context as Record<string, unknown>);
  }
  const cpuBefore = server?.cpuSeconds() ?? null;
  const result = await autocannon({ url: base, connections, duration, requests: [request] });
  const cpuAfter = server?.cpuSeconds() ?? null;
  const answers = Object.fromEntries(
    Object.entries(
      (result.statusCodeStats ?? {}) as Record<string, { count?: number } | undefined>,
    ).map(([code, stat]) => [code, stat?.count ?? 0]),
  );
  const total = Object.values(answers).reduce((sum, n) => sum + n, 0);
  return {
    rps: total / duration,
    p50: result.latency.p50,
    p99: result.latency.p99,
    mean: result.latency.mean,
    total,
    answers,
    unexpected: total - (answers[String(scenario.expect)] ?? 0),
    cpuMs:
      cpuBefore === null || cpuAfter === null || total === 0
        ? null
        : ((cpuAfter - cpuBefore) * 1000) / total,
    // autocannon counts timeouts among the errors.
    errors: result.errors,
    timeouts: result.timeouts,
  };
}

async function post(base: string, path: string, body: unknown, token?: string) {
  const res = await fetch(`${base}${path}`, {
    method: "POST",
    headers: {
      "Content-Type": "application/json",
      "CF-Connecting-IP": anyClient(),
      ...(token ? { Authorization: `Bearer ${token}` } : {}),
    },
    body: JSON.stringify(body),
  });
  const text = await res.text();
  if (!res.ok) {
    const hint =
      res.status === 429 && given
        ? " — the running server's rate limits apply; start it with every RATE_LIMIT_* var off " +
          `(npm start -- ${rateLimitVars()
            .map((name) => `--var ${name}:off`)
            .join(" ")}) or let npm run bench start its own`
        : "";
    throw new Error(`POST ${path} answered ${res.status}: ${text}${hint}`);
  }
  return JSON.parse(text) as { data: Record<string, unknown> };
}

function scenarios(sessions: Session[], runId: string): Scenario[] {
  const json = (value: unknown) => JSON.stringify(value);
  let turn = 0;
  const bearer = () => {
    const session = sessions[turn++ % sessions.length];
    return { headers: { authorization: `Bearer ${session?.access ?? ""}` } };
  };
  // Refresh tokens are single use: a pool of live ones, each taken by one request and replaced by
  // the token its answer carries. (autocannon clears a connection's `context` before every request
  // when a scenario has one request, so the chain cannot live there.) A run stops with up to
  // `connections` requests in flight, whose new tokens are never read: USERS covers every slice.
  const refreshTokens = sessions.map((s) => s.refresh);
  let registered = 0;
  let pushed = 0;
  let loggedIn = 0;
  return [
    { name: "baseline (GET /_dev/noop)", method: "GET", path: "/_dev/noop", expect: 204 },
    { name: "health (GET /health)", method: "GET", path: "/health", expect: 200 },
    {
      name: "profile (GET /api/v1/users/me/)",
      method: "GET",
      path: "/api/v1/users/me/",
      expect: 200,
      next: bearer,
      twin: PROFILE_TWIN,
    },
    {
      name: "profile's round trips alone (GET /_dev/io?kv=1&d1=1)",
      method: "GET",
      path: PROFILE_TWIN,
      expect: 204,
    },
    {
      name: "preferences, cache hit (GET /api/v1/users/preferences/)",
      method: "GET",
      path: "/api/v1/users/preferences/",
      expect: 200,
      next: bearer,
      twin: PREFERENCES_TWIN,
    },
    {
      name: "preferences' round trips alone (GET /_dev/io?kv=2&hits=1)",
      method: "GET",
      path: PREFERENCES_TWIN,
      expect: 204,
    },
    {
      name: "refresh (POST /api/v1/auth/refresh/)",
      method: "POST",
      path: "/api/v1/auth/refresh/",
      expect: 200,
      next: () => ({ body: json({ refresh_token: refreshTokens.shift() ?? "pool-exhausted" }) }),
      onResponse: (status, body) => {
        if (status !== 200) return;
        const token = (JSON.parse(body) as { data?: { refresh_token?: string } }).data
          ?.refresh_token;
        if (token) refreshTokens.push(token);
      },
    },
    {
      name: "login (POST /api/v1/auth/login/)",
      whole: true,
      method: "POST",
      path: "/api/v1/auth/login/",
      expect: 200,
      next: () => ({
        body: json({
          email: sessions[loggedIn++ % Math.min(LOGIN_ACCOUNTS, sessions.length)]?.email,
          password: PASSWORD,
        }),
      }),
    },
    {
      name: "login's round trips around the hash alone (POST /_dev/login-io)",
      whole: true,
      method: "POST",
      path: LOGIN_TWIN,
      expect: 204,
      next: () => ({
        body: json({
          email: sessions[loggedIn++ % Math.min(LOGIN_ACCOUNTS, sessions.length)]?.email,
          password: PASSWORD,
        }),
      }),
    },
    {
      name: "Argon2id hash alone (POST /_dev/hash)",
      whole: true,
      method: "POST",
      path: "/_dev/hash",
      expect: 204,
      static: { body: json({ password: PASSWORD }) },
    },
    {
      name: "create push token (POST /api/v1/users/push-tokens/)",
      method: "POST",
      path: "/api/v1/users/push-tokens/",
      expect: 201,
      next: () => ({
        ...bearer(),
        body: json({ token: `bench-${runId}-${pushed++}`, platform: "android" }),
      }),
    },
    {
      name: "register (POST /api/v1/users/)",
      whole: true,
      method: "POST",
      path: "/api/v1/users/",
      expect: 201,
      next: () => ({
        body: json({ email: `bench-${runId}-${registered++}@example.com`, password: PASSWORD }),
      }),
    },
  ];
}

const rateLimits = rateLimitVars();
let server: Awaited<ReturnType<typeof startServer>> | undefined;

interface Row {
  scenario: Scenario;
  loaded: Measure;
  solo: Measure;
}

/** Registers the users, warms the caches, and measures every chosen scenario on `base`. */
async function measureAll(base: string): Promise<Row[]> {
  const rows: Row[] = [];
  const noop = await fetch(`${base}/_dev/noop`);
  if (noop.status !== 204) {
    throw new Error(`GET /_dev/noop answered ${noop.status}: the server needs DEV_TOOLS on`);
  }

  const runId = crypto.randomUUID().slice(0, 8);
  const sessions: Session[] = [];
  await pool(USERS, 4, async (i) => {
    const email = `bench-${runId}-user-${i}@example.com`;
    const { data } = await post(base, "/api/v1/users/", { email, password: PASSWORD });
    sessions.push({
      email,
      access: data.access_token as string,
      refresh: data.refresh_token as string,
    });
  });
  // Fill the preferences cache: the scenario measures hits.
  await pool(sessions.length, 4, async (i) => {
    const res = await fetch(`${base}/api/v1/users/preferences/`, {
      headers: { Authorization: `Bearer ${sessions[i]?.access}`, "CF-Connecting-IP": anyClient() },
    });
    await res.arrayBuffer();
  });

  // Registration publishes user.created after the answer; let the local consumer finish with them
  // so the first scenarios do not share the CPU with it.
  await pool(sessions.length, 4, async (i) => {
    const email = encodeURIComponent(sessions[i]?.email ?? "");
    await waitFor("the setup's user.created events", async () => {
      const res = await fetch(`${base}/_dev/mailbox?to=${email}`);
      const { data } = (await res.json()) as { data?: unknown[] };
      return (data?.length ?? 0) > 0;
    });
  });

  const chosen = scenarios(sessions, runId).filter(
    (s) => !only || s.path === "/_dev/noop" || only.some((word) => s.name.includes(word)),
  );
  for (const scenario of chosen) await run(base, scenario, WARM_UP, CONNECTIONS);
  // Throughput in slices taken in turns (every other round reversed): this machine drifts by a
  // quarter from one minute to the next, and a scenario measured in one block would carry its
  // minute's drift into every ratio. Interleaved, the drift falls on all of them alike.
  const sliced = chosen.filter((scenario) => !scenario.whole);
  const slices = new Map<Scenario, Measure[]>(chosen.map((scenario) => [scenario, []]));
  for (let round = 0; round < SLICES; round++) {
    process.stdout.write(`round ${round + 1} of ${SLICES} … `);
    for (const scenario of round % 2 === 0 ? sliced : [...sliced].reverse()) {
      slices.get(scenario)?.push(await run(base, scenario, DURATION / SLICES, CONNECTIONS));
    }
  }
  console.log();
  // The CPU-bound ones in two halves, in order and then in reverse (login, its twin, the hash,
  // then the hash, the twin, login), so a drift of the machine falls on login and the hash alike.
  const whole = chosen.filter((s) => s.whole);
  for (const order of [whole, [...whole].reverse()]) {
    for (const scenario of order) {
      slices.get(scenario)?.push(await run(base, scenario, DURATION / 2, CONNECTIONS));
    }
  }
  for (const scenario of chosen) {
    const loaded = combine(slices.get(scenario) ?? [], DURATION);
    const solo = await run(base, scenario, SOLO_DURATION, 1);
    rows.push({ scenario, loaded, solo });
    console.log(
      `${scenario.name}: ${Math.round(loaded.rps)} requests/s, p50 ${loaded.p50.toFixed(1)} ms, p99 ${loaded.p99.toFixed(1)} ms; alone p50 ${solo.p50} ms`,
    );
  }
  return rows;
}

/**
 * One measure of a scenario's slices: answers, errors and CPU summed, latencies the slices'
 * percentiles averaged by their answers (autocannon gives percentiles, not its histogram).
 */
function combine(slices: Measure[], duration: number): Measure {
  const total = slices.reduce((sum, m) => sum + m.total, 0);
  const weighted = (pick: (m: Measure) => number) =>
    slices.reduce((sum, m) => sum + pick(m) * m.total, 0) / Math.max(1, total);
  const sum = (pick: (m: Measure) => number) => slices.reduce((all, m) => all + pick(m), 0);
  const answers: Record<string, number> = {};
  for (const m of slices) {
    for (const [code, n] of Object.entries(m.answers)) answers[code] = (answers[code] ?? 0) + n;
  }
  return {
    rps: total / duration,
    p50: weighted((m) => m.p50),
    p99: weighted((m) => m.p99),
    mean: weighted((m) => m.mean),
    total,
    answers,
    unexpected: sum((m) => m.unexpected),
    errors: sum((m) => m.errors),
    timeouts: sum((m) => m.timeouts),
    cpuMs: slices.every((m) => m.cpuMs !== null) ? weighted((m) => m.cpuMs ?? 0) : null,
  };
}

/**
 * Each read beside its I/O twin, on one server: the twin makes the read's round trips and nothing
 * else, so the read's CPU above its twin is the Worker's own work (the decoding of D1's answer
 * included), and the twin's above the baseline is what this runtime spends on those round trips —
 * here D1 and KV are simulated inside the Worker's own workerd process; on Cloudflare they are
 * other machines.
 */
function twinComparisons(configRows: Row[]) {
  const base = configRows.find((r) => r.scenario.path === "/_dev/noop");
  return configRows.flatMap((row) => {
    const twin = configRows.find((r) => r.scenario.path === row.scenario.twin);
    if (!base || !twin) return [];
    const above = (a: Measure, b: Measure) =>
      a.cpuMs === null || b.cpuMs === null ? null : a.cpuMs - b.cpuMs;
    const m = {
      name: row.scenario.name,
      twin: twin.scenario.path,
      readRatio: row.loaded.rps / base.loaded.rps,
      twinRatio: twin.loaded.rps / base.loaded.rps,
      ofTwin: row.loaded.rps / twin.loaded.rps,
      p99OfTwin: row.loaded.p99 / Math.max(1, twin.loaded.p99),
      ioCpu: above(twin.loaded, base.loaded),
      ownCpu: above(row.loaded, twin.loaded),
    };
    const fmt = (n: number | null) =>
      n === null ? "n/a" : `${n >= 0 ? "+" : "−"}${Math.abs(n).toFixed(2)}`;
    return [
      {
        ...m,
        line: `${m.name} beside ${m.twin}: ${m.readRatio.toFixed(3)} of the baseline, its round trips alone ${m.twinRatio.toFixed(3)}; ${m.ofTwin.toFixed(3)} of its twin; CPU ms: round trips ${fmt(m.ioCpu)}, the Worker's own work ${fmt(m.ownCpu)}`,
        cells: `${m.readRatio.toFixed(3)} | ${m.twinRatio.toFixed(3)} | **${m.ofTwin.toFixed(3)}** | ${m.p99OfTwin.toFixed(1)}× | ${fmt(m.ioCpu)} | **${fmt(m.ownCpu)}**`,
      },
    ];
  });
}

const results = new Map<ConfigName | "given", Row[]>();
const started = performance.now();
if (given) {
  console.warn(`Using the running server at ${given}: its own configuration applies.`);
  spread = true;
  results.set("given", await measureAll(given));
} else {
  for (const config of configs) {
    console.log(`\n== ${CONFIG_LABELS[config]} (port ${PORT}) ==`);
    spread = config.endsWith("-on");
    const off = Object.fromEntries(rateLimits.map((name) => [name, "off"]));
    server =
      config === "lean-on"
        ? await startLeanServer(PORT)
        : await startServer(
            PORT,
            ".wrangler/bench-endpoints-state",
            config === "dev-off" ? off : {},
          );
    try {
      results.set(config, await measureAll(server.base));
    } finally {
      await server.stop();
      server = undefined;
    }
  }
}
/** The detailed tables are of the configuration people deploy: limits on, wrangler dev. */
const primary: ConfigName | "given" = given
  ? "given"
  : configs.includes("dev-on")
    ? "dev-on"
    : (configs[0] ?? "dev-on");
const rows = results.get(primary) ?? [];
const seconds = Math.round((performance.now() - started) / 1000);

if (only) {
  // A partial run (e.g. to compare a change quickly): printed, not recorded.
  for (const [config, configRows] of results) {
    console.log(`\n${config}:`);
    const base = configRows[0]?.loaded.rps ?? 1;
    for (const { scenario, loaded, solo } of configRows) {
      console.log(
        `${scenario.name}: ${Math.round(loaded.rps)} requests/s (${(loaded.rps / base).toFixed(3)} of the baseline), p50 ${loaded.p50} ms, p99 ${loaded.p99} ms, Worker CPU ${loaded.cpuMs?.toFixed(3) ?? "n/a"} ms/request; alone p50 ${solo.p50} ms, mean ${solo.mean.toFixed(2)} ms`,
      );
    }
    for (const twin of twinComparisons(configRows)) console.log(twin.line);
  }
  process.exit(0);
}

// ---- The report ----------------------------------------------------------------------------

const find = (path: string) => {
  const row = rows.find((r) => r.scenario.path === path);
  if (!row) throw new Error(`no measure for ${path}`);
  return row;
};
const baseline = find("/_dev/noop");
const hash = find("/_dev/hash");
const login = find("/api/v1/auth/login/");

const ms = (n: number) => n.toFixed(1);
const ratio = (m: Measure) => m.rps / baseline.loaded.rps;
const answers = (m: Measure, expected: number) => {
  const list = Object.entries(m.answers)
    .map(([code, n]) => `${n} × ${code}`)
    .join(", ");
  const problems = [
    m.unexpected > 0 ? `**${m.unexpected} unexpected (not ${expected})**` : "",
    m.errors > 0
      ? `**${m.errors} socket errors${m.timeouts ? ` (${m.timeouts} timeouts)` : ""}**`
      : "",
  ].filter(Boolean);
  return [list || "none", ...problems].join("; ");
};

const cpu = (m: Measure) => (m.cpuMs === null ? "n/a" : m.cpuMs.toFixed(2));

const loadedTable = rows
  .map(
    ({ scenario, loaded }) =>
      `| ${scenario.name} | ${Math.round(loaded.rps)} | ${ms(loaded.p50)} | ${ms(loaded.p99)} | ${ratio(loaded).toFixed(3)} | ${cpu(loaded)} | ${loaded.unexpected + loaded.errors} | ${answers(loaded, scenario.expect)} |`,
  )
  .join("\n");
const soloTable = rows
  .map(
    ({ scenario, solo }) =>
      `| ${scenario.name} | ${ms(solo.p50)} | ${ms(solo.p99)} | ${ms(solo.mean)} | ${Math.round(solo.rps)} | ${solo.unexpected + solo.errors} |`,
  )
  .join("\n");

const hashCostP50 = hash.solo.p50 - baseline.solo.p50;
const hashCostMean = hash.solo.mean - baseline.solo.mean;
const overheadP50 = login.solo.p50 - hash.solo.p50;
const overheadMean = login.solo.mean - hash.solo.mean;
// Under load the server's one JavaScript thread is the bottleneck of CPU-bound routes, so the time
// it spends per request is about 1 / throughput.
const perRequest = (m: Measure) => 1000 / m.rps;
const overheadLoaded = perRequest(login.loaded) - perRequest(hash.loaded);
const flagged = rows.filter((r) => r.loaded.unexpected + r.loaded.errors > 0);

/** One row per scenario, one column group per configuration: the figures the targets are in. */
const configNames = [...results.keys()];
const compareTable = rows
  .map(({ scenario }) => {
    const cells = configNames.map((config) => {
      const configRows = results.get(config) ?? [];
      const row = configRows.find((r) => r.scenario.path === scenario.path);
      const base = configRows.find((r) => r.scenario.path === "/_dev/noop");
      if (!row || !base) return "– | – | – | –";
      const cpuAbove =
        row.loaded.cpuMs === null || base.loaded.cpuMs === null
          ? "n/a"
          : `${row.loaded.cpuMs >= base.loaded.cpuMs ? "+" : "−"}${Math.abs(row.loaded.cpuMs - base.loaded.cpuMs).toFixed(2)}`;
      return `${Math.round(row.loaded.rps)} | ${(row.loaded.rps / base.loaded.rps).toFixed(3)} | ${ms(row.loaded.p99)} (${(row.loaded.p99 / Math.max(1, base.loaded.p99)).toFixed(1)}×) | ${cpu(row.loaded)} (${cpuAbove})`;
    });
    return `| ${scenario.name} | ${cells.join(" | ")} |`;
  })
  .join("\n");
const configLabel = (c: ConfigName | "given") =>
  c === "given" ? `the server at ${given}` : CONFIG_LABELS[c];
const compareHeader = `| scenario | ${configNames.map((c) => `${configLabel(c)}: req/s | ratio | p99 ms (× baseline) | CPU ms (+ above baseline)`).join(" | ")} |
|---|${configNames.map(() => "---|---|---|---").join("|")}|`;

const twinTable = `| read | configuration | read / baseline | twin / baseline | read / twin | p99 × twin's | round trips: CPU ms above baseline | Worker's own: CPU ms above twin |
|---|---|---|---|---|---|---|---|
${configNames
  .flatMap((config) =>
    twinComparisons(results.get(config) ?? []).map(
      (t) => `| ${t.name} | ${configLabel(config)} | ${t.cells} |`,
    ),
  )
  .join("\n")}`;
/** Login beside the bare hash and its twin (the hash inside login's round trips), per configuration. */
const loginTable = `| configuration | login/s | its twin/s | hash/s | login / hash | twin / hash | login / twin | CPU ms: login above the hash | its round trips (twin above the hash) | login's own (above its twin) |
|---|---|---|---|---|---|---|---|---|---|
${configNames
  .map((config) => {
    const configRows = results.get(config) ?? [];
    const at = (path: string) => configRows.find((r) => r.scenario.path === path)?.loaded;
    const [l, t, h] = [at("/api/v1/auth/login/"), at(LOGIN_TWIN), at("/_dev/hash")];
    if (!l || !t || !h) return `| ${configLabel(config)} | – | – | – | – | – | – | – | – | – |`;
    const above = (a: Measure, b: Measure) =>
      a.cpuMs === null || b.cpuMs === null
        ? "n/a"
        : `${a.cpuMs >= b.cpuMs ? "+" : "−"}${Math.abs(a.cpuMs - b.cpuMs).toFixed(2)}`;
    return `| ${configLabel(config)} | ${Math.round(l.rps)} | ${Math.round(t.rps)} | ${Math.round(h.rps)} | **${(l.rps / h.rps).toFixed(3)}** | ${(t.rps / h.rps).toFixed(3)} | **${(l.rps / t.rps).toFixed(3)}** | ${above(l, h)} | ${above(t, h)} | **${above(l, t)}** |`;
  })
  .join("\n")}`;

const section = `## HTTP endpoints

${machine()}; \`npm run bench\` (bench/endpoints.ts), ${seconds} s in all: autocannon against
${
  given
    ? `the running server at ${given} (**its own configuration applied**), each request from its own
client address`
    : `the Worker in ${configNames.length} configuration${configNames.length === 1 ? "" : "s"}, one after another, each with a fresh state: ${configNames
        .map((c) => `**${configLabel(c)}**`)
        .join(", ")}. "wrangler dev" is the server \`npm start\` runs (local D1, KV, Queues, the
Durable Object and the rate-limiting binding, migrations applied); "Miniflare (built bundle)" is the
bundle \`wrangler deploy --dry-run\` writes, served by Miniflare's API with the same bindings and no
dev proxy in front (bench/lean-server.ts). "Limits on" is wrangler.toml's rate limits as deployed,
with every request from a client address of its own (CF-Connecting-IP drawn from 10.0.0.0/8), as
real clients spread; "limits off" sets ${rateLimits.map((n) => `\`${n}\``).join(", ")} to \`off\``
}. The load generator shares the machine's CPUs with workerd, so the numbers are for this machine,
not a forecast for Cloudflare; ratios are to the baseline of the same server in the same run.

### Configurations compared (${CONNECTIONS} connections)

${compareHeader}
${compareTable}

"ratio" is throughput over the baseline's (GET /_dev/noop) on the same server; "p99 × baseline"
is the scenario's p99 over the baseline's; "CPU ms" is the server's workerd CPU per request (from
/proc, local D1 and KV work included) and, in brackets, how much above the baseline's.

### Each read beside its round trips alone (${CONNECTIONS} connections)

${twinTable}

An I/O twin (GET /_dev/io, DEV_TOOLS only) is the baseline plus exactly a read's round trips —
for the profile one KV read and one D1 statement at once, for cached preferences one bulk KV read
of two keys, one of them present (test/bench-twins.test.ts checks each twin makes the same calls as its read) — and
none of its work. "read / baseline" is the issue's measure; "twin / baseline" is the most any
implementation of that read could reach on this server, because locally D1 and KV are simulated
inside the Worker's own workerd process (their CPU is counted with the Worker's, and they share
its thread); "read / twin" is how close the read comes to that bound. "CPU above baseline" of the
twin is what those round trips cost this runtime; "Worker's own" is the read's CPU above its twin:
the Worker's work (routing, authentication, building and decoding the query, the answer).

The tables below are of ${configLabel(primary)}.

Each scenario: a ${WARM_UP} s warm-up, then ${DURATION} s with ${CONNECTIONS} connections (throughput), then ${SOLO_DURATION} s with one
connection (the latency a single client sees). The ${DURATION} s under load are ${SLICES} slices of ${DURATION / SLICES} s taken in turns
with every other scenario's (every other round in reverse order), so a drift of the machine during
the run falls on all of them alike (p50 and p99 under load are then the slices' percentiles
averaged by their answers) — but for the CPU-bound register, login, its twin and the hash, whose
answers take most of a second under load, so a short slice would end with much of its work in
flight: each runs in two halves of ${DURATION / 2} s, the four one after another and then in reverse order. Before them, ${USERS} users are registered; their
access tokens take turns on the authenticated routes, their refresh tokens form the pool refresh
draws from (single use: each answer's new token goes back into the pool), the first
${LOGIN_ACCOUNTS} accounts take turns logging in, and each user's preferences are read once so the
preferences scenario measures cache hits. Register uses a new email per request, push tokens a new
token value per request. The baseline, GET /_dev/noop (DEV_TOOLS only), passes the same middleware
as every request and answers 204 with no I/O; POST /_dev/hash (DEV_TOOLS only) is one Argon2id
hash with the configured parameters (${hashParams()}) and nothing else.

All ${CONNECTIONS} connections for every scenario, so the ratios compare like with like. The CPU-bound
routes (register, login, the hash) are saturated long before that: more connections only queue
longer, so their p50 under load is mostly waiting, and their throughput is the figure to read.

### Under load (${CONNECTIONS} connections)

| scenario | requests/s | p50 ms | p99 ms | throughput vs baseline | Worker CPU ms/request | errors | answers |
|---|---|---|---|---|---|---|---|
${loadedTable}

"errors" counts answers other than the scenario's expected status plus socket errors. "Worker
CPU" is the CPU time of the server's workerd processes over the run (from /proc, so local D1 and
KV work is included) divided by the requests answered: the server's own cost, which the load
generator sharing the machine disturbs far less than throughput or latency.
${flagged.length === 0 ? "Every answer had the expected status; no socket errors." : `**Scenarios with errors:** ${flagged.map((r) => r.scenario.name).join("; ")}.`}

![Throughput as a ratio of the baseline](endpoints.svg)

### One request at a time (1 connection)

| scenario | p50 ms | p99 ms | mean ms | requests/s | errors |
|---|---|---|---|---|---|
${soloTable}

### Login and the password hash

Inside workerd the clock does not advance during CPU work, so nothing is timed inside the Worker:
every figure is autocannon's latency seen from outside, one request at a time, in this run.

| measure | p50 | mean |
|---|---|---|
| one Argon2id hash (POST /_dev/hash − GET /_dev/noop) | **${ms(hashCostP50)} ms** | ${ms(hashCostMean)} ms |
| login overhead above the hash (login − POST /_dev/hash) | **${ms(overheadP50)} ms** | ${ms(overheadMean)} ms |
| login, whole request | ${ms(login.solo.p50)} ms | ${ms(login.solo.mean)} ms |

The hash route's answer includes the HTTP round trip and the middleware, as the baseline's does,
so their difference is the hash. Login's difference from the hash route is everything login does
besides it, waiting included: the user lookup, the session, last-login and audit rows in one D1
batch, signing the access token and the device proof, and (limits on) its three Durable Object
calls: the network's and the account's counts at once beside the user lookup, then the account's
settling beside the batch. The p50 is the figure to
read: autocannon's percentiles have 1 ms resolution, and a mean takes in every pause (garbage
collection, the local queue consumer).

The same split under load: with both routes saturated, the Worker's one JavaScript thread is the
bottleneck, so the server time per request is about 1000 / requests/s — ${ms(perRequest(hash.loaded))} ms per hash,
${ms(perRequest(login.loaded))} ms per login, **${ms(overheadLoaded)} ms per login above the hash**; login's throughput is
${((login.loaded.rps / hash.loaded.rps) * 100).toFixed(0)} % of the bare hash's. Time login spends waiting on D1 overlaps other requests' hashing, so it
counts in the one-at-a-time overhead but hardly in this one.

Login beside its twin, POST /_dev/login-io (DEV_TOOLS only): one Argon2id hash inside exactly
login's round trips — the limiter's counts for the account and the client network (a new
instance for each new network) beside a D1 statement, then the account's settling beside a D1
batch of four (test/bench-twins.test.ts checks the twin makes login's calls at login's levels) —
and none of login's own work. "twin / hash" is then the most any login could reach on this
server, where the limiter and D1 are simulated on the Worker's own thread; "login / twin" is how
close login comes to it. The twin's statements are \`SELECT 1\`, cheaper than login's writes, so
login's CPU above its twin is an upper bound of login's own work.

${loginTable}
`;

writeSection("HTTP endpoints", section);
writeFileSync(
  CHART,
  chart(
    rows.map((r) => ({ label: r.scenario.name, value: ratio(r.loaded), rps: r.loaded.rps })),
    `${machine().replace(/\n/g, " ")}; ${primary === "given" ? `the server at ${given}` : CONFIG_LABELS[primary]}; npm run bench`,
  ),
);
console.log(section);

/**
 * A horizontal bar chart of throughput ratios, one bar per scenario, with the value at its end;
 * under the title, when and where it was measured, and a legend of the bars' colours.
 */
function chart(bars: { label: string; value: number; rps: number }[], measured: string): string {
  const labelWidth = 400;
  const plotWidth = 420;
  const barHeight = 22;
  const gap = 10;
  const top = 90;
  const bottom = 40;
  const height = top + bars.length * (barHeight + gap) + bottom;
  const width = labelWidth + plotWidth + 130;
  const max = Math.max(1, ...bars.map((b) => b.value));
  const x = (v: number) => labelWidth + (v / max) * plotWidth;
  const escapeXml = (s: string) =>
    s.replaceAll("&", "&amp;").replaceAll("<", "&lt;").replaceAll(">", "&gt;");
  const ticks = [0, 0.25, 0.5, 0.75, 1, ...(max > 1 ? [max] : [])];
  const plotBottom = top + bars.length * (barHeight + gap);
  const parts = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="system-ui, sans-serif" font-size="13" role="img">`,
    `<title>Throughput of each endpoint as a ratio of the baseline (npm run bench)</title>`,
    `<rect width="100%" height="100%" fill="#ffffff"/>`,
    `<text x="${width / 2}" y="24" text-anchor="middle" font-size="15" font-weight="bold">Throughput as a ratio of the baseline (GET /_dev/noop), ${CONNECTIONS} connections</text>`,
    `<text x="${width / 2}" y="44" text-anchor="middle" fill="#555555">${escapeXml(measured)}</text>`,
    ...[
      ["#2f6fb0", "≥ 0.5 of the baseline"],
      ["#e08a1e", "0.1 – 0.5"],
      ["#c0392b", "< 0.1 (a password hash: by design)"],
    ].map(
      ([fill, text], i) =>
        `<rect x="${200 + i * 230}" y="56" width="12" height="12" fill="${fill}"/>` +
        `<text x="${200 + i * 230 + 18}" y="66">${escapeXml(text ?? "")}</text>`,
    ),
    ...ticks.map(
      (t) =>
        `<line x1="${x(t)}" y1="${top - 8}" x2="${x(t)}" y2="${plotBottom}" stroke="${t === 1 ? "#555555" : "#dddddd"}"${t === 1 ? ' stroke-dasharray="4 3"' : ""}/>` +
        `<text x="${x(t)}" y="${plotBottom + 18}" text-anchor="middle" fill="#555555">${t.toFixed(2)}</text>`,
    ),
    ...bars.map((bar, i) => {
      const y = top + i * (barHeight + gap);
      const w = Math.max(1, x(bar.value) - labelWidth);
      const fill = bar.value >= 0.5 ? "#2f6fb0" : bar.value >= 0.1 ? "#e08a1e" : "#c0392b";
      return [
        `<text x="${labelWidth - 10}" y="${y + barHeight / 2 + 4}" text-anchor="end">${escapeXml(bar.label)}</text>`,
        `<rect x="${labelWidth}" y="${y}" width="${w.toFixed(1)}" height="${barHeight}" fill="${fill}"/>`,
        `<text x="${(labelWidth + w + 6).toFixed(1)}" y="${y + barHeight / 2 + 4}">${bar.value.toFixed(3)} (${Math.round(bar.rps)}/s)</text>`,
      ].join("");
    }),
    `<text x="${labelWidth + plotWidth / 2}" y="${height - 8}" text-anchor="middle" fill="#555555">requests/s ÷ baseline requests/s (dashed: the baseline)</text>`,
    "</svg>",
  ];
  return `${parts.join("\n")}\n`;
}
