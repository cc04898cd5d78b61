/**
 * `npm run user:role -- <email> <user|admin> [--remote]`
 *
 * Sets a user's role directly in D1 — how the first admin is made, since only admins can change
 * roles through the API. Local by default (the database `npm start` uses); `--remote` targets the
 * production D1. The change is audited (`role_changed`, by "cli") and announced (`user.updated`
 * in the outbox, which the cron publishes) exactly as an admin's change through the API would be.
 */
import { spawnSync } from "node:child_process";
import { randomUUID } from "node:crypto";
import { parseArgs } from "node:util";

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: { remote: { type: "boolean", default: false } },
});
const [rawEmail, role] = positionals;
const email = rawEmail?.trim().toLowerCase();

// Both values end up inside SQL text: accept only what cannot break out of a string literal.
if (
  !email ||
  !/^[^\s'"\\;@]+@[^\s'"\\;@]+\.[^\s'"\\;@]+$/.test(email) ||
  (role !== "user" && role !== "admin")
) {
  console.error("Usage: npm run user:role -- <email> <user|admin> [--remote]");
  process.exit(2);
}

const now = Date.now();
const eventId = randomUUID();
const target = `FROM users WHERE email = '${email}' AND role <> '${role}'`;
const sql = [
  `INSERT INTO audit_log (id, user_id, action, metadata, created_at)
     SELECT '${randomUUID()}', id, 'role_changed', json_object('from', role, 'to', '${role}', 'by', 'cli'), ${now} ${target}`,
  `INSERT INTO outbox (id, type, payload, created_at, attempts)
     SELECT '${eventId}', 'user.updated', json_object('id', '${eventId}', 'type', 'user.updated', 'version', 1,
       'occurred_at', '${new Date(now).toISOString()}', 'correlation_id', 'cli',
       'data', json_object('user_id', id, 'email', email, 'username', username, 'name', name,
         'changed', json_array('role'))), ${now}, 0 ${target}`,
  `UPDATE users SET role = '${role}', updated_at = ${now} WHERE email = '${email}' AND role <> '${role}'`,
  `SELECT id, email, role FROM users WHERE email = '${email}'`,
].join(";\n");

const where = values.remote ? ["--remote", "--env", "production"] : ["--local"];
const result = spawnSync(
  "node_modules/.bin/wrangler",
  ["d1", "execute", "DB", ...where, "--json", "--command", sql],
  { encoding: "utf8", env: { ...process.env, CI: "true" } },
);
if (result.status !== 0) {
  console.error(result.stderr || result.stdout);
  process.exit(result.status ?? 1);
}
const statements = JSON.parse(result.stdout) as {
  results: { id: string; email: string; role: string }[];
}[];
const user = statements.at(-1)?.results[0];
if (!user) {
  console.error(`No user with email ${email}.`);
  process.exit(1);
}
console.log(`${user.email} (${user.id}) is now ${user.role}.`);
