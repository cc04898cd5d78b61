declare namespace Cloudflare {
  interface Env {
    /** Defined in vitest.config.ts: the SQL migrations, applied by test/setup/apply-migrations.ts. */
    TEST_MIGRATIONS: import("cloudflare:test").D1Migration[];
    /** Defined in vitest.config.ts: Django PBKDF2 hashes made by Node's OpenSSL (JSON). */
    TEST_DJANGO_HASHES: string;
    /** Defined in vitest.config.ts: a Worker that calls UserService over RPC (test/rpc-caller). */
    RPC_CALLER: Fetcher;
    /** Defined in vitest.config.ts: a D1 database with no tables. */
    EMPTY_DB: D1Database;
  }
}
