/**
 * The leanest local runtime for the Worker: the bundle wrangler would upload (`wrangler deploy
 * --dry-run --outdir`, the local entry so the baseline route exists), served by Miniflare's API —
 * workerd with local D1, KV, Queues, the Durable Object and the rate-limiting binding, configured
 * from wrangler.toml by wrangler's own `unstable_getMiniflareWorkerOptions`, and no dev proxy,
 * bundler watch or live reload in front. Beside `wrangler dev`, it shows the Worker's own cost
 * apart from the dev server's.
 */
import { spawnSync } from "node:child_process";
import { readdirSync, readFileSync, rmSync } from "node:fs";
import { join } from "node:path";
import { parseEnv } from "node:util";
import { convertV4MiniflareOptions, Miniflare, type V4MiniflareOptions } from "miniflare";
import { unstable_getMiniflareWorkerOptions } from "wrangler";
import { ensureDevVars } from "../scripts/dev-vars.ts";
import type { LocalServer } from "./local-server.ts";

const BUNDLE = ".wrangler/bench-lean-bundle";

/** CPU seconds of the workerd processes this process started (Miniflare's), from /proc. */
function childWorkerdCpuSeconds(): number | null {
  let total = 0;
  try {
    for (const pid of readdirSync("/proc").filter((name) => /^\d+$/.test(name))) {
      let stat: string;
      try {
        stat = readFileSync(`/proc/${pid}/stat`, "utf8");
      } catch {
        continue;
      }
      const comm = stat.slice(stat.indexOf("(") + 1, stat.lastIndexOf(")"));
      const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
      if (comm !== "workerd" || Number(fields[1]) !== process.pid) continue;
      total += Number(fields[11]) + Number(fields[12]);
    }
  } catch {
    return null;
  }
  return total / 100;
}

export async function startLeanServer(
  port: number,
  vars: Record<string, string> = {},
): Promise<LocalServer> {
  await ensureDevVars();
  rmSync(BUNDLE, { recursive: true, force: true });
  // With this Node (wrangler needs 22), whatever `node` the PATH holds.
  const built = spawnSync(
    process.execPath,
    ["node_modules/wrangler/bin/wrangler.js", "deploy", "--dry-run", "--outdir", BUNDLE],
    { stdio: "ignore", env: { ...process.env, CI: "true" } },
  );
  if (built.status !== 0) throw new Error("wrangler could not build the bundle");
  const { workerOptions } = unstable_getMiniflareWorkerOptions("wrangler.toml");
  const secrets = parseEnv(readFileSync(".dev.vars", "utf8"));
  // wrangler hands out options in Miniflare's v4 shape; Miniflare 5 converts them.
  const options = {
    host: "127.0.0.1",
    port,
    ...(process.env.BENCH_INSPECTOR_PORT
      ? { inspectorPort: Number(process.env.BENCH_INSPECTOR_PORT) }
      : {}),
    // The Worker's one log line per request is written, as in production, but not printed here.
    handleStructuredLogs: () => {},
    workers: [
      {
        ...workerOptions,
        name: "user-service",
        // Every file of the bundle by its type: the entry, the WebAssembly, the docs' text modules.
        modulesRoot: BUNDLE,
        modules: readdirSync(BUNDLE)
          .filter((f) => /\.(js|wasm|css)$/.test(f))
          .sort((a, b) => Number(b === "local.js") - Number(a === "local.js"))
          .map((f) => ({
            type: f === "local.js" ? "ESModule" : f.endsWith(".wasm") ? "CompiledWasm" : "Text",
            path: join(BUNDLE, f),
          })),
        bindings: { ...(workerOptions.bindings as Record<string, unknown>), ...secrets, ...vars },
      },
    ],
  } as V4MiniflareOptions;
  const mf = new Miniflare(convertV4MiniflareOptions(options));
  await mf.ready;
  // The migrations, as `wrangler d1 migrations apply` would run them.
  const db = await mf.getD1Database("DB");
  for (const file of readdirSync("migrations")
    .filter((f) => f.endsWith(".sql"))
    .sort()) {
    const sql = readFileSync(join("migrations", file), "utf8");
    for (const statement of sql.split("--> statement-breakpoint")) {
      if (statement.trim()) await db.prepare(statement).run();
    }
  }
  return {
    base: `http://127.0.0.1:${port}`,
    cpuSeconds: childWorkerdCpuSeconds,
    stop: async () => {
      await mf.dispose();
    },
  };
}
