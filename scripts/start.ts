/**
 * `npm start` / `npm run dev`: everything a newcomer needs, with no setup.
 *
 * 1. Creates `.dev.vars` (git-ignored) with a fresh ES256 key pair and the local service key if it
 *    has no signing key yet.
 * 2. Applies the D1 migrations to the local database under .wrangler/.
 * 3. Serves the Worker on http://localhost:$PORT (default 8787) with local D1, KV, Queues and the
 *    Durable Object.
 *
 * `--interactive` keeps wrangler's hotkeys (npm run dev); `npm start` is plain output for logs/CI.
 */
import { spawn, spawnSync } from "node:child_process";
import { ensureDevVars } from "./dev-vars.ts";

const wrangler = "node_modules/.bin/wrangler";

function run(args: string[]) {
  const result = spawnSync(wrangler, args, {
    stdio: "inherit",
    env: { ...process.env, CI: "true" },
  });
  if (result.status !== 0) process.exit(result.status ?? 1);
}

await ensureDevVars();
run(["d1", "migrations", "apply", "DB", "--local"]);

const port = process.env.PORT ?? "8787";
const interactive = process.argv.includes("--interactive");
// Anything else goes to wrangler dev, e.g. `npm start -- --var RATE_LIMIT_REGISTER_IP:off`.
const extra = process.argv.slice(2).filter((arg) => arg !== "--interactive");
const server = spawn(
  wrangler,
  [
    "dev",
    "--port",
    port,
    ...(interactive ? [] : ["--show-interactive-dev-session=false"]),
    ...extra,
  ],
  { stdio: "inherit" },
);
for (const signal of ["SIGINT", "SIGTERM"] as const) {
  process.on(signal, () => server.kill(signal));
}
server.on("exit", (code) => process.exit(code ?? 0));
