/**
 * The command line: flags, their defaults and checks, the --map file, and the --help text. Bad
 * usage is a UsageError, which the command turns into exit code 2.
 */
import { existsSync, readFileSync } from "node:fs";
import { parseArgs } from "node:util";
import { UPDATABLE_FIELDS } from "../../src/users/import-fields.ts";
import { preferenceField } from "./preferences.ts";
import { CANDIDATES, ROLES, type Role } from "./recognise.ts";

/** What `--update` may name: the server's own list. */
const UPDATABLE = UPDATABLE_FIELDS;
/** The server's limits per call: 50 users, a 64 KiB body (kept under 60 KiB here). */
const MAX_BATCH_USERS = 50;
export const MAX_BODY_BYTES = 60 * 1024;

export type ModelMap = Record<string, { role: Role; fields?: Record<string, string> }>;

export interface Options {
  files: string[];
  url: string;
  auth: { header: "X-Service-Key" | "Authorization"; value: string } | null;
  dryRun: boolean;
  update: string[];
  sendVerification: boolean;
  report: string;
  map: ModelMap;
  concurrency: number;
  batchSize: number;
  retries: number;
  /** Write the request bodies as JSON Lines here instead of sending them ("-": stdout). */
  out: string | null;
}

export class UsageError extends Error {}

export const HELP = `Usage: npm run import:django -- <file…> [options]

Imports users from Django exports into the running service (POST /api/v1/admin/users/import/):
manage.py dumpdata JSON (an array of {model, pk, fields}, or --format jsonl: one object a line) and
CSV exports with a header row (.csv; .tsv for tab-separated). Files are streamed, twice: the first
pass keeps only the rows related to users (preferences, devices, profiles, verified addresses),
the second streams the users and sends them in batches.

Models are recognised by their fields, not their names:
  user           password + email (+ last_login, is_active, is_superuser, is_staff or date_joined)
  preferences    boolean email/push, email_notifications/push_notifications, our categories
                 (email_marketing, marketing_emails, push_security_alerts…); linked by a user /
                 user_id column, or from the user row (preferences / preferences_id holds its pk)
  push_device    token (or registration_id…) + platform/device_type/provider/device_id/is_active
                 + a user link
  profile        a user link + names (name, first_name, last_name…) or push_token
  email_address  user + email + verified (django-allauth): a verified address marks the user's
                 e-mail verified
Anything else is ignored and listed in the summary.

Options:
  --url <url>            the service (default http://localhost:8787)
  --service-key <key>    a service key allowed to import (default: $IMPORT_SERVICE_KEY, then
                         dev-service-key when the URL is localhost / 127.0.0.1)
  --token <token>        an admin's access token instead of a service key
  --dry-run              validate and match everything on the server, write nothing
  --update <fields>      comma list of what may change on users that already exist (default: none,
                         they are left unchanged): email, username, name, password, is_active,
                         role, email_verified, preferences, push_devices, last_login_at, legacy_id
  --send-verification    mail a verification link to created users whose e-mail is not verified
  --report <path>        the full report (default import-report-<timestamp>.json)
  --map <file.json>      roles and columns for models it does not recognise (or to override)
  --concurrency <n>      batches in flight at once (default 2)
  --batch-size <n>       users per call, at most ${MAX_BATCH_USERS} (default ${MAX_BATCH_USERS}); a call also stays under 60 KiB
  --retries <n>          retries of a batch after a network error, 5xx or 429 (default 5)
  --out <file>           write the request bodies as JSON Lines (one call a line, password hashes
                         included: keep the file safe) instead of sending; "-" for stdout
  --print                the same as --out -
  --help                 this text

--map file: keys are dumpdata model labels ("app.model") or CSV file names ("members.csv");
"role" is one of user, preferences, profile, push_device, email_address, ignore; "fields" maps
our field to the model's column (only the ones that differ from what is recognised):
  {
    "accounts.member": {"role": "user",
      "fields": {"email": "mail", "password": "pw_hash", "name": "display_name"}},
    "app.devicetoken": {"role": "push_device", "fields": {"user": "owner", "token": "registration_id"}},
    "app.settings": {"role": "preferences", "fields": {"user": "member", "email": "mail_opt_in"}},
    "sessions.session": {"role": "ignore"}
  }
  Our fields: user: pk, uuid, email, password, username, name, first_name, last_name, is_active,
  is_superuser, is_staff, is_admin, role, email_verified, email_verified_at, created_at,
  last_login_at, push_token, preferences (the link to a preferences row, or a JSON object) and any
  preference field; preferences: pk, user and the preference fields (email, push, email_marketing,
  email_transactional, email_security, email_system, push_marketing, push_transactional,
  push_security, push_system, quiet_hours_start, quiet_hours_end, timezone, frequency_limit);
  push_device: user, token, platform, provider, device_id, device_name, is_active, used_at;
  profile: user, name, first_name, last_name, push_token and preference fields; email_address:
  user, email, verified.

Sources in the report are <file>:<n>: the index in a JSON array (from 0, as jq '.[n]'), the line of
JSON Lines and CSV files (from 1). Exit code 0 when the import finished (even with refusals), 1 when
it could not finish, 2 for bad usage.`;

function readMap(path: string): ModelMap {
  if (!existsSync(path)) throw new UsageError(`--map: no such file ${path}`);
  let parsed: unknown;
  try {
    parsed = JSON.parse(readFileSync(path, "utf8"));
  } catch (err) {
    throw new UsageError(`--map: ${path} is not JSON (${(err as Error).message})`);
  }
  if (!parsed || typeof parsed !== "object" || Array.isArray(parsed)) {
    throw new UsageError("--map: the file must hold an object keyed by model label or file name");
  }
  const map: ModelMap = {};
  for (const [model, entry] of Object.entries(parsed as Record<string, unknown>)) {
    map[model.toLowerCase()] = mapEntry(model, entry);
  }
  return map;
}

function mapEntry(model: string, entry: unknown): ModelMap[string] {
  const { role, fields } = (entry ?? {}) as { role?: unknown; fields?: unknown };
  if (!ROLES.includes(role as Role)) {
    throw new UsageError(`--map: "${model}".role must be one of ${ROLES.join(", ")}`);
  }
  const known = Object.keys(CANDIDATES[role as Role]);
  const allowsPreferences = ["user", "preferences", "profile"].includes(role as string);
  const checked: Record<string, string> = {};
  for (const [ours, theirs] of Object.entries((fields ?? {}) as Record<string, unknown>)) {
    const isPreference = allowsPreferences && preferenceField(ours) === ours;
    if (!known.includes(ours) && !isPreference) {
      throw new UsageError(`--map: "${model}" has no field "${ours}" for role ${role}`);
    }
    if (typeof theirs !== "string")
      throw new UsageError(`--map: "${model}".fields.${ours}: a column name`);
    checked[ours] = theirs;
  }
  return { role: role as Role, fields: checked };
}

function positiveInt(name: string, value: string | undefined, fallback: number, max = 1000) {
  if (value === undefined) return fallback;
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0 || n > max) {
    throw new UsageError(`--${name} must be a whole number from 0 to ${max}`);
  }
  return n;
}

function credentials(
  url: URL,
  key: string | undefined,
  token: string | undefined,
): Options["auth"] {
  if (key !== undefined && token !== undefined) {
    throw new UsageError("give either --service-key or --token, not both");
  }
  if (token !== undefined) return { header: "Authorization", value: `Bearer ${token}` };
  const local = ["localhost", "127.0.0.1", "[::1]"].includes(url.hostname);
  const serviceKey =
    key ?? process.env.IMPORT_SERVICE_KEY ?? (local ? "dev-service-key" : undefined);
  return serviceKey === undefined ? null : { header: "X-Service-Key", value: serviceKey };
}

function updateFields(value: string | undefined): string[] {
  const fields = (value ?? "")
    .split(",")
    .map((f) => f.trim())
    .filter(Boolean);
  const unknown = fields.filter((f) => !(UPDATABLE as readonly string[]).includes(f));
  if (unknown.length > 0) {
    throw new UsageError(
      `--update: unknown ${unknown.join(", ")} (allowed: ${UPDATABLE.join(", ")})`,
    );
  }
  return [...new Set(fields)];
}

/** The options, or null when --help was asked for. */
export function parseOptions(argv: string[]): Options | null {
  let parsed: ReturnType<typeof parse>;
  try {
    parsed = parse(argv);
  } catch (err) {
    throw new UsageError((err as Error).message);
  }
  const { values, positionals } = parsed;
  if (values.help) return null;
  if (positionals.length === 0) throw new UsageError("no input files");
  const missing = positionals.filter((file) => !existsSync(file));
  if (missing.length > 0) throw new UsageError(`no such file: ${missing.join(", ")}`);
  let url: URL;
  try {
    url = new URL(values.url);
  } catch {
    throw new UsageError(`--url: not a URL: ${values.url}`);
  }
  const out = values.print ? "-" : (values.out ?? null);
  const auth = credentials(url, values["service-key"], values.token);
  if (auth === null && out === null) {
    throw new UsageError("no credentials: give --service-key, --token or $IMPORT_SERVICE_KEY");
  }
  return {
    files: positionals,
    url: url.href.replace(/\/+$/, ""),
    auth,
    dryRun: values["dry-run"],
    update: updateFields(values.update),
    sendVerification: values["send-verification"],
    report: values.report ?? `import-report-${new Date().toISOString().replace(/[:.]/g, "-")}.json`,
    map: values.map === undefined ? {} : readMap(values.map),
    concurrency: Math.max(1, positiveInt("concurrency", values.concurrency, 2, 64)),
    batchSize: Math.max(1, positiveInt("batch-size", values["batch-size"], 50, MAX_BATCH_USERS)),
    retries: positiveInt("retries", values.retries, 5, 100),
    out,
  };
}

function parse(argv: string[]) {
  return parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      url: { type: "string", default: "http://localhost:8787" },
      "service-key": { type: "string" },
      token: { type: "string" },
      "dry-run": { type: "boolean", default: false },
      update: { type: "string" },
      "send-verification": { type: "boolean", default: false },
      report: { type: "string" },
      map: { type: "string" },
      concurrency: { type: "string" },
      "batch-size": { type: "string" },
      retries: { type: "string" },
      out: { type: "string" },
      print: { type: "boolean", default: false },
      help: { type: "boolean", short: "h", default: false },
    },
  });
}
