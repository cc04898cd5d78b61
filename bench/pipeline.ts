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
import { machine, pool, startServer, waitFor, writeSection } from "./local-server.ts";

const PORT = Number(process.env.BENCH_PORT ?? 8797);
const USERS = Number(process.env.BENCH_USERS ?? 200);
const REGISTER_CONCURRENCY = 8;
const PUSH_USERS = 50;
const PUSH_PER_USER = 20;

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

const rate = (n: number, ms: number) => (n / (ms / 1000)).toFixed(1);

// One client sends every request: the per-client rate limits would measure themselves, not the
// pipeline (bench/limiter.ts measures them).
const server = await startServer(PORT, ".wrangler/bench-state", {
  RATE_LIMIT_REGISTER_IP: "off",
  RATE_LIMIT_GLOBAL_IP: "off",
});
const BASE = server.base;

try {
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

  const section = `## Event pipeline

${machine()}; \`npm run bench:pipeline\` (bench/pipeline.ts) against \`wrangler dev\` with local
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
  writeSection("Event pipeline", section);
  console.log(section);
} finally {
  await server.stop();
}
