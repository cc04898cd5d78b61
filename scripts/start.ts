/**
 * `npm start` / `npm run dev`: everything a newcomer needs, with no setup.
 *
 * 1. Creates `.dev.vars` (git-ignored) with a fresh ES256 key pair and the local service key if it
 *    has no signing key yet.
 * 2. Checks the configuration (scripts/check-config.ts) and stops, naming the setting, if it is
 *    not usable.
 * 3. Applies the D1 migrations to the local database under .wrangler/.
 * 4. Serves the Worker on http://localhost:$PORT (default 8787) with local D1, KV, Queues and the
 *    Durable Object.
 *
 * `--interactive` keeps wrangler's hotkeys (npm run dev); `npm start` is plain output for logs/CI.
 */
import { spawn, spawnSync } from "node:child_process";
import { configProblems } from "./check-config.ts";
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
const port = process.env.PORT ?? "8787";
const interactive = process.argv.includes("--interactive");
// Anything else goes to wrangler dev, e.g. `npm start -- --var RATE_LIMIT_REGISTER_IP:off`.
const given = process.argv.slice(2).filter((arg) => arg !== "--interactive");
// What wrangler.toml says for port 8787 follows PORT (unless given): tokens name the server that
// issued them, and passkeys accept the page the Worker itself serves.
const named = (name: string) => given.some((arg) => arg.startsWith(`${name}:`));
const origin = `http://localhost:${port}`;
const extra = [
  ...given,
  ...(named("JWT_ISSUER") ? [] : ["--var", `JWT_ISSUER:${origin}`]),
  ...(named("WEBAUTHN_ORIGINS")
    ? []
    : ["--var", `WEBAUTHN_ORIGINS:http://localhost:3000,${origin}`]),
];

// A bad setting stops here, named, rather than in a server that answers 500 to everything.
const problems = await configProblems(extra);
if (problems.length > 0) {
  console.error("The configuration is not usable (wrangler.toml, .dev.vars, --var):");
  for (const problem of problems) console.error(`  - ${problem}`);
  process.exit(1);
}
run(["d1", "migrations", "apply", "DB", "--local"]);
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
