import { fillPlaceholders, type GetColumnData, type SQL } from "drizzle-orm";
import { drizzle } from "drizzle-orm/d1";
import { QueryBuilder, SQLiteAsyncDialect, type SQLiteColumn } from "drizzle-orm/sqlite-core";
export type Db = ReturnType<typeof createDb>;

/**
 * Without the schema: nothing uses drizzle's relational queries (`db.query`), and handing it the
 * schema makes it derive the relations of every table again for each request's session.
 */
function createDb(d1: D1Database) {
  return drizzle(d1);
}

const instances = new WeakMap<D1Database, Db>();

/**
 * The drizzle instance over the `DB` binding itself, built once per isolate: the primary, for
 * queue consumers, the cron and RPC. HTTP requests use `sessionDb`.
 */
export function getDb(env: Env): Db {
  let db = instances.get(env.DB);
  if (!db) {
    db = createDb(env.DB);
    // A missing binding (a broken deployment) must fail where the database is used, and /health
    // report it, rather than in the middleware of every request: only a real binding is a key.
    if (typeof env.DB === "object" && env.DB !== null) instances.set(env.DB, db);
  }
  return db;
}

/** A D1 bookmark as D1 writes them: four dash-separated hex fields. Anything else is ignored. */
const BOOKMARK = /^[0-9a-f]{8}-[0-9a-f]{8}-[0-9a-f]{8}-[0-9a-f]{32}$/;

/**
 * A request's database through the D1 Sessions API, so reads can be answered by a nearby read
 * replica (once replication is enabled on the database) without ever going back in time for the
 * caller:
 *
 * - a write (`primary`) starts at the primary, so it sees the latest state;
 * - a read from a caller that sends the bookmark of its last answer starts from a replica at
 *   least that fresh — it reads its own writes;
 * - a read without one may be served by any replica ("first-unconstrained").
 *
 * `bookmark()` is where the session ended, for the caller to send next time. Without replication
 * every session is the primary, and nothing changes but the header.
 */
export function sessionDb(
  env: Env,
  start: { primary: true } | { bookmark: string | undefined },
): { db: Db; bookmark(): string | null } {
  const constraint =
    "primary" in start
      ? "first-primary"
      : start.bookmark && BOOKMARK.test(start.bookmark)
        ? start.bookmark
        : "first-unconstrained";
  const session = env.DB.withSession(constraint);
  // drizzle needs only prepare() and batch(), which a session has; a few µs to build per request.
  return { db: createDb(session as unknown as D1Database), bookmark: () => session.getBookmark() };
}

const dialect = new SQLiteAsyncDialect();

/**
 * A D1 statement from a drizzle `sql` template, for SQL the query builder cannot express (INSERT …
 * SELECT … WHERE over other tables). Run such statements with `D1Database.batch`: drizzle's own
 * batch cannot bind parameters of raw queries.
 */
export function rawStatement(d1: D1Database, query: SQL): D1PreparedStatement {
  const { sql, params } = dialect.sqlToQuery(query);
  return d1.prepare(sql).bind(...params);
}

type Columns = Record<string, SQLiteColumn>;
type Row<C extends Columns> = { [K in keyof C]: GetColumnData<C[K]> };

/**
 * A SELECT built once per isolate, for the hottest reads: drizzle's query builder writes the SQL
 * (with `sql.placeholder`s for the values) when the module loads, and each request only binds
 * its values and maps the row with the columns' own decoders (timestamps, booleans). Building a
 * query with joins through drizzle costs more CPU per request than the read itself
 * (bench/RESULTS.md, issue 14). `columns` is a flat selection: the row keeps its keys.
 */
export function prebuiltSelect<C extends Columns>(
  columns: C,
  build: (select: ReturnType<QueryBuilder["select"]>) => {
    toSQL(): { sql: string; params: unknown[] };
  },
): (db: Db, values: Record<string, unknown>) => Promise<Row<C>[]> {
  const { sql, params } = build(new QueryBuilder().select(columns)).toSQL();
  const keys = Object.keys(columns);
  const decoders = keys.map((key) => columns[key] as SQLiteColumn);
  return async (db, values) => {
    const rows = await db.$client
      .prepare(sql)
      .bind(...fillPlaceholders(params, values))
      .raw();
    return rows.map((row) => {
      const out: Record<string, unknown> = {};
      for (let i = 0; i < keys.length; i++) {
        const value = row[i];
        out[keys[i] as string] =
          value === null ? null : (decoders[i] as SQLiteColumn).mapFromDriverValue(value);
      }
      return out as Row<C>;
    });
  };
}
