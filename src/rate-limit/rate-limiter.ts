/**
 * The RateLimiter Durable Object (DESIGN §7): one instance per rate-limit key ("login-ip:203.0.113.7",
 * "login-account:<email hash>", …), counting exactly with a sliding-window log kept in the object's
 * own SQLite storage — so eviction or a restart does not reset a count — and an alarm that deletes
 * the log once its window has passed. RPC methods only, no inner router.
 *
 * Times come from the caller (the Worker's clock), so a whole request uses one notion of "now" and
 * tests can move it.
 */
import { DurableObject } from "cloudflare:workers";

export interface LimitState {
  /** Whether this request is allowed (and so counted). */
  allowed: boolean;
  limit: number;
  /** Requests left in the current window after this one. */
  remaining: number;
  /** Seconds until the window has room again (0 when it has room now). */
  retryAfterSeconds: number;
  /** Seconds until the oldest counted request leaves the window (the window's "reset"). */
  resetSeconds: number;
}

export class RateLimiter extends DurableObject<Env> {
  /** Whether the log table exists (it goes with `deleteAll`, and comes back on the next use). */
  private tableReady = false;

  /** Liveness probe used by /health: proves the namespace is bound and an instance answers. */
  async ping(): Promise<"pong"> {
    return "pong";
  }

  /** Counts one request if the window has room; either way, says where the key stands. */
  async hit(limit: number, windowMs: number, now: number): Promise<LimitState> {
    // No await before the insert: a Durable Object runs one such step at a time, so check and
    // count cannot interleave with another request's.
    const state = this.state(limit, windowMs, now);
    if (!state.allowed) return state;
    this.ctx.storage.sql.exec("INSERT INTO hits (at) VALUES (?)", now);
    const counted = this.state(limit, windowMs, now, true);
    // The newest request leaves the window last: clean up then.
    await this.ctx.storage.setAlarm(now + windowMs);
    return counted;
  }

  /**
   * Takes back one request counted at `at` (a hit another policy refused, or a login attempt that
   * turned out right): it was no guess, and must not use up the window.
   */
  async undo(at: number): Promise<void> {
    this.ensureTable();
    this.ctx.storage.sql.exec(
      "DELETE FROM hits WHERE rowid = (SELECT rowid FROM hits WHERE at = ? LIMIT 1)",
      at,
    );
  }

  /** Forgets every counted request (e.g. failed logins, after a successful one). */
  async reset(): Promise<void> {
    await this.forget();
  }

  /** Once the last request has left its window, nothing needs keeping. */
  override async alarm(): Promise<void> {
    await this.forget();
  }

  private async forget() {
    await this.ctx.storage.deleteAlarm();
    await this.ctx.storage.deleteAll();
    this.tableReady = false;
  }

  private ensureTable() {
    if (!this.tableReady) {
      this.ctx.storage.sql.exec("CREATE TABLE IF NOT EXISTS hits (at INTEGER NOT NULL)");
      this.tableReady = true;
    }
  }

  private state(limit: number, windowMs: number, now: number, counted = false): LimitState {
    this.ensureTable();
    const sql = this.ctx.storage.sql;
    sql.exec("DELETE FROM hits WHERE at <= ?", now - windowMs);
    const row = sql
      .exec<{ n: number; oldest: number | null }>(
        "SELECT count(*) AS n, min(at) AS oldest FROM hits",
      )
      .one();
    const used = row.n;
    const full = used >= limit;
    const resetSeconds = Math.max(
      0,
      Math.ceil(((row.oldest ?? now - windowMs) + windowMs - now) / 1000),
    );
    let retryAfterSeconds = 0;
    if (full && !counted) {
      // Room comes back when enough requests have left the window for one more to fit: more than
      // one if the limit was lowered below what the window already holds.
      const freeing = sql
        .exec<{ at: number }>("SELECT at FROM hits ORDER BY at LIMIT 1 OFFSET ?", used - limit)
        .one().at;
      retryAfterSeconds = Math.max(1, Math.ceil((freeing + windowMs - now) / 1000));
    }
    return {
      // After counting, the request that was just counted is the one allowed.
      allowed: counted || !full,
      limit,
      remaining: Math.max(0, limit - used),
      retryAfterSeconds,
      resetSeconds,
    };
  }
}
