/**
 * `npm run admin -- <users|dead-letters> <command> [arguments] [--url …] [--token … |
 * --service-key … | --email … --password …] [--json]`
 *
 * An operator's view of a running service through its admin API: find and show users,
 * deactivate and reactivate them, change roles, list or end their sessions, and list or re-drive
 * the push requests' dead letters. Tables for people, `--json` (the answer's data) for scripts.
 * Exit code 0 done, 1 the service refused (or was not reached), 2 bad usage. `--help` for the
 * commands; the modules are in scripts/admin/.
 */
import { ApiFailure, connect } from "./admin/client.ts";
import { deadLetters } from "./admin/dead-letters.ts";
import { helpText, type Options, parseOptions, UsageError } from "./admin/options.ts";
import { type Command, users } from "./admin/users.ts";

const GROUPS: Record<Options["group"], Record<string, Command>> = {
  users,
  "dead-letters": deadLetters,
};

function usage(err: UsageError): number {
  console.error(`error: ${err.message}\n\n${helpText(err.group)}`);
  return 2;
}

async function main(argv: string[]): Promise<number> {
  let options: ReturnType<typeof parseOptions>;
  try {
    options = parseOptions(argv);
  } catch (err) {
    if (err instanceof UsageError) return usage(err);
    throw err;
  }
  if ("help" in options) {
    console.log(helpText(options.help));
    return 0;
  }
  const command = GROUPS[options.group][options.command];
  // parseOptions knows every command, so this is only reached if the two lists part ways.
  if (!command) throw new Error(`${options.group} ${options.command} is not implemented`);
  try {
    const { client, close } = await connect(options.url, options.auth);
    try {
      const output = await command(client, options);
      console.log(options.json ? JSON.stringify(output.json, null, 2) : output.text);
    } finally {
      await close();
    }
    return 0;
  } catch (err) {
    if (err instanceof UsageError) return usage(err);
    if (!(err instanceof ApiFailure)) throw err;
    const details = err.details === undefined ? "" : `\n${JSON.stringify(err.details, null, 2)}`;
    console.error(`error: ${err.code}: ${err.message}${details}`);
    return 1;
  }
}

// exitCode, not exit(): a piped stdout (--json | jq) gets all of its output first.
process.exitCode = await main(process.argv.slice(2));
