/**
 * What only the real tools can show (issue "Close what an attacker and a fuzzer found"):
 *
 * - the production bundle, as `wrangler deploy --env production` would upload it, holds none of
 *   the local stand-ins (the local bundle does, so the check is not vacuous);
 * - `npm start` with a malformed or missing secret stops before it serves, naming the secret and
 *   the reason, never its value.
 *
 * Run by `npm run test:startup` (part of `npm test`), with Node's test runner.
 */
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { createConnection } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, it } from "node:test";
import { generateSigningKeys } from "../../scripts/keys.ts";
import { buildWasm } from "../../src/auth/wasm/build.ts";

const wrangler = "node_modules/.bin/wrangler";
const work = mkdtempSync(join(tmpdir(), "startup-"));
after(() => rmSync(work, { recursive: true, force: true }));

/** The JavaScript wrangler would upload for an environment (offline: --dry-run). */
function bundle(env: "production" | null): string {
  const outdir = join(work, env ?? "local");
  const run = spawnSync(
    wrangler,
    ["deploy", "--dry-run", "--outdir", outdir, ...(env ? ["--env", env] : [])],
    { encoding: "utf8", timeout: 180_000, env: { ...process.env, CI: "true" } },
  );
  assert.equal(run.status, 0, run.stderr);
  return readdirSync(outdir)
    .filter((f) => f.endsWith(".js"))
    .map((f) => readFileSync(join(outdir, f), "utf8"))
    .join("\n");
}

/** What would mark a local stand-in's code in a bundle. */
const DEV_MARKERS = [
  "/_dev/mailbox",
  "/_dev/push-requests",
  "/_dev/hash",
  "/_dev/passkeys",
  "dev-mailbox:",
  "dev-push:",
];

describe("the production bundle", () => {
  it("contains no dev tools (and the local one does)", async () => {
    await buildWasm();
    const production = bundle("production");
    assert.ok(production.includes("/api/v1"), "the production bundle holds the API");
    for (const marker of DEV_MARKERS) {
      assert.ok(!production.includes(marker), `production bundle contains ${marker}`);
    }
    const local = bundle(null);
    for (const marker of DEV_MARKERS) {
      assert.ok(local.includes(marker), `local bundle lacks ${marker}`);
    }
  });
});

/** Nothing may listen on the port while (and after) a refused start runs. */
function listening(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = createConnection({ host: "127.0.0.1", port });
    socket.once("connect", () => {
      socket.destroy();
      resolve(true);
    });
    socket.once("error", () => resolve(false));
  });
}

function start(vars: Record<string, string>, port: number) {
  const args = Object.entries(vars).flatMap(([name, value]) => ["--var", `${name}:${value}`]);
  return spawnSync(process.execPath, ["scripts/start.ts", ...args], {
    encoding: "utf8",
    timeout: 60_000,
    env: { ...process.env, PORT: String(port) },
  });
}

describe("npm start with a bad secret", () => {
  it("stops before serving, naming the secret and the reason, never its value", async () => {
    const keys = await generateSigningKeys("dev-startup-test");
    const key = JSON.parse(keys.privateJwk) as Record<string, string>;
    const offCurve = JSON.stringify({ ...key, x: [...(key.x ?? "")].reverse().join("") });
    const cases: [Record<string, string>, RegExp][] = [
      [{ JWT_PRIVATE_KEY: "not-json" }, /JWT_PRIVATE_KEY must be an EC P-256 private JWK/],
      [
        { JWT_PRIVATE_KEY: offCurve, JWT_PUBLIC_KEYS: "" },
        /JWT_PRIVATE_KEY is not a usable EC P-256 private key/,
      ],
      [{ SERVICE_KEYS: "short:key" }, /SERVICE_KEYS must be comma-separated name:key pairs/],
    ];
    const port = 8790 + Math.floor(Math.random() * 50);
    for (const [vars, reason] of cases) {
      const run = start(vars, port);
      assert.equal(run.status, 1, run.stdout + run.stderr);
      assert.match(run.stderr, reason);
      assert.ok(!run.stdout.includes("Ready"), "it never served");
      for (const value of Object.values(vars).filter((v) => v.length > 8)) {
        assert.ok(!run.stderr.includes(value), "the value is never printed");
      }
      assert.equal(await listening(port), false);
    }
  });
});
