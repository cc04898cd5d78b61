/**
 * The RateLimiter Durable Object (DESIGN §7): counts exactly with a sliding-window log kept in the
 * object's own SQLite storage — so eviction or a restart does not reset a count — and an alarm
 * that deletes what has left its window. RPC methods only, no inner router.
 *
 * An instance holds one or more keys. Most are named after one policy and subject
 * ("login-ip:203.0.113.7") and count under the empty key; an account's instance
 * ("account:<email hash>") holds all of that account's login counts (per network, per device, its
 * ceiling), so a login asks it once for all of them and a count is checked and taken atomically.
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

/** One count to take: the key inside the instance and its rule. */
export interface Rule {
  key: string;
  limit: number;
  windowMs: number;
}

/** How many requests a key's window holds now, and when the oldest of them was counted. */
interface Window {
  used: number;
  oldest: number | null;
}

export class RateLimiter extends DurableObject<Env> {
  /** Whether the log table exists (it goes with `deleteAll`, and comes back on the next use). */
  private tableReady = false;
  /** When the alarm is set for, as far as this instance knows (undefined: not asked yet). */
  private alarmAt: number | null | undefined;

  /** Liveness probe used by /health: proves the namespace is bound and an instance answers. */
  async ping(): Promise<"pong"> {
    return "pong";
  }

  /** Counts one request under the empty key if the window has room; either way, says where it stands. */
  async hit(limit: number, windowMs: number, now: number): Promise<LimitState> {
    const [state] = await this.hitAll([{ key: "", limit, windowMs }], now);
    return state as LimitState;
  }

  /**
   * Counts one request under every rule's key if each has room, or under none if any is full —
   * a refused request is no attempt, and must not use up another key's window. The states come
   * back in the rules' order.
   */
  async hitAll(rules: Rule[], now: number): Promise<LimitState[]> {
    // No await before the inserts: a Durable Object runs one such step at a time, so check and
    // count cannot interleave with another request's.
    this.ensureTable(rules);
    const windows = rules.map((rule) => this.window(rule, now));
    const states = rules.map((rule, i) => this.state(rule, now, windows[i] as Window));
    if (states.some((state) => !state.allowed)) return states;
    for (const rule of rules) {
      this.ctx.storage.sql.exec(
        "INSERT INTO counts (key, at, expires) VALUES (?, ?, ?)",
        rule.key,
        now,
        now + rule.windowMs,
      );
    }
    // Each window now holds one more, counted at `now`: no need to read it back.
    const counted = rules.map((rule, i) => {
      const { used, oldest } = windows[i] as Window;
      const after = { used: used + 1, oldest: Math.min(oldest ?? now, now) };
      return this.state(rule, now, after, true);
    });
    await this.scheduleCleanUp(Math.max(...rules.map((rule) => now + rule.windowMs)));
    return counted;
  }

  /**
   * Takes back one request counted at `at` under each key (a hit another instance refused, or a
   * login attempt that turned out right): it was no guess, and must not use up the window.
   */
  async undo(at: number, keys: string[] = [""]): Promise<void> {
    this.ensureTable();
    for (const key of keys) {
      this.ctx.storage.sql.exec(
        "DELETE FROM counts WHERE rowid = (SELECT rowid FROM counts WHERE key = ? AND at = ? LIMIT 1)",
        key,
        at,
      );
    }
  }

  /**
   * Forgets every request counted under the keys (e.g. a network's failed logins, after a
   * successful one), or everything when no keys are named; and takes back one request counted at
   * `refund.at` under each of `refund.keys`. One call, so a login settles its account at once.
   */
  async reset(keys?: string[], refund?: { at: number; keys: string[] }): Promise<void> {
    if (keys === undefined) return this.forget();
    this.ensureTable();
    for (const key of keys) this.ctx.storage.sql.exec("DELETE FROM counts WHERE key = ?", key);
    if (refund) await this.undo(refund.at, refund.keys);
  }

  /**
   * The alarm is always set for when the last count leaves its window (every count moves it
   * there), so when it fires everything has left: nothing needs keeping.
   */
  override async alarm(): Promise<void> {
    await this.forget();
  }

  /**
   * Moves the alarm to `last`, when the counts just taken leave their windows, unless it is set
   * for later already (a longer window counted before): it stays at the last expiry of all.
   */
  private async scheduleCleanUp(last: number): Promise<void> {
    if (this.alarmAt === undefined) this.alarmAt = await this.ctx.storage.getAlarm();
    if (this.alarmAt !== null && this.alarmAt >= last) return;
    await this.ctx.storage.setAlarm(last);
    this.alarmAt = last;
  }

  private async forget() {
    await this.ctx.storage.deleteAlarm();
    await this.ctx.storage.deleteAll();
    this.tableReady = false;
    this.alarmAt = null;
  }

  private tableExists(name: string): boolean {
    return (
      this.ctx.storage.sql
        .exec<{ n: number }>("SELECT count(*) AS n FROM sqlite_master WHERE name = ?", name)
        .one().n > 0
    );
  }

  /**
   * Creates the log table. An instance written before keys existed has its counts in `hits (at)`:
   * they move under the empty key, with the window of the rule that key is asked with now.
   */
  private ensureTable(rules: Rule[] = []) {
    if (this.tableReady) return;
    const sql = this.ctx.storage.sql;
    sql.exec(
      "CREATE TABLE IF NOT EXISTS counts (key TEXT NOT NULL, at INTEGER NOT NULL, expires INTEGER NOT NULL)",
    );
    sql.exec("CREATE INDEX IF NOT EXISTS counts_by_key ON counts (key, at)");
    if (this.tableExists("hits")) {
      const window = rules.find((rule) => rule.key === "")?.windowMs;
      if (window !== undefined) {
        sql.exec("INSERT INTO counts (key, at, expires) SELECT '', at, at + ? FROM hits", window);
      }
      sql.exec("DROP TABLE hits");
    }
    this.tableReady = true;
  }

  /** Drops what has left the key's window, and says what the window holds. */
  private window({ key, windowMs }: Rule, now: number): Window {
    const sql = this.ctx.storage.sql;
    sql.exec("DELETE FROM counts WHERE key = ? AND at <= ?", key, now - windowMs);
    const row = sql
      .exec<{ n: number; oldest: number | null }>(
        "SELECT count(*) AS n, min(at) AS oldest FROM counts WHERE key = ?",
        key,
      )
      .one();
    return { used: row.n, oldest: row.oldest };
  }

  private state(rule: Rule, now: number, { used, oldest }: Window, counted = false): LimitState {
    const { key, limit, windowMs } = rule;
    const sql = this.ctx.storage.sql;
    const full = used >= limit;
    const resetSeconds = Math.max(
      0,
      Math.ceil(((oldest ?? now - windowMs) + windowMs - now) / 1000),
    );
    let retryAfterSeconds = 0;
    if (full && !counted) {
      // Room comes back when enough requests have left the window for one more to fit: more than
      // one if the limit was lowered below what the window already holds.
      const freeing = sql
        .exec<{ at: number }>(
          "SELECT at FROM counts WHERE key = ? ORDER BY at LIMIT 1 OFFSET ?",
          key,
          used - limit,
        )
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
