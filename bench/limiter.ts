/**
 * `npm run bench:limiter` — what the RateLimiter Durable Object costs, measured with autocannon
 * against the locally served Worker (wrangler dev, local Durable Objects):
 *
 * - baseline: GET /.well-known/jwks.json (the cheapest route) with the general per-client limit
 *   switched off, so no limiter is called;
 * - one hot key: every request from one client address, under the default 300 a minute — after
 *   the first 300, every answer is a 429 decided by that one limiter instance;
 * - many keys: every request from a new address, so every request is a limiter instance's first;
 * - returning clients: 2,000 addresses in turn, each well under its limit (the ordinary case).
 *
 * The latency the limiter adds is the difference from the baseline. Results go to
 * bench/RESULTS.md ("Rate limiter").
 */
import autocannon from "autocannon";
import { machine, startServer, writeSection } from "./local-server.ts";

const PORT = Number(process.env.BENCH_PORT ?? 8796);
const DURATION = Number(process.env.BENCH_DURATION ?? 10);
const CONNECTIONS = 20;
const PATH = "/.well-known/jwks.json";

interface Scenario {
  name: string;
  /** The client address of each request. */
  ip: () => string;
}

interface Measure {
  name: string;
  rps: number;
  p50: number;
  p99: number;
  mean: number;
  statuses: string;
  errors: number;
}

let counter = 0;
const address = (n: number) => `10.${(n >> 16) & 255}.${(n >> 8) & 255}.${n & 255}`;

async function run(
  base: string,
  scenario: Scenario,
  duration = DURATION,
  connections = CONNECTIONS,
): Promise<Measure> {
  const result = await autocannon({
    url: base,
    connections,
    duration,
    requests: [
      {
        method: "GET",
        path: PATH,
        setupRequest: (req) => ({
          ...req,
          headers: { ...req.headers, "CF-Connecting-IP": scenario.ip() },
        }),
      },
    ],
  });
  const codes = result.statusCodeStats as unknown as Record<string, { count: number }>;
  return {
    name: scenario.name,
    rps: result.requests.average,
    p50: result.latency.p50,
    p99: result.latency.p99,
    mean: result.latency.mean,
    statuses: Object.entries(codes)
      .map(([code, { count }]) => `${count} × ${code}`)
      .join(", "),
    errors: result.errors + result.timeouts,
  };
}

const warmUp: Scenario = { name: "warm-up", ip: () => address(200_000 + (counter++ % 1000)) };

// 1. No limiter.
const off = await startServer(PORT, ".wrangler/bench-limiter-state", {
  RATE_LIMIT_GLOBAL_IP: "off",
});
let baseline: Measure;
let baselineAlone: Measure;
try {
  await run(off.base, warmUp, 3);
  const noLimiter = {
    name: "baseline: general limit off (no limiter call)",
    ip: () => "10.255.0.1",
  };
  baseline = await run(off.base, noLimiter);
  baselineAlone = await run(off.base, noLimiter, DURATION, 1);
} finally {
  await off.stop();
}

// 2. The defaults (300 a minute per client network).
const on = await startServer(PORT, ".wrangler/bench-limiter-state");
const measures: Measure[] = [baseline];
let limitedAlone: Measure | undefined;
try {
  await run(on.base, warmUp, 3);
  measures.push(
    await run(on.base, { name: "one hot key (one client; 429 after 300)", ip: () => "10.254.0.1" }),
  );
  let fresh = 0;
  measures.push(
    await run(on.base, {
      name: "many keys (a new client every request)",
      ip: () => address(300_000 + fresh++),
    }),
  );
  let turn = 0;
  const returningClients = {
    name: "returning clients (2,000 in turn, under their limit)",
    ip: () => address(100_000 + (turn++ % 2000)),
  };
  measures.push(await run(on.base, returningClients));
  limitedAlone = await run(on.base, returningClients, DURATION, 1);
} finally {
  await on.stop();
}

const ms = (n: number) => n.toFixed(1);
const rows = measures
  .map(
    (m) =>
      `| ${m.name} | ${Math.round(m.rps)} | ${ms(m.p50)} | ${ms(m.p99)} | ${ms(m.mean)} | ${m.statuses}${m.errors ? `; ${m.errors} errors` : ""} |`,
  )
  .join("\n");
const alone = (m: Measure) =>
  `| ${m.name} | ${ms(m.p50)} | ${ms(m.p99)} | ${ms(m.mean)} | ${Math.round(m.rps)} |`;
const added = limitedAlone
  ? `${ms(limitedAlone.p50 - baselineAlone.p50)} ms at the median, ${ms(limitedAlone.mean - baselineAlone.mean)} ms on average`
  : "n/a";

const section = `## Rate limiter

${machine()}; \`npm run bench:limiter\` (bench/limiter.ts): autocannon, ${CONNECTIONS} connections,
${DURATION} s per scenario (after a 3 s warm-up), GET ${PATH} against \`wrangler dev\` with a local
Durable Object; the load generator shares the machine's CPUs with workerd. Every request passes
the general per-client limit (one limiter call) unless it is switched off.

| scenario | requests/s | p50 ms | p99 ms | mean ms | answers |
|---|---|---|---|---|---|
${rows}

One request at a time (1 connection), the latency a single client sees:

| scenario | p50 ms | p99 ms | mean ms | requests/s |
|---|---|---|---|---|
${alone(baselineAlone)}
${limitedAlone ? alone(limitedAlone) : ""}

Latency the limiter adds to a request (one at a time, returning clients − baseline): **${added}**.

Reading it: a refused request (the hot key past its limit) is cheap — the object answers from its
log without writing. An allowed request writes its timestamp (and the clean-up alarm) to the
object's SQLite storage before the answer leaves, so exact, eviction-proof counting costs one
storage commit per request. Locally every object is its own SQLite file on disk and all of them
share one workerd process and the two CPUs with the load generator, so the concurrent figures for
many keys are a floor for this machine, not a forecast for Cloudflare. The log holds at most
\`limit\` timestamps per key (300 for the general limit), so a hit's cost does not grow with traffic.
`;
writeSection("Rate limiter", section);
console.log(section);
