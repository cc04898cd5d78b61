/**
 * The rate-limit policies of DESIGN §7 and how requests are counted against them. Each policy
 * counts per subject (a client network, an account, a user) in its own RateLimiter instance.
 *
 * If the Durable Object cannot be reached, the request is allowed and the failure logged: an
 * outage of the limiter must not take logins down with it (documented in the README).
 */
import type { Context } from "hono";
import { createMiddleware } from "hono/factory";
import type { AppEnv } from "../app-env";
import { sha256Hex } from "../auth/tokens";
import type { Config } from "../config";
import { ApiError } from "../errors";
import { errorDetail, log } from "../logging";
import type { LimitState } from "./rate-limiter";

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
  return sha256Hex(email.trim().toLowerCase());
}

async function call(
  c: Context<AppEnv>,
  policy: PolicyName,
  subject: string,
  action: "hit" | "peek",
): Promise<LimitState | null> {
  const rule = c.get("config").rateLimits[policy];
  if (!rule) return null;
  try {
    const stub = c.env.RATE_LIMITER.getByName(`${policy}:${subject}`);
    const windowMs = rule.windowSeconds * 1000;
    return action === "hit"
      ? await stub.hit(rule.limit, windowMs, Date.now())
      : await stub.peek(rule.limit, windowMs, Date.now());
  } catch (err) {
    log("warn", "rate_limiter_unavailable", {
      correlation_id: c.get("correlationId"),
      policy,
      detail: errorDetail(err),
    });
    return null;
  }
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
  const state = await call(c, policy, subject, "hit");
  if (!state) return;
  if (!state.allowed) throw limited(c, policy, state);
  describe(c, policy, state);
}

/** Throws the 429 if the subject is already over a policy, without counting this request. */
export async function enforceNotLocked(c: Context<AppEnv>, policy: PolicyName, subject: string) {
  const state = await call(c, policy, subject, "peek");
  if (state && !state.allowed) throw limited(c, policy, state);
}

/** Counts one event (e.g. a failed login) against a policy, without failing this request. */
export async function count(
  c: Context<AppEnv>,
  policy: PolicyName,
  subject: string,
): Promise<void> {
  await call(c, policy, subject, "hit");
}

/** Clears a subject's count (e.g. failed logins, after a successful one). */
export async function clear(
  c: Context<AppEnv>,
  policy: PolicyName,
  subject: string,
): Promise<void> {
  if (!c.get("config").rateLimits[policy]) return;
  try {
    await c.env.RATE_LIMITER.getByName(`${policy}:${subject}`).reset();
  } catch (err) {
    log("warn", "rate_limiter_unavailable", { policy, detail: errorDetail(err) });
  }
}

/** Route middleware: count the request against a per-client-network policy. */
export function limitByClient(policy: PolicyName) {
  return createMiddleware<AppEnv>(async (c, next) => {
    await enforce(c, policy, clientNetwork(c.get("clientIp")));
    await next();
  });
}
