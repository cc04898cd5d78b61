/**
 * `users …`: find, show, deactivate and reactivate users, change roles, and look at (or end) what
 * they are signed in with. Each returns the answer's data for --json and a text for people.
 */
import { type Answer, type Client, resolveUser, type UserObject } from "./client.ts";
import type { Options } from "./options.ts";
import { type Column, fields, listing, text, when, yesNo } from "./output.ts";

interface Output {
  json: unknown;
  text: string;
}

export type Command = (client: Client, options: Options) => Promise<Output>;

/** A list answer as --json prints it. */
const page = <T>(answer: Answer<T>) => ({ data: answer.data, meta: answer.meta });

const paging = (options: Options) => ({ page: options.page, limit: options.limit });

const USER_COLUMNS: Column<UserObject>[] = [
  ["ID", (u) => u.id, 36],
  ["EMAIL", (u) => u.email],
  ["NAME", (u) => text(u.name), 24],
  ["ROLE", (u) => u.role],
  ["ACTIVE", (u) => yesNo(u.is_active)],
  ["VERIFIED", (u) => yesNo(u.email_verified)],
  ["CREATED", (u) => when(u.created_at)],
  ["LAST LOGIN", (u) => when(u.last_login_at)],
];

async function findUsers(client: Client, options: Options, q?: string): Promise<Output> {
  const answer = await client.call<UserObject[]>("GET", "/users/", {
    q,
    is_active: options.active,
    ...paging(options),
  });
  return { json: page(answer), text: listing(USER_COLUMNS, answer.data, answer.meta, "users") };
}

function showUser(user: UserObject): string {
  const preferences = Object.entries(user.preferences ?? {}).map(
    ([key, value]): [string, string] => [`preferences.${key}`, text(value)],
  );
  return fields([
    ["id", user.id],
    ["email", user.email],
    ["username", text(user.username)],
    ["name", text(user.name)],
    ["role", user.role],
    ["active", yesNo(user.is_active)],
    ["email verified", yesNo(user.email_verified)],
    ["push token", text(user.push_token)],
    ["created", when(user.created_at)],
    ["updated", when(user.updated_at)],
    ["last login", when(user.last_login_at)],
    ...preferences,
  ]);
}

/** PATCH /users/{id}/: the same for deactivate, reactivate and role. */
async function change(
  client: Client,
  ref: string,
  body: { is_active?: boolean; role?: string },
): Promise<Output> {
  const id = await resolveUser(client, ref);
  const answer = await client.call<UserObject>("PATCH", `/users/${id}/`, {}, body);
  const user = answer.data;
  const state = user.is_active ? "active" : "inactive";
  return {
    json: user,
    text: `${answer.message}: ${user.email} (${user.id}) is ${state}, role ${user.role}.`,
  };
}

interface Session {
  id: string;
  created_at: string;
  last_used_at: string;
  expires_at: string;
  ip: string | null;
  user_agent: string | null;
}

const SESSION_COLUMNS: Column<Session>[] = [
  ["ID", (s) => s.id, 36],
  ["CREATED", (s) => when(s.created_at)],
  ["LAST USED", (s) => when(s.last_used_at)],
  ["EXPIRES", (s) => when(s.expires_at)],
  ["IP", (s) => text(s.ip)],
  ["USER AGENT", (s) => text(s.user_agent), 50],
];

const sessions: Command = async (client, options) => {
  const [ref = ""] = options.args;
  const id = await resolveUser(client, ref);
  const path = `/admin/users/${id}/sessions/`;
  if (options.end) {
    const answer = await client.call<{ revoked_sessions: number }>("DELETE", path);
    const n = answer.data.revoked_sessions;
    return { json: answer.data, text: `Ended ${n} session${n === 1 ? "" : "s"} of ${ref}.` };
  }
  const answer = await client.call<Session[]>("GET", path, paging(options));
  return {
    json: page(answer),
    text: listing(SESSION_COLUMNS, answer.data, answer.meta, "active sessions"),
  };
};

interface Device {
  id: string;
  platform: string;
  provider: string;
  device_id: string | null;
  device_name: string | null;
  is_active: boolean;
  last_used_at: string | null;
  created_at: string;
}

interface AuditEntry {
  action: string;
  ip: string | null;
  user_agent: string | null;
  metadata: Record<string, unknown> | null;
  created_at: string;
}

interface StatusEntry {
  notification_id: string;
  channel: string;
  status: string;
  error: string | null;
  created_at: string;
  reported_by: string | null;
}

/** A read-only list of one user's things. */
function perUser<T>(path: string, columns: Column<T>[], things: string): Command {
  return async (client, options) => {
    const id = await resolveUser(client, options.args[0] ?? "");
    const answer = await client.call<T[]>("GET", path.replace("{id}", id), paging(options));
    return { json: page(answer), text: listing(columns, answer.data, answer.meta, things) };
  };
}

export const users: Record<string, Command> = {
  list: (client, options) => findUsers(client, options),
  search: (client, options) => findUsers(client, options, options.args[0]),
  show: async (client, options) => {
    const id = await resolveUser(client, options.args[0] ?? "");
    const answer = await client.call<UserObject>("GET", `/users/${id}/`);
    return { json: answer.data, text: showUser(answer.data) };
  },
  deactivate: (client, options) => change(client, options.args[0] ?? "", { is_active: false }),
  reactivate: (client, options) => change(client, options.args[0] ?? "", { is_active: true }),
  role: (client, options) => change(client, options.args[0] ?? "", { role: options.args[1] ?? "" }),
  sessions,
  devices: perUser<Device>(
    "/admin/users/{id}/push-tokens/",
    [
      ["ID", (d) => d.id, 36],
      ["PLATFORM", (d) => d.platform],
      ["PROVIDER", (d) => d.provider],
      ["DEVICE", (d) => text(d.device_id), 24],
      ["NAME", (d) => text(d.device_name), 24],
      ["ACTIVE", (d) => yesNo(d.is_active)],
      ["LAST USED", (d) => when(d.last_used_at)],
      ["CREATED", (d) => when(d.created_at)],
    ],
    "devices",
  ),
  audit: perUser<AuditEntry>(
    "/users/{id}/audit/",
    [
      ["WHEN", (a) => when(a.created_at)],
      ["ACTION", (a) => a.action],
      ["IP", (a) => text(a.ip)],
      ["USER AGENT", (a) => text(a.user_agent), 30],
      ["DETAILS", (a) => text(a.metadata), 60],
    ],
    "audit entries",
  ),
  notifications: perUser<StatusEntry>(
    "/users/{id}/notifications/",
    [
      ["WHEN", (s) => when(s.created_at)],
      ["NOTIFICATION", (s) => s.notification_id],
      ["CHANNEL", (s) => s.channel],
      ["STATUS", (s) => s.status],
      ["ERROR", (s) => text(s.error), 50],
      ["BY", (s) => text(s.reported_by), 24],
    ],
    "delivery statuses",
  ),
  "reset-mfa": async (client, options) => {
    const [ref = ""] = options.args;
    const id = await resolveUser(client, ref);
    const path = `/admin/users/${id}/mfa/`;
    const answer = await client.call<{ revoked_sessions: number }>("DELETE", path);
    const n = answer.data.revoked_sessions;
    return {
      json: answer.data,
      text: `Removed every second factor of ${ref}; ended ${n} session${n === 1 ? "" : "s"}.`,
    };
  },
};
