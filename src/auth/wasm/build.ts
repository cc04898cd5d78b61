/**
 * Builds pbkdf2-sha256.wasm (git-ignored) from the AssemblyScript source pbkdf2-sha256.ts, in Node,
 * when it is missing or older than what it is built from: the source, this script and the installed
 * compiler. `npm run build:wasm` (before start, dev, deploy and the benchmarks) runs it, and so does
 * Vitest as its globalSetup (vitest.config.ts), so `npx vitest run` works on a fresh clone.
 * `--force` rebuilds regardless.
 *
 * Not Worker code: the Worker's tsconfig excludes this folder; scripts/tsconfig.json checks this file
 * through bench/pbkdf2.ts, which imports it.
 */
import { spawnSync } from "node:child_process";
import { existsSync, renameSync, rmSync, statSync } from "node:fs";
import { createRequire } from "node:module";
import { fileURLToPath } from "node:url";

const path = (name: string) => fileURLToPath(new URL(name, import.meta.url));
const SOURCE = path("./pbkdf2-sha256.ts");
const OUTPUT = path("./pbkdf2-sha256.wasm");
// asc picks the output format from the extension, so the temporary file ends in .wasm too.
const PARTIAL = path("./pbkdf2-sha256.partial.wasm");
const require = createRequire(import.meta.url);
const ASC = require.resolve("assemblyscript/bin/asc.js");
const COMPILER_PACKAGE = require.resolve("assemblyscript/package.json");
const FLAGS = ["-O3", "--runtime", "stub", "--noAssert", "--use", "abort="];

function isFresh(): boolean {
  if (!existsSync(OUTPUT)) return false;
  const built = statSync(OUTPUT).mtimeMs;
  return [SOURCE, fileURLToPath(import.meta.url), COMPILER_PACKAGE].every(
    (input) => statSync(input).mtimeMs <= built,
  );
}

/** Compiles the module unless it is up to date; returns whether it compiled. */
export function buildWasm({ force = false } = {}): boolean {
  if (!force && isFresh()) return false;
  // Compiled next to the output and renamed, so a failed build never leaves a fresh-looking module.
  const result = spawnSync(process.execPath, [ASC, SOURCE, "-o", PARTIAL, ...FLAGS], {
    stdio: "inherit",
  });
  if (result.status !== 0) {
    rmSync(PARTIAL, { force: true });
    throw new Error(`asc failed to build ${OUTPUT} (${result.status ?? result.signal})`);
  }
  renameSync(PARTIAL, OUTPUT);
  return true;
}

/** Vitest globalSetup: the Worker under test imports the module. */
export default function setup(): void {
  buildWasm();
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  buildWasm({ force: process.argv.includes("--force") });
}
