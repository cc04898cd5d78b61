/**
 * The configuration check `npm start` runs before it serves: the vars of wrangler.toml, the
 * secrets of `.dev.vars` and any `--var NAME:VALUE` given, read as `wrangler dev` reads them and
 * parsed by the Worker's own code (src/config.ts), then the signing keys imported and tried. A
 * missing or malformed setting stops the start with the setting's name and the reason — never its
 * value — instead of a server that prints "Ready" and answers 500.
 */
import { build } from "esbuild";
import { unstable_getVarsForDev, unstable_readConfig } from "wrangler";

/** What this script uses of src/config.ts (typed here: the scripts compile apart from src/). */
interface ConfigModule {
  readConfig(env: Record<string, unknown>): { config?: object; problems?: string[] };
  signingKeyProblems(config: object): Promise<string[]>;
}

/** src/config.ts imports without file extensions, as the Worker's bundler allows: bundle it. */
async function loadConfigModule(): Promise<ConfigModule> {
  const out = await build({
    entryPoints: ["src/config.ts"],
    bundle: true,
    format: "esm",
    platform: "node",
    write: false,
    logLevel: "silent",
  });
  const code = out.outputFiles[0]?.text ?? "";
  return import(`data:text/javascript;base64,${Buffer.from(code).toString("base64")}`);
}

/** `--var NAME:VALUE` arguments, as wrangler dev takes them. */
function varArgs(args: string[]): Record<string, string> {
  const vars: Record<string, string> = {};
  args.forEach((arg, i) => {
    const value = arg === "--var" ? args[i + 1] : arg.startsWith("--var=") ? arg.slice(6) : null;
    const at = value?.indexOf(":") ?? -1;
    if (value && at > 0) vars[value.slice(0, at)] = value.slice(at + 1);
  });
  return vars;
}

/** Every problem with the local configuration; empty when it is fine. */
export async function configProblems(args: string[] = []): Promise<string[]> {
  const wrangler = unstable_readConfig({ config: "wrangler.toml" });
  const bindings = unstable_getVarsForDev(
    wrangler.configPath,
    undefined,
    wrangler.vars,
    undefined,
    true,
    wrangler.secrets,
  );
  const env: Record<string, unknown> = {};
  for (const [name, binding] of Object.entries(bindings)) {
    const { value } = binding as { value: unknown };
    env[name] = typeof value === "string" ? value : JSON.stringify(value);
  }
  Object.assign(env, varArgs(args));
  const { readConfig, signingKeyProblems } = await loadConfigModule();
  const { config, problems = [] } = readConfig(env);
  if (!config) return problems;
  return signingKeyProblems(config);
}
