/**
 * The rate-limit policies of DESIGN §7 and how requests are counted against them. The general
 * per-client ceiling is the Workers rate-limiting binding's (`enforceCeiling`); every policy that
 * protects an account counts per subject (a client network, an account, a user) exactly, in its
 * own RateLimiter Durable Object instance.
 *
 * If a limiter cannot be reached, the request is allowed and the failure logged: an outage of the
 * limiter must not take logins down with it (documented in the README).
 */
import type { Context } from "hono";
import { createMiddleware } from "hono/factory";
import type { AppEnv } from "../app-env";
import { sha256Hex } from "../auth/tokens";
import type { Config } from "../config";
import { ApiError } from "../errors";
import { errorDetail, log } from "../logging";
import { normalizeEmail } from "../users/identity";
import type { LimitState, RateLimiter, Rule } from "./rate-limiter";

export type PolicyName = keyof Config["rateLimits"];

/**
 * The client's network as rate limits see it: an IPv4 address, or the /64 an IPv6 address belongs
 * to (one subscriber usually holds a whole /64, so counting single IPv6 addresses is no limit at
 * all). Only CF-Connecting-IP is used: a client's own X-Forwarded-For is never trusted.
 */
export function clientNetwork(ip: string | null): string {
  if (!ip) return "unknown";
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(ip);
  if (mapped?.[1]) return mapped[1];
  // The same mapped address written in hex (::ffff:c000:201 is 192.0.2.1).
  const mappedHex = /^::ffff:([0-9a-f]{1,4}):([0-9a-f]{1,4})$/i.exec(ip);
  if (mappedHex?.[1] && mappedHex[2]) {
    const [high, low] = [Number.parseInt(mappedHex[1], 16), Number.parseInt(mappedHex[2], 16)];
    return [high >> 8, high & 255, low >> 8, low & 255].join(".");
  }
  if (!ip.includes(":")) return ip;
  const [head = "", tail = ""] = ip.toLowerCase().split("::");
  const left = head ? head.split(":") : [];
  const right = tail ? tail.split(":") : [];
  const groups = ip.includes("::")
    ? [...left, ...Array<string>(Math.max(0, 8 - left.length - right.length)).fill("0"), ...right]
    : left;
  const prefix = groups.slice(0, 4).map((g) => (Number.parseInt(g || "0", 16) || 0).toString(16));
  return `${prefix.join(":")}::/64`;
}

/** A subject that may be personal (an email) becomes a hash before it names anything. */
export async function emailSubject(email: string): Promise<string> {
  return sha256Hex(normalizeEmail(email));
}

/** Longer than this, the limiter counts as unreachable (a hung call must not hang logins). */
const LIMITER_TIMEOUT_MS = 2_000;

/**
 * One count to take: its policy, the RateLimiter instance that holds it and its key there. Most
 * policies count each subject in an instance of its own (`perSubject`); an account's login counts
 * share the account's instance (`perAccount`), so a login asks it once for all of them.
 */
export interface Check {
  policy: PolicyName;
  object: string;
  key: string;
}

export const perSubject = (policy: PolicyName, subject: string): Check => ({
  policy,
  object: `${policy}:${subject}`,
  key: "",
});

export const perAccount = (policy: PolicyName, account: string, within?: string): Check => ({
  policy,
  object: `account:${account}`,
  key: within === undefined ? policy : `${policy}:${within}`,
});

/** The checks grouped by instance, each with its rule (policies switched off are left out). */
function byInstance(c: Context<AppEnv>, checks: Check[]) {
  const groups = new Map<string, { check: Check; rule: Rule }[]>();
  for (const check of checks) {
    const rule = c.get("config").rateLimits[check.policy];
    if (!rule) continue;
    const group = groups.get(check.object) ?? [];
    group.push({
      check,
      rule: { key: check.key, limit: rule.limit, windowMs: rule.windowSeconds * 1000 },
    });
    groups.set(check.object, group);
  }
  return [...groups].map(([object, entries]) => ({ object, entries }));
}

async function withTimeout<T>(call: Promise<T>): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error("rate limiter timed out")), LIMITER_TIMEOUT_MS);
  });
  try {
    return await Promise.race([call, timeout]);
  } finally {
    if (timer !== undefined) clearTimeout(timer);
  }
}

/** Counts one instance's checks at once; null when the limiter cannot be reached. */
async function hitInstance(
  c: Context<AppEnv>,
  object: string,
  rules: Rule[],
  now: number,
): Promise<LimitState[] | null> {
  try {
    return await withTimeout(c.env.RATE_LIMITER.getByName(object).hitAll(rules, now));
  } catch (err) {
    unavailable(c, object, err);
    return null;
  }
}

function unavailable(c: Context<AppEnv>, object: string, err: unknown) {
  log("warn", "rate_limiter_unavailable", {
    correlation_id: c.get("correlationId"),
    policy: object.slice(0, object.indexOf(":")),
    detail: errorDetail(err),
  });
}

/**
 * The IETF draft's RateLimit-Policy / RateLimit headers for one policy, appended to the response
 * (a response can be under several policies: the general ceiling and the route's own).
 */
function describe(c: Context<AppEnv>, policy: PolicyName, state: LimitState) {
  const rule = c.get("config").rateLimits[policy];
  if (!rule) return;
  const seconds = state.allowed ? state.resetSeconds : state.retryAfterSeconds;
  c.header("RateLimit-Policy", `"${policy}";q=${rule.limit};w=${rule.windowSeconds}`, {
    append: true,
  });
  c.header("RateLimit", `"${policy}";r=${state.remaining};t=${seconds}`, { append: true });
}

function limited(c: Context<AppEnv>, policy: PolicyName, state: LimitState) {
  describe(c, policy, state);
  return new ApiError("rate_limited", "Too many requests; try again later", {
    headers: { "Retry-After": String(state.retryAfterSeconds) },
  });
}

/** Counts this request against a policy; throws the 429 when the subject is over it. */
export async function enforce(
  c: Context<AppEnv>,
  policy: PolicyName,
  subject: string,
): Promise<void> {
  await enforceAll(c, [perSubject(policy, subject)]);
}

/** One request counted against several policies, and how to settle it afterwards. */
interface Counted {
  /**
   * Forgets the counts of `clear` (e.g. a network's failed logins, after a right password) and
   * takes this request back from `refund`: one call per instance.
   */
  settle(clear: Check[], refund: Check[]): Promise<void>;
}

/**
 * Counts this request against several policies at once: one call per instance, the calls run
 * concurrently. If any refuses it, the others take it back — a refused request is no attempt, and
 * must not use up another policy's window — and the 429 waits for the latest of the refusals.
 */
export async function enforceAll(c: Context<AppEnv>, checks: Check[]): Promise<Counted> {
  const now = Date.now();
  const groups = byInstance(c, checks);
  const answers = await Promise.all(
    groups.map(({ object, entries }) =>
      hitInstance(
        c,
        object,
        entries.map((e) => e.rule),
        now,
      ),
    ),
  );
  const counted: Counted = { settle: (clear, refund) => settle(c, clear, refund, now) };
  const results = groups.flatMap(({ entries }, g) =>
    entries.map(({ check }, i) => ({ check, state: answers[g]?.[i] ?? null })),
  );
  const refused = results.flatMap(({ check, state }) =>
    state && !state.allowed ? [{ policy: check.policy, state }] : [],
  );
  if (refused.length === 0) {
    for (const { check, state } of results) if (state) describe(c, check.policy, state);
    return counted;
  }
  // An instance that refused counted none of its keys; the others take theirs back.
  await Promise.all(
    groups.map(({ object, entries }, g) =>
      answers[g]?.every((state) => state.allowed)
        ? call(c, object, (stub) =>
            stub.undo(
              now,
              entries.map((e) => e.rule.key),
            ),
          )
        : undefined,
    ),
  );
  const latest = refused.reduce((a, b) =>
    b.state.retryAfterSeconds > a.state.retryAfterSeconds ? b : a,
  );
  for (const other of refused) if (other !== latest) describe(c, other.policy, other.state);
  throw limited(c, latest.policy, latest.state);
}

async function settle(c: Context<AppEnv>, clear: Check[], refund: Check[], at: number) {
  const objects = new Map<string, { clear: string[]; refund: string[] }>();
  for (const [checks, kind] of [
    [clear, "clear"],
    [refund, "refund"],
  ] as const) {
    for (const check of checks) {
      if (!c.get("config").rateLimits[check.policy]) continue;
      const entry = objects.get(check.object) ?? { clear: [], refund: [] };
      entry[kind].push(check.key);
      objects.set(check.object, entry);
    }
  }
  await Promise.all(
    [...objects].map(([object, keys]) =>
      call(c, object, (stub) => stub.reset(keys.clear, { at, keys: keys.refund })),
    ),
  );
}

/** A call that only tidies up: if the limiter cannot be reached, it is logged and let go. */
async function call(
  c: Context<AppEnv>,
  object: string,
  run: (stub: DurableObjectStub<RateLimiter>) => Promise<unknown>,
): Promise<void> {
  try {
    await run(c.env.RATE_LIMITER.getByName(object));
  } catch (err) {
    unavailable(c, object, err);
  }
}

/**
 * The general per-client ceiling (`global-ip`), counted by the Workers rate-limiting binding: in
 * the colo serving the request, no storage write, no network hop — so a read pays nothing
 * noticeable for it. The binding says only yes or no: a 429 waits out one period, and allowed
 * answers carry the policy but no remaining count. Its limit and period are the binding's
 * (wrangler.toml `[[ratelimits]]`); RATE_LIMIT_GLOBAL_IP switches it off and names them in headers.
 */
export async function enforceCeiling(c: Context<AppEnv>, subject: string): Promise<void> {
  const rule = c.get("config").rateLimits["global-ip"];
  if (!rule) return;
  const policy = `"global-ip";q=${rule.limit};w=${rule.windowSeconds}`;
  let outcome: RateLimitOutcome;
  try {
    outcome = await c.env.GLOBAL_LIMITER.limit({ key: subject });
  } catch (err) {
    log("warn", "rate_limiter_unavailable", {
      correlation_id: c.get("correlationId"),
      policy: "global-ip",
      detail: errorDetail(err),
    });
    return;
  }
  c.header("RateLimit-Policy", policy, { append: true });
  if (!outcome.success) {
    c.header("RateLimit", `"global-ip";r=0;t=${rule.windowSeconds}`, { append: true });
    throw new ApiError("rate_limited", "Too many requests; try again later", {
      headers: { "Retry-After": String(rule.windowSeconds) },
    });
  }
}

/** Route middleware: count the request against a per-client-network policy. */
export function limitByClient(policy: PolicyName) {
  return createMiddleware<AppEnv>(async (c, next) => {
    await enforce(c, policy, clientNetwork(c.get("clientIp")));
    await next();
  });
}
