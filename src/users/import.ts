/**
 * Importing users from the replaced Django services (POST /api/v1/admin/users/import/, used by
 * `npm run import:django`). Each user is one batch — the account, its preferences, devices, audit
 * row and `user.imported` event — all of it or nothing. Re-running an import never duplicates
 * anyone: a row is matched to an existing account by id, then legacy id, then email, and only
 * what `update` allows changes. Rows whose email, id, legacy id or username would collide with
 * another row or another account are refused, naming both, never merged.
 */
import { eq, inArray } from "drizzle-orm";
import type { Scope } from "../app-env";
import { auditEntry } from "../audit/audit-log";
import type { Db } from "../db/client";
import { uniqueViolation } from "../db/errors";
import { preferences, pushTokens, type UserRow, users } from "../db/schema";
import { commit, outboxEvent } from "../events/outbox";
import { accountMail } from "./account-mail";
import type { UpdatableField } from "./import-fields";
import {
  ImportRefusal,
  type ImportUser,
  ImportUserSchema,
  importedDevices,
  importedUserRow,
  refusalReason,
} from "./import-rows";
import { updateImported } from "./import-update";
import { legacyIdOf } from "./user-object";

type ImportStatus = "created" | "updated" | "unchanged" | "refused";

export interface ImportResult {
  index: number;
  status: ImportStatus;
  id: string | null;
  legacy_id: number | null;
  email: string | null;
  source?: string;
  reason?: string;
  warnings?: string[];
}

export interface ImportOptions {
  update: UpdatableField[];
  sendVerification: boolean;
  dryRun: boolean;
}

type Parsed = { index: number; row: ImportUser };

/** Who a raw row says it is, for the report of a row that could not even be parsed. */
function rawIdentity(raw: unknown) {
  const r = typeof raw === "object" && raw !== null ? (raw as Record<string, unknown>) : {};
  return {
    id: typeof r.id === "string" ? r.id.slice(0, 64) : null,
    legacy_id: typeof r.legacy_id === "number" ? r.legacy_id : null,
    email: typeof r.email === "string" ? r.email.slice(0, 254) : null,
    ...(typeof r.source === "string" ? { source: r.source.slice(0, 500) } : {}),
  };
}

function result(entry: Parsed, status: ImportStatus, extra: Partial<ImportResult> = {}) {
  const { row } = entry;
  return {
    index: entry.index,
    status,
    id: row.id ?? null,
    legacy_id: row.legacy_id ?? null,
    email: row.email,
    ...(row.source ? { source: row.source } : {}),
    ...extra,
  } satisfies ImportResult;
}

/** Rows of this batch that claim the same email, id, legacy id or username as an earlier one. */
function collisionsWithinBatch(rows: Parsed[]): Map<number, string> {
  const refused = new Map<number, string>();
  const seen = new Map<string, Parsed>();
  for (const entry of rows) {
    const { row } = entry;
    const keys = [
      `email:${row.email}`,
      row.id ? `id:${row.id}` : null,
      row.legacy_id ? `legacy:${row.legacy_id}` : null,
      row.username ? `username:${row.username.normalize("NFKC").toLowerCase()}` : null,
    ];
    for (const key of keys) {
      if (!key) continue;
      const first = seen.get(key);
      if (!first) {
        seen.set(key, entry);
        continue;
      }
      const what = key.slice(0, key.indexOf(":"));
      const name = (e: Parsed) => e.row.source ?? `row ${e.index}`;
      refused.set(entry.index, `same ${what} as ${name(first)} once normalised`);
      refused.set(first.index, `same ${what} as ${name(entry)} once normalised`);
    }
  }
  return refused;
}

/** The existing accounts any of these rows could be (by id, legacy id, email or username). */
async function existingAccounts(db: Db, rows: Parsed[]) {
  const ids = rows.flatMap((e) => (e.row.id ? [e.row.id] : []));
  const legacy = rows.flatMap((e) => (e.row.legacy_id ? [e.row.legacy_id] : []));
  const emails = rows.map((e) => e.row.email);
  const keys = rows.flatMap((e) =>
    e.row.username ? [e.row.username.normalize("NFKC").toLowerCase()] : [],
  );
  // One list per query: D1 binds at most 100 parameters per statement, a batch holds at most 50.
  const [a, b, c, d] = await db.batch([
    db
      .select()
      .from(users)
      .where(inArray(users.id, ids.length ? ids : [""])),
    db
      .select()
      .from(users)
      .where(inArray(users.legacyId, legacy.length ? legacy : [-1])),
    db.select().from(users).where(inArray(users.email, emails)),
    db
      .select()
      .from(users)
      .where(inArray(users.usernameKey, keys.length ? keys : [""])),
  ]);
  const byId = new Map([...a, ...b, ...c, ...d].map((u) => [u.id, u]));
  return [...byId.values()];
}

/** The one account a row is, or null for a new one; a refusal when it would be two. */
function match(row: ImportUser, accounts: UserRow[]): UserRow | null {
  const found = new Map<string, { user: UserRow; how: string }>();
  for (const user of accounts) {
    if (row.id && user.id === row.id) found.set(user.id, { user, how: "id" });
    else if (row.legacy_id && user.legacyId === row.legacy_id) {
      found.set(user.id, { user, how: "legacy id" });
    } else if (user.email === row.email) found.set(user.id, { user, how: "email" });
  }
  const matches = [...found.values()];
  if (matches.length > 1) {
    throw new ImportRefusal(
      `matches two accounts: ${matches.map((m) => `${m.user.id} (by ${m.how})`).join(" and ")}`,
    );
  }
  const [only] = matches;
  if (!only) return null;
  const { user } = only;
  if (row.id && user.id !== row.id) {
    throw new ImportRefusal(`${only.how} belongs to another account (${user.id})`);
  }
  if (row.legacy_id && user.legacyId !== null && user.legacyId !== row.legacy_id) {
    throw new ImportRefusal(`${only.how} belongs to an account with legacy id ${user.legacyId}`);
  }
  return user;
}

/** The batch that creates one imported user, and its report warnings. */
async function creation({ db, config, meta }: Scope, entry: Parsed, opts: ImportOptions) {
  const now = new Date();
  const { row } = entry;
  const { user, warnings } = importedUserRow(row, now);
  const devices = importedDevices(row, user.id, now);
  const statements = [
    db.insert(users).values(user),
    db.insert(preferences).values({ ...row.preferences, user_id: user.id, updated_at: now }),
    ...devices.map((device) => db.insert(pushTokens).values(device)),
    auditEntry(db, meta, {
      userId: user.id,
      action: "imported",
      metadata: { ...legacyIdOf(user), ...(row.source ? { source: row.source } : {}) },
      at: now,
    }),
    outboxEvent(
      db,
      meta,
      "user.imported",
      {
        user_id: user.id,
        email: user.email,
        username: user.username,
        name: user.name,
        ...legacyIdOf(user),
        is_active: user.isActive,
        email_verified: user.emailVerifiedAt !== null,
        role: user.role,
      },
      now,
    ),
    ...(opts.sendVerification && user.isActive && user.emailVerifiedAt === null
      ? await accountMail(db, config, meta, user, "email_verification", now)
      : []),
  ] as const;
  return { user, warnings, statements };
}

/** Imports one batch of rows (at most 50); one result per row, in order. */
export async function importUsers(
  scope: Scope,
  raws: unknown[],
  opts: ImportOptions,
): Promise<ImportResult[]> {
  const results: ImportResult[] = [];
  const parsed: Parsed[] = [];
  raws.forEach((raw, index) => {
    const row = ImportUserSchema.safeParse(raw);
    if (row.success) parsed.push({ index, row: row.data });
    else {
      results[index] = {
        index,
        status: "refused",
        ...rawIdentity(raw),
        reason: refusalReason(row.error),
      };
    }
  });
  const clashes = collisionsWithinBatch(parsed);
  const accounts = parsed.length > 0 ? await existingAccounts(scope.db, parsed) : [];
  for (const entry of parsed) {
    const clash = clashes.get(entry.index);
    results[entry.index] = clash
      ? result(entry, "refused", { reason: clash })
      : await importOne(scope, entry, accounts, opts);
  }
  return results;
}

async function importOne(
  scope: Scope,
  entry: Parsed,
  accounts: UserRow[],
  opts: ImportOptions,
): Promise<ImportResult> {
  try {
    const existing = match(entry.row, accounts);
    if (existing) {
      const outcome = await updateImported(scope, existing, entry.row, opts);
      return result(entry, outcome.changed ? "updated" : "unchanged", {
        id: existing.id,
        legacy_id: existing.legacyId,
        ...(outcome.warnings.length ? { warnings: outcome.warnings } : {}),
      });
    }
    if (entry.row.username) {
      const key = entry.row.username.normalize("NFKC").toLowerCase();
      const holder = accounts.find((u) => u.usernameKey === key);
      if (holder) throw new ImportRefusal(`username belongs to another account (${holder.id})`);
    }
    const created = await creation(scope, entry, opts);
    if (!opts.dryRun) await commit(scope.db, scope.meta, created.statements);
    return result(entry, "created", {
      id: created.user.id,
      ...(created.warnings.length ? { warnings: created.warnings } : {}),
    });
  } catch (err) {
    if (err instanceof ImportRefusal) return result(entry, "refused", { reason: err.message });
    const constraint = uniqueViolation(err);
    if (constraint) return result(entry, "refused", { reason: refusedBy(constraint) });
    throw err;
  }
}

/** A unique index that refused a row's batch (a race, or a device token another account holds). */
function refusedBy(constraint: string): string {
  if (constraint.startsWith("push_tokens")) {
    return "a push device token is already registered to another account";
  }
  const what = constraint.includes("email")
    ? "email"
    : constraint.includes("legacy")
      ? "legacy id"
      : constraint.includes("username")
        ? "username"
        : "id";
  return `${what} belongs to another account`;
}

/** An imported user by the integer id it had in Django, for lookups. */
export async function userIdByLegacyId(db: Db, legacyId: number): Promise<string | null> {
  const [row] = await db
    .select({ id: users.id })
    .from(users)
    .where(eq(users.legacyId, legacyId))
    .limit(1);
  return row?.id ?? null;
}
