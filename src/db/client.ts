import type { SQL } from "drizzle-orm";
import { drizzle } from "drizzle-orm/d1";
import { SQLiteAsyncDialect } from "drizzle-orm/sqlite-core";
import * as schema from "./schema";

export type Db = ReturnType<typeof createDb>;

function createDb(d1: D1Database) {
  return drizzle(d1, { schema });
}

const instances = new WeakMap<D1Database, Db>();

/**
 * The drizzle instance over the `DB` binding, built once per isolate. Every query goes to the
 * primary (no D1 read-replica session), so a request always reads its own and earlier writes.
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
