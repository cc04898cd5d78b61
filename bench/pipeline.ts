/**
 * `npm run bench:pipeline` — a load check of the event pipeline against the locally served Worker
 * (wrangler dev, local D1/KV/Queues), in a state directory of its own:
 *
 * 1. registrations per second, and how long until every `user.created` event is published and
 *    received by the local user-events consumer (counted, one by one, in the dev mailbox);
 * 2. push requests per second the consumer sustains with the configured batch size (25): requests
 *    are enqueued through POST /_dev/push-requests and counted as `queued` statuses (through the
 *    service API) and as jobs received by the local push-delivery consumer.
 *
 * Results are written to bench/RESULTS.md (the "Event pipeline" section).
 */
import { type ChildProcess, spawn, spawnSync } from "node:child_process";
import { existsSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { cpus, totalmem } from "node:os";
import { ensureDevVars } from "../scripts/dev-vars.ts";

const PORT = Number(process.env.BENCH_PORT ?? 8797);
const BASE = `http://127.0.0.1:${PORT}`;
const STATE = ".wrangler/bench-state";
const USERS = Number(process.env.BENCH_USERS ?? 200);
const REGISTER_CONCURRENCY = 8;
const PUSH_USERS = 50;
const PUSH_PER_USER = 20;
const wrangler = "node_modules/.bin/wrangler";

/** Sums a per-user count over users, through the service API (no direct database access). */
async function sumOver<T>(items: T[], count: (item: T) => Promise<number>): Promise<number> {
  let sum = 0;
  await pool(items.length, 10, async (i) => {
    const item = items[i];
    if (item === undefined) return;
    // Awaited first: "sum += await …" would read sum before the await and lose updates.
    const n = await count(item);
    sum += n;
  });
  return sum;
}

async function getJson<T>(path: string, headers: Record<string, string> = {}): Promise<T> {
  const res = await fetch(`${BASE}${path}`, { headers });
  if (!res.ok) throw new Error(`${path} answered ${res.status}: ${await res.text()}`);
  return (await res.json()) as T;
}

async function waitFor(what: string, done: () => Promise<boolean> | boolean, timeoutMs = 300_000) {
  const started = performance.now();
  while (!(await done())) {
    if (performance.now() - started > timeoutMs) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
}

/** Runs `task(i)` for i in [0, n) with at most `concurrency` in flight. */
async function pool(n: number, concurrency: number, task: (i: number) => Promise<void>) {
  let next = 0;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < n) await task(next++);
    }),
  );
}

async function post(path: string, body: unknown, token?: string) {
  const res = await fetch(`${BASE}${path}`, {
    method: "POST",
    headers: {
      "Content-Type": "application/json",
      ...(token ? { Authorization: `Bearer ${token}` } : {}),
    },
    body: JSON.stringify(body),
  });
  if (!res.ok) throw new Error(`${path} answered ${res.status}: ${await res.text()}`);
  return (await res.json()) as { data: Record<string, unknown> };
}

function startServer(): ChildProcess {
  rmSync(STATE, { recursive: true, force: true });
  const migrate = spawnSync(
    wrangler,
    ["d1", "migrations", "apply", "DB", "--local", "--persist-to", STATE],
    {
      stdio: "ignore",
      env: { ...process.env, CI: "true" },
    },
  );
  if (migrate.status !== 0) throw new Error("migrations failed");
  return spawn(
    wrangler,
    [
      "dev",
      "--port",
      String(PORT),
      "--persist-to",
      STATE,
      "--show-interactive-dev-session=false",
      "--log-level",
      "error",
    ],
    { stdio: "ignore", detached: true },
  );
}

const rate = (n: number, ms: number) => (n / (ms / 1000)).toFixed(1);

await ensureDevVars();
const server = startServer();
const stop = () => {
  if (server.pid) process.kill(-server.pid, "SIGTERM");
};
process.on("exit", stop);

try {
  await waitFor("the server", async () => {
    try {
      return (await fetch(`${BASE}/health`)).ok;
    } catch {
      return false;
    }
  });

  // 1. Registrations and their events.
  const run = crypto.randomUUID().slice(0, 8);
  const users: { id: string; email: string; token: string }[] = [];
  const regStart = performance.now();
  await pool(USERS, REGISTER_CONCURRENCY, async (i) => {
    const email = `bench-${run}-${i}@example.com`;
    const { data } = await post("/api/v1/users/", { email, password: "violet-Harbor-42" });
    const user = data.user as { id: string };
    users.push({ id: user.id, email, token: data.access_token as string });
  });
  const regMs = performance.now() - regStart;
  let delivered = 0;
  await waitFor("every user.created event received by the consumer", async () => {
    delivered = await sumOver(users, async (user) => {
      const { data } = await getJson<{ data: { type: string }[] }>(
        `/_dev/mailbox?to=${encodeURIComponent(user.email)}`,
      );
      return data.some((m) => m.type === "user.created") ? 1 : 0;
    });
    return delivered >= USERS;
  });
  const deliveredMs = performance.now() - regStart;

  // 2. Push requests through the consumer.
  const pushUsers = users.slice(0, PUSH_USERS);
  await pool(pushUsers.length, 8, async (i) => {
    const user = pushUsers[i];
    if (!user) return;
    await post(
      "/api/v1/users/push-tokens/",
      { token: `bench-token-${user.id}`, platform: "android" },
      user.token,
    );
  });
  const total = PUSH_USERS * PUSH_PER_USER;
  const pushStart = performance.now();
  // Enqueued in batches of 100 (as a platform would publish a burst), so the measure is the
  // consumer's pace rather than that of 1,000 HTTP round trips.
  await pool(total / 100, 4, async (b) => {
    const batch = Array.from({ length: 100 }, (_, k) => {
      const i = b * 100 + k;
      return {
        notification_id: `bench-${run}-${i}`,
        user_id: pushUsers[i % PUSH_USERS]?.id,
        template_code: "bench",
        variables: { i },
        priority: "normal",
        category: "transactional",
        metadata: {},
      };
    });
    await post("/_dev/push-requests", batch);
  });
  const enqueueMs = performance.now() - pushStart;
  const service = { "X-Service-Key": "dev-service-key" };
  let queued = 0;
  await waitFor("all push requests processed", async () => {
    queued = await sumOver(pushUsers, async (user) => {
      const { meta } = await getJson<{ meta: { total: number } }>(
        `/api/v1/users/${user.id}/notifications/?channel=push&status=queued&limit=1`,
        service,
      );
      return meta.total;
    });
    return queued >= total;
  });
  const pushMs = performance.now() - pushStart;
  let jobs = 0;
  await waitFor("all delivery jobs received by the consumer", async () => {
    jobs = await sumOver(pushUsers, async (user) => {
      const { data } = await getJson<{ data: unknown[] }>(
        `/_dev/push-deliveries?user_id=${user.id}`,
      );
      return data.length;
    });
    return jobs >= total;
  });
  const jobsMs = performance.now() - pushStart;

  const cpu = cpus();
  const date = new Date().toISOString().slice(0, 10);
  const section = `## Event pipeline

Date ${date}; ${cpu.length} × ${cpu[0]?.model ?? "unknown CPU"}, ${Math.round(totalmem() / 2 ** 30)} GiB;
Node ${process.version}; \`npm run bench:pipeline\` (bench/pipeline.ts) against \`wrangler dev\` with local
D1, KV and Queues, everything on one machine (the load generator shares the CPU with workerd).
Everything is counted through the API (dev mailbox, dev push deliveries, the service lookup of a
user's statuses), polled every 250 ms, so the "until" times are upper bounds.

| measure | result |
|---|---|
| registrations (${USERS}, ${REGISTER_CONCURRENCY} at a time; each one an Argon2id hash) | ${regMs.toFixed(0)} ms, **${rate(USERS, regMs)} registrations/s** |
| until all ${USERS} \`user.created\` events were published and received by the local user-events consumer (dev mailbox) | ${deliveredMs.toFixed(0)} ms after the first registration; ${delivered}/${USERS} received |
| push requests enqueued (${total} in batches of 100, for ${PUSH_USERS} users with one device each) | ${enqueueMs.toFixed(0)} ms |
| push requests processed by the consumer (batches of 25) into \`queued\` statuses | ${pushMs.toFixed(0)} ms from the first enqueue, **${rate(total, pushMs)} requests/s**; ${queued}/${total} queued |
| until all delivery jobs were received by the local push-delivery consumer | ${jobsMs.toFixed(0)} ms from the first enqueue; ${jobs}/${total} |
`;
  const path = "bench/RESULTS.md";
  const header =
    "# Benchmark results\n\nMeasured, never asserted: each section says how it was produced.\n\n";
  const existing = existsSync(path) ? readFileSync(path, "utf8") : header;
  const others = existing.replace(/## Event pipeline[\s\S]*?(?=\n## |$)/, "").trimEnd();
  writeFileSync(path, `${others}\n\n${section}`);
  console.log(section);
} finally {
  stop();
}
