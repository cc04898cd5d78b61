/**
 * Where the Worker's own CPU goes: serves the built bundle on Miniflare (bench/lean-server.ts,
 * limits on) with the V8 inspector open, runs one scenario one request at a time under V8's
 * sampling profiler, and prints the functions of the Worker's isolate by self and by inclusive
 * time per request.
 *
 *   npm run bench:profile -- profile 400     # scenario (noop, profile, preferences, hash, login), requests
 *
 * The profiler slows everything (about 2× here), so read the split, not the absolute numbers. The
 * Durable Object runs in the Worker's isolate locally (in production it runs elsewhere), so its
 * SQL shows up here; D1's and KV's stores run in other isolates of the same process and do not,
 * except the bindings' own work in this one (`toJson` of `d1-api`, KV's `get`).
 */
import { startLeanServer } from "./lean-server.ts";

const [scenario = "profile", count = "300"] = process.argv.slice(2);
const N = Number(count);
const PORT = 8799;
const INSPECTOR_PORT = 9231;

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  children?: number[];
}
interface Profile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
}

process.env.BENCH_INSPECTOR_PORT = String(INSPECTOR_PORT);
const server = await startLeanServer(PORT);
try {
  const base = server.base;
  let n = 1;
  const clientIp = () => `10.${(n >> 16) & 255}.${(n >> 8) & 255}.${n++ & 255}`;
  const email = `profile-${Date.now()}@example.com`;
  const password = "correct horse battery staple 9";
  const json = { "content-type": "application/json" };
  const registered = await fetch(`${base}/api/v1/users/`, {
    method: "POST",
    headers: { ...json, "CF-Connecting-IP": clientIp() },
    body: JSON.stringify({ email, password }),
  });
  const body = (await registered.json()) as { data: { access_token: string } };
  const bearer = { Authorization: `Bearer ${body.data.access_token}` };
  const requests: Record<string, () => [string, RequestInit]> = {
    noop: () => ["/_dev/noop", {}],
    profile: () => ["/api/v1/users/me/", { headers: bearer }],
    preferences: () => ["/api/v1/users/preferences/", { headers: bearer }],
    hash: () => ["/_dev/hash", { method: "POST" }],
    login: () => [
      "/api/v1/auth/login/",
      { method: "POST", headers: json, body: JSON.stringify({ email, password }) },
    ],
  };
  const make = requests[scenario];
  if (!make) throw new Error(`scenario: one of ${Object.keys(requests).join(", ")}`);
  const one = async () => {
    const [path, init] = make();
    const headers = { ...(init.headers as Record<string, string>), "CF-Connecting-IP": clientIp() };
    const res = await fetch(`${base}${path}`, { ...init, headers });
    await res.arrayBuffer();
    if (res.status >= 300) throw new Error(`${path}: ${res.status}`);
  };
  for (let i = 0; i < 30; i++) await one(); // warm up (and fill the preferences cache)

  const targets = (await (await fetch(`http://127.0.0.1:${INSPECTOR_PORT}/json`)).json()) as {
    title: string;
    webSocketDebuggerUrl: string;
  }[];
  const target = targets.find((t) => t.title.includes("user-service"));
  if (!target) throw new Error("no inspector target for the Worker");
  const ws = new WebSocket(target.webSocketDebuggerUrl);
  await new Promise((resolve) => ws.addEventListener("open", resolve));
  let id = 0;
  const pending = new Map<number, (result: unknown) => void>();
  ws.addEventListener("message", (event) => {
    const message = JSON.parse(String(event.data)) as { id?: number; result?: unknown };
    if (message.id !== undefined) pending.get(message.id)?.(message.result);
  });
  const send = <T>(method: string, params = {}) =>
    new Promise<T>((resolve) => {
      pending.set(++id, resolve as (result: unknown) => void);
      ws.send(JSON.stringify({ id, method, params }));
    });
  await send("Profiler.enable");
  await send("Profiler.setSamplingInterval", { interval: 100 });
  await send("Profiler.start");
  const cpuBefore = server.cpuSeconds();
  for (let i = 0; i < N; i++) await one();
  const cpuAfter = server.cpuSeconds();
  const { profile } = await send<{ profile: Profile }>("Profiler.stop");
  ws.close();

  const nodes = new Map(profile.nodes.map((node) => [node.id, node]));
  const parents = new Map<number, number>();
  for (const node of profile.nodes)
    for (const child of node.children ?? []) parents.set(child, node.id);
  const label = (node: ProfileNode) => {
    const file = node.callFrame.url.split("/").pop() || "native";
    return `${node.callFrame.functionName || "(anonymous)"} (${file}:${node.callFrame.lineNumber + 1})`;
  };
  const self = new Map<string, number>();
  const inclusive = new Map<string, number>();
  profile.samples.forEach((sample, i) => {
    const us = profile.timeDeltas[i] ?? 0;
    const top = nodes.get(sample);
    if (top) self.set(label(top), (self.get(label(top)) ?? 0) + us);
    const seen = new Set<string>();
    for (let at: number | undefined = sample; at !== undefined; at = parents.get(at)) {
      const node = nodes.get(at);
      if (!node || seen.has(label(node))) continue;
      seen.add(label(node));
      inclusive.set(label(node), (inclusive.get(label(node)) ?? 0) + us);
    }
  });
  const perRequest = (us: number) => `${(us / 1000 / N).toFixed(3)} ms`;
  const cpu =
    cpuBefore !== null && cpuAfter !== null
      ? `, workerd CPU ${(((cpuAfter - cpuBefore) * 1000) / N).toFixed(2)} ms/request`
      : "";
  console.log(`${scenario}: ${N} requests under the profiler${cpu}\n`);
  for (const [title, times] of [
    ["self time", self],
    ["inclusive time", inclusive],
  ] as const) {
    console.log(`by ${title}, per request:`);
    for (const [name, us] of [...times].sort((a, b) => b[1] - a[1]).slice(0, 30)) {
      console.log(`  ${perRequest(us).padStart(10)}  ${name}`);
    }
    console.log();
  }
} finally {
  await server.stop();
}
