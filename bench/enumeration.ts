/**
 * `npm run bench:enumeration` — whether the answer's timing tells who has an account, measured
 * against the locally served Worker (wrangler dev, local D1/KV/Queues/DOs, rate limits on as
 * deployed). Two requests that must answer alike, for addresses with an active account, a
 * deactivated one and none:
 *
 * - POST /api/v1/auth/otp/ (an emailed sign-in code), with EMAIL_CODE_SIGN_UP off — the setting
 *   under which the paths differ (with it on, an unknown address gets a code like a known one);
 * - POST /api/v1/auth/password-reset/, for comparison: the same design, older.
 *
 * Each address is asked once (so no per-address limit is reached), from an address of its own,
 * one request at a time, the three kinds interleaved round by round so drift hits them alike.
 * Results go to bench/RESULTS.md ("Enumeration timing"): medians and p90 per kind, and each
 * kind's median as a ratio to the known-account median of the same run.
 */
import { machine, startServer, writeSection } from "./local-server.ts";

const PORT = Number(process.env.BENCH_PORT ?? 8799);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 150);
const PASSWORD = "violet-Harbor-42-lantern";
const SETTLE_MS = 150;
const KINDS = ["active account", "deactivated account", "no account"] as const;
type Kind = (typeof KINDS)[number];

let client = 0;
const nextClient = () => {
  client += 1;
  return `10.${(client >> 16) & 255}.${(client >> 8) & 255}.${client & 255}`;
};

async function post(base: string, path: string, body: unknown, token?: string) {
  const res = await fetch(`${base}/api/v1${path}`, {
    method: path.startsWith("/users/me") ? "DELETE" : "POST",
    headers: {
      "Content-Type": "application/json",
      "CF-Connecting-IP": nextClient(),
      ...(token ? { Authorization: `Bearer ${token}` } : {}),
    },
    body: JSON.stringify(body),
  });
  const text = await res.text();
  return { status: res.status, text };
}

/** Registers an account (deactivated if asked); its address. */
async function account(base: string, n: number, deactivated: boolean): Promise<string> {
  const email = `enum.${deactivated ? "gone" : "here"}.${n}.${Date.now()}@example.com`;
  const res = await post(base, "/users/", { email, password: PASSWORD });
  if (res.status !== 201) throw new Error(`registration answered ${res.status}: ${res.text}`);
  if (deactivated) {
    const token = (JSON.parse(res.text) as { data: { access_token: string } }).data.access_token;
    const gone = await post(base, "/users/me/", {}, token);
    if (gone.status !== 200) throw new Error(`deactivation answered ${gone.status}`);
  }
  return email;
}

const quantile = (sorted: number[], q: number) =>
  sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? Number.NaN;

async function measure(base: string, path: string) {
  const addresses: Record<Kind, string[]> = {
    "active account": [],
    "deactivated account": [],
    "no account": [],
  };
  for (let i = 0; i < ROUNDS; i++) {
    addresses["active account"].push(await account(base, i, false));
    addresses["deactivated account"].push(await account(base, i, true));
    addresses["no account"].push(`enum.none.${i}.${Date.now()}@example.com`);
  }
  const times: Record<Kind, number[]> = {
    "active account": [],
    "deactivated account": [],
    "no account": [],
  };
  const bodies = new Set<string>();
  for (let i = 0; i < ROUNDS; i++) {
    // A different order each round: no kind always follows another.
    const order = [...KINDS].sort(() => Math.random() - 0.5);
    for (const kind of order) {
      const email = addresses[kind][i] ?? "";
      // The work a request leaves for after its answer (and the queue consumers it wakes) must
      // not land in the next request's time: this machine has two cores for both.
      await new Promise((resolve) => setTimeout(resolve, SETTLE_MS));
      const started = performance.now();
      const res = await post(base, path, { email });
      times[kind].push(performance.now() - started);
      if (res.status !== 202) throw new Error(`${path} answered ${res.status}: ${res.text}`);
      bodies.add(res.text);
    }
  }
  const baseline = quantile(
    [...times["active account"]].sort((a, b) => a - b),
    0.5,
  );
  const rows = KINDS.map((kind) => {
    const sorted = [...times[kind]].sort((a, b) => a - b);
    const median = quantile(sorted, 0.5);
    return `| \`POST ${path}\` | ${kind} | ${median.toFixed(2)} | ${quantile(sorted, 0.9).toFixed(2)} | ${(median / baseline).toFixed(2)} |`;
  });
  return { rows, bodies: bodies.size };
}

async function main() {
  const server = await startServer(PORT, ".wrangler/bench-enumeration-state", {
    EMAIL_CODE_SIGN_UP: "false",
  });
  try {
    const codes = await measure(server.base, "/auth/otp/");
    const resets = await measure(server.base, "/auth/password-reset/");
    const section = `## Enumeration timing

${machine()}; \`npm run bench:enumeration\` (${ROUNDS} addresses of each kind per route, one request
at a time, kinds interleaved in a random order each round, every address asked once from a client
address of its own; rate limits on; EMAIL_CODE_SIGN_UP off).

| request | address | median ms | p90 ms | median / active account's |
|---|---|---|---|---|
${[...codes.rows, ...resets.rows].join("\n")}

Every answer was 202 with one body per route (${codes.bodies} distinct body for the code, ${resets.bodies}
for the reset). The answer waits for nothing the address decides: the lookup, the code or token
and the write run after it (\`afterResponse\`, src/middleware/publish-events.ts). Done before the
answer, as first written, an active account's median here was about 1.25 times the others'.`;
    writeSection("Enumeration timing", section);
    console.log(section);
  } finally {
    await server.stop();
  }
}

await main();
