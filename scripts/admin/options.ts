/**
 * The command line of `npm run admin`: commands, flags, credentials (flags first, then the
 * USER_SERVICE_* variables) and the --help texts. Bad usage is a UsageError: exit code 2.
 */
import { parseArgs } from "node:util";

export class UsageError extends Error {
  /** The group whose usage to print with the message, when known. */
  readonly group: Group | null;

  constructor(message: string, group: Group | null = null) {
    super(message);
    this.group = group;
  }
}

export type Group = "users" | "dead-letters";

export type Auth =
  | { kind: "token"; token: string }
  | { kind: "service-key"; key: string }
  | { kind: "login"; email: string; password: string; code?: string; recoveryCode?: string };

type Flag = "page" | "limit" | "active" | "inactive" | "state" | "end";

interface Spec {
  args: string[];
  flags: Flag[];
}

const PAGED: Flag[] = ["page", "limit"];
const LISTED: Flag[] = [...PAGED, "active", "inactive"];

/** Every command, its positional arguments and the flags it takes besides the global ones. */
const COMMANDS = {
  users: {
    list: { args: [], flags: LISTED },
    search: { args: ["text"], flags: LISTED },
    show: { args: ["user"], flags: [] },
    deactivate: { args: ["user"], flags: [] },
    reactivate: { args: ["user"], flags: [] },
    role: { args: ["user", "role"], flags: [] },
    sessions: { args: ["user"], flags: [...PAGED, "end"] },
    devices: { args: ["user"], flags: PAGED },
    audit: { args: ["user"], flags: PAGED },
    notifications: { args: ["user"], flags: PAGED },
    "reset-mfa": { args: ["user"], flags: [] },
  },
  "dead-letters": {
    list: { args: [], flags: [...PAGED, "state"] },
    redrive: { args: ["id"], flags: [] },
  },
} satisfies Record<Group, Record<string, Spec>>;

export interface Options {
  url: string;
  auth: Auth;
  json: boolean;
  group: Group;
  command: string;
  args: string[];
  page?: number;
  limit?: number;
  /** --active / --inactive: only those users; neither: everyone. */
  active?: boolean;
  state?: "pending" | "redriven";
  end: boolean;
}

const GLOBAL = `Options (every command):
  --url <url>              the service (default $USER_SERVICE_URL, then http://localhost:8787)
  --token <token>          an admin's access token (default $USER_SERVICE_TOKEN)
  --service-key <key>      the key of a service named in ADMIN_SERVICES (default $USER_SERVICE_KEY)
  --email <email>          sign in as an admin instead; with --password (default
  --password <password>    $USER_SERVICE_PASSWORD) and, for an account with a second factor,
  --code <123456>          a code from its authenticator app, or
  --recovery-code <code>   one of its recovery codes (each run signs in, and out when done; sign-ins
                           are rate-limited, so prefer --token for many runs)
  --json                   print the answer's data as JSON (lists: {"data": [...], "meta": {...}});
                           with npm run -s, so that npm's banner stays out of stdout
  --help                   this text; "<group> --help" for one group`;

const USERS = `Usage: npm run admin -- users <command> [options]

A <user> is an id or an email address.
  users list [--active|--inactive] [--page <n>] [--limit <n>]   newest first, 20 a page (max 100)
  users search <text> [--active|--inactive] [--page] [--limit]  in email, username and name
  users show <user>
  users deactivate <user>          ends every session of the user; they can no longer sign in
  users reactivate <user>
  users role <user> <user|admin>
  users sessions <user> [--end]    the active sessions; --end ends them all
  users devices <user>             push devices (never the token values)
  users audit <user>               the audit log, newest first (not with a service key)
  users notifications <user>       the delivery-status history
  users reset-mfa <user>           removes every second factor and ends the sessions

Examples:
  npm run admin -- users list --inactive
  npm run -s admin -- users search lovelace --json | jq -r '.data[].email'
  npm run admin -- users role ada@example.com admin
  npm run admin -- users sessions ada@example.com --end`;

const DEAD_LETTERS = `Usage: npm run admin -- dead-letters <command> [options]

Push requests that failed for good (the push-requests dead-letter queue):
  dead-letters list [--state pending|redriven] [--page <n>] [--limit <n>]   newest first
  dead-letters redrive <id>        sends it back to push-requests, once

Examples:
  npm run admin -- dead-letters list --state pending
  npm run admin -- dead-letters redrive 5a0e7f8c1b2d4e3f9a8b7c6d5e4f3a2b`;

const HELP = `Usage: npm run admin -- <group> <command> [arguments] [options]

Operates a running user service through its admin API (<url>/api/v1).

${USERS.replace(/^Usage:.*\n\n/, "")}

${DEAD_LETTERS.replace(/^Usage:.*\n\n/, "")}

${GLOBAL}

Credentials: one of --token, --service-key or --email; without any, $USER_SERVICE_TOKEN, then
$USER_SERVICE_KEY. Against \`npm start -- --var ADMIN_SERVICES:dev-service\` the local key
dev-service-key works: npm run admin -- --service-key dev-service-key users list

Exit codes: 0 done, 1 the service refused or could not be reached ("error: <code>: <message>"
on stderr), 2 bad usage.`;

/** The help text of a group, or of everything. */
export function helpText(group: Group | null): string {
  if (group === "users") return `${USERS}\n\n${GLOBAL}`;
  if (group === "dead-letters") return `${DEAD_LETTERS}\n\n${GLOBAL}`;
  return HELP;
}

function parse(argv: string[]) {
  return parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      url: { type: "string" },
      token: { type: "string" },
      "service-key": { type: "string" },
      email: { type: "string" },
      password: { type: "string" },
      code: { type: "string" },
      "recovery-code": { type: "string" },
      json: { type: "boolean", default: false },
      help: { type: "boolean", short: "h", default: false },
      page: { type: "string" },
      limit: { type: "string" },
      active: { type: "boolean", default: false },
      inactive: { type: "boolean", default: false },
      state: { type: "string" },
      end: { type: "boolean", default: false },
    },
  });
}

type Values = ReturnType<typeof parse>["values"];

function whole(name: string, value: string | undefined, max: number): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1 || n > max) {
    throw new UsageError(`--${name} must be a whole number from 1 to ${max}`);
  }
  return n;
}

function credentials(values: Values): Auth {
  const { token, email, password, code } = values;
  const key = values["service-key"];
  const recoveryCode = values["recovery-code"];
  const given = [token, key, email].filter((v) => v !== undefined).length;
  if (given > 1) throw new UsageError("give one of --token, --service-key and --email");
  if (email === undefined && (password ?? code ?? recoveryCode) !== undefined) {
    throw new UsageError("--password, --code and --recovery-code go with --email");
  }
  if (token !== undefined) return { kind: "token", token };
  if (key !== undefined) return { kind: "service-key", key };
  if (email !== undefined) {
    const secret = password ?? process.env.USER_SERVICE_PASSWORD;
    if (!secret) throw new UsageError("--email needs --password (or $USER_SERVICE_PASSWORD)");
    if (code !== undefined && recoveryCode !== undefined) {
      throw new UsageError("give --code or --recovery-code, not both");
    }
    if (code !== undefined && !/^\d{6}$/.test(code)) throw new UsageError("--code: six digits");
    return {
      kind: "login",
      email,
      password: secret,
      ...(code !== undefined ? { code } : {}),
      ...(recoveryCode !== undefined ? { recoveryCode } : {}),
    };
  }
  // Flags win over the environment, so a script's variables never override what was typed.
  if (process.env.USER_SERVICE_TOKEN)
    return { kind: "token", token: process.env.USER_SERVICE_TOKEN };
  if (process.env.USER_SERVICE_KEY)
    return { kind: "service-key", key: process.env.USER_SERVICE_KEY };
  // No guessed local key (as import:django has): it works only once listed in ADMIN_SERVICES, and
  // a guess would turn a forgotten flag into a puzzling 401.
  throw new UsageError(
    "no credentials: give --token, --service-key or --email/--password " +
      "(or set $USER_SERVICE_TOKEN or $USER_SERVICE_KEY)",
  );
}

function serviceUrl(value: string | undefined): string {
  const raw = value ?? process.env.USER_SERVICE_URL ?? "http://localhost:8787";
  try {
    const url = new URL(raw);
    if (url.protocol !== "http:" && url.protocol !== "https:") throw new Error("not http");
    return url.href.replace(/\/+$/, "");
  } catch {
    throw new UsageError(`--url: not an http(s) URL: ${raw}`);
  }
}

/** What to run, or `{ help }` when --help was asked for. */
export function parseOptions(argv: string[]): Options | { help: Group | null } {
  let parsed: ReturnType<typeof parse>;
  try {
    parsed = parse(argv);
  } catch (err) {
    throw new UsageError((err as Error).message);
  }
  const { values, positionals } = parsed;
  const [groupName, command, ...args] = positionals;
  const group = groupName === undefined || !(groupName in COMMANDS) ? null : (groupName as Group);
  if (values.help) return { help: group };
  if (groupName === undefined) throw new UsageError("no command");
  if (group === null) throw new UsageError(`unknown command group "${groupName}"`);
  const commands: Record<string, Spec> = COMMANDS[group];
  if (command === undefined) throw new UsageError(`${group}: which command?`, group);
  const spec = commands[command];
  if (!spec) throw new UsageError(`${group}: unknown command "${command}"`, group);
  const name = `${group} ${command}`;
  if (args.length !== spec.args.length) {
    const wanted = spec.args.map((a) => `<${a}>`).join(" ");
    throw new UsageError(`usage: ${name}${wanted ? ` ${wanted}` : ""}`, group);
  }
  for (const flag of ["page", "limit", "active", "inactive", "state", "end"] as const) {
    const value = values[flag];
    if (value !== undefined && value !== false && !spec.flags.includes(flag)) {
      throw new UsageError(`${name} takes no --${flag}`, group);
    }
  }
  if (values.active && values.inactive) {
    throw new UsageError("give --active or --inactive, not both", group);
  }
  if (values.state !== undefined && values.state !== "pending" && values.state !== "redriven") {
    throw new UsageError("--state is pending or redriven", group);
  }
  if (name === "users role" && args[1] !== "user" && args[1] !== "admin") {
    throw new UsageError("users role: the role is user or admin", group);
  }
  const page = whole("page", values.page, 1_000_000);
  const limit = whole("limit", values.limit, 100);
  return {
    url: serviceUrl(values.url),
    auth: credentials(values),
    json: values.json,
    group,
    command,
    args,
    ...(page !== undefined ? { page } : {}),
    ...(limit !== undefined ? { limit } : {}),
    ...(values.active || values.inactive ? { active: values.active } : {}),
    ...(values.state !== undefined ? { state: values.state } : {}),
    end: values.end,
  };
}
