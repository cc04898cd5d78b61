/**
 * Rate limits (DESIGN §7): every policy, its headers, the login lockout, IPv6 grouping, and the
 * RateLimiter Durable Object itself. Each test uses small limits and its own client addresses.
 */
import { runDurableObjectAlarm, runInDurableObject } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { afterEach, describe, expect, it, vi } from "vitest";
import { clientNetwork } from "../src/rate-limit/limits";
import type { RateLimiter } from "../src/rate-limit/rate-limiter";
import { type ApiResponse, callWith, expectError, globalCeiling, request } from "./helpers/api";
import {
  PASSWORD,
  register,
  SERVICE,
  SERVICE_BEARER,
  uniqueEmail,
  WRONG_SERVICE,
} from "./helpers/users";

afterEach(() => {
  vi.useRealTimers();
  vi.restoreAllMocks();
});

let next = 1;
/** A fresh client address for each test, so counts never leak between tests. */
function newIp() {
  next += 1;
  return `198.51.${Math.floor(next / 250)}.${next % 250}`;
}

function send(
  limits: Record<string, unknown>,
  ip: string,
  method: string,
  path: string,
  body?: Record<string, unknown>,
  headers: Record<string, string> = {},
) {
  return callWith(
    limits,
    request(method, path, { body, headers: { "CF-Connecting-IP": ip, ...headers } }),
  );
}

function expectLimited(res: ApiResponse, policy: string) {
  expectError(res, 429, "rate_limited");
  expect(Number(res.headers.get("Retry-After"))).toBeGreaterThan(0);
  // A response can be under several policies (the general ceiling too); the one that limited it
  // is listed with nothing remaining.
  expect(res.headers.get("RateLimit-Policy")).toMatch(
    new RegExp(`(^|, )"${policy}";q=\\d+;w=\\d+`),
  );
  expect(res.headers.get("RateLimit")).toMatch(new RegExp(`(^|, )"${policy}";r=0;t=[1-9]\\d*`));
}

describe("per-client policies", () => {
  it("registration: 2 per hour from one client, then 429 with Retry-After and RateLimit headers", async () => {
    const limits = { RATE_LIMIT_REGISTER_IP: "2/3600" };
    const ip = newIp();
    const register = () =>
      send(limits, ip, "POST", "/users/", { email: uniqueEmail(), password: PASSWORD });
    const first = await register();
    expect(first.status).toBe(201);
    expect(first.headers.get("RateLimit-Policy")).toContain('"register-ip";q=2;w=3600');
    expect(first.headers.get("RateLimit")).toContain('"register-ip";r=1;t=');
    expect((await register()).status).toBe(201);
    expectLimited(await register(), "register-ip");
    // Another client is not affected.
    expect(
      (await send(limits, newIp(), "POST", "/users/", { email: uniqueEmail(), password: PASSWORD }))
        .status,
    ).toBe(201);
  });

  it("counts a client's own X-Forwarded-For for nothing", async () => {
    const limits = { RATE_LIMIT_REGISTER_IP: "1/3600" };
    const ip = newIp();
    const attempt = (xff: string) =>
      send(
        limits,
        ip,
        "POST",
        "/users/",
        { email: uniqueEmail(), password: PASSWORD },
        { "X-Forwarded-For": xff },
      );
    expect((await attempt("203.0.113.1")).status).toBe(201);
    expectLimited(await attempt("203.0.113.2"), "register-ip");
  });

  it("login: 3 attempts per client, whatever the credentials", async () => {
    const limits = { RATE_LIMIT_LOGIN_IP: "3/300" };
    const user = await register();
    const ip = newIp();
    const login = (password: string) =>
      send(limits, ip, "POST", "/auth/login/", { email: user.email, password });
    expect((await login("wrong-one-1")).status).toBe(401);
    expect((await login("wrong-one-2")).status).toBe(401);
    expect((await login(PASSWORD)).status).toBe(200);
    expectLimited(await login(PASSWORD), "login-ip");
  });

  it("password reset: per client", async () => {
    const limits = { RATE_LIMIT_RESET_IP: "2/3600" };
    const ip = newIp();
    const reset = () => send(limits, ip, "POST", "/auth/password-reset/", { email: uniqueEmail() });
    expect((await reset()).status).toBe(202);
    expect((await reset()).status).toBe(202);
    expectLimited(await reset(), "reset-ip");
  });

  it("the general ceiling applies to every route", async () => {
    const limits = globalCeiling(3);
    const ip = newIp();
    for (let i = 0; i < 3; i++)
      expect((await send(limits, ip, "GET", "/health/")).status).toBe(200);
    expectLimited(await send(limits, ip, "GET", "/users/me/"), "global-ip");
    expect((await send(limits, newIp(), "GET", "/health/")).status).toBe(200);
  });

  it("a 429 carries the security, cache and CORS headers of every other answer", async () => {
    const limits = { ...globalCeiling(1), CORS_ORIGINS: "https://app.example" };
    const ip = newIp();
    const origin = { Origin: "https://app.example" };
    await send(limits, ip, "GET", "/health/", undefined, origin);
    const res = await send(limits, ip, "GET", "/health/", undefined, origin);
    expectLimited(res, "global-ip");
    expect(res.headers.get("Strict-Transport-Security")).toContain("max-age=31536000");
    expect(res.headers.get("X-Content-Type-Options")).toBe("nosniff");
    expect(res.headers.get("Cache-Control")).toBe("no-store");
    expect(res.headers.get("Access-Control-Allow-Origin")).toBe("https://app.example");
    // ...so a browser app can read when to try again.
    expect(res.headers.get("Access-Control-Expose-Headers")).toContain("Retry-After");
  });

  it("the general ceiling does not count services holding a valid key; a wrong key counts", async () => {
    const limits = globalCeiling(2);
    const ip = newIp();
    const user = await register();
    const lookup = (headers: Record<string, string>) =>
      send(limits, ip, "GET", `/users/${user.id}/`, undefined, headers);
    for (let i = 0; i < 5; i++) expect((await lookup(SERVICE)).status).toBe(200);
    for (let i = 0; i < 5; i++) expect((await lookup(SERVICE_BEARER)).status).toBe(200);
    expectError(await lookup(WRONG_SERVICE), 401, "invalid_token");
    expectError(await lookup(WRONG_SERVICE), 401, "invalid_token");
    expectLimited(await lookup(WRONG_SERVICE), "global-ip");
    // The address is now over its limit for everyone but the services.
    expectLimited(await send(limits, ip, "GET", "/health/"), "global-ip");
    expect((await lookup(SERVICE)).status).toBe(200);
  });

  it("lets a client in again once the window has passed", async () => {
    const limits = { RATE_LIMIT_REGISTER_IP: "2/60" };
    const ip = newIp();
    const attempt = () =>
      send(limits, ip, "POST", "/users/", { email: uniqueEmail(), password: PASSWORD });
    vi.useFakeTimers({ toFake: ["Date"] });
    const start = Date.now();
    await attempt();
    await attempt();
    const blocked = await attempt();
    expectLimited(blocked, "register-ip");
    expect(Number(blocked.headers.get("Retry-After"))).toBeLessThanOrEqual(60);
    vi.setSystemTime(start + 61_000);
    expect((await attempt()).status).toBe(201);
  });
});

describe("IPv6 clients are counted per /64", () => {
  it("groups addresses of one /64 and separates neighbouring /64s", async () => {
    expect(clientNetwork("2001:db8:1:2:aaaa::1")).toBe("2001:db8:1:2::/64");
    expect(clientNetwork("2001:0db8:0001:0002:ffff:ffff:ffff:ffff")).toBe("2001:db8:1:2::/64");
    expect(clientNetwork("2001:db8::1")).toBe("2001:db8:0:0::/64");
    expect(clientNetwork("::ffff:192.0.2.1")).toBe("192.0.2.1");
    expect(clientNetwork("::ffff:c000:201")).toBe("192.0.2.1");
    expect(clientNetwork("192.0.2.1")).toBe("192.0.2.1");
    expect(clientNetwork(null)).toBe("unknown");

    const limits = globalCeiling(2);
    next += 1;
    const net = `2001:db8:${next.toString(16)}:1`;
    expect((await send(limits, `${net}::a`, "GET", "/health/")).status).toBe(200);
    expect((await send(limits, `${net}:ffff::b`, "GET", "/health/")).status).toBe(200);
    expectLimited(await send(limits, `${net}::c`, "GET", "/health/"), "global-ip");
    expect(
      (await send(limits, `2001:db8:${next.toString(16)}:2::a`, "GET", "/health/")).status,
    ).toBe(200);
  });
});

// Failed logins per account and network, the ceiling and proven devices: test/lockout.test.ts.

describe("per-email and per-user policies", () => {
  it("password reset: per email, answered alike for known and unknown emails", async () => {
    const limits = { RATE_LIMIT_RESET_EMAIL: "2/3600" };
    const known = await register();
    const unknown = uniqueEmail("ghost");
    for (const email of [known.email, unknown]) {
      expect((await send(limits, newIp(), "POST", "/auth/password-reset/", { email })).status).toBe(
        202,
      );
      expect((await send(limits, newIp(), "POST", "/auth/password-reset/", { email })).status).toBe(
        202,
      );
      expectLimited(
        await send(limits, newIp(), "POST", "/auth/password-reset/", { email }),
        "reset-email",
      );
    }
  });

  it("verification resend: per user", async () => {
    const limits = { RATE_LIMIT_VERIFY_RESEND_USER: "1/3600" };
    const user = await register();
    const resend = () =>
      send(limits, newIp(), "POST", "/auth/verify-email/resend/", undefined, {
        Authorization: `Bearer ${user.access_token}`,
      });
    expect((await resend()).status).toBe(202);
    expectLimited(await resend(), "resend-user");
  });
});

describe("when the limiter is unreachable", () => {
  it("requests are allowed and the failure is logged", async () => {
    const warnings: string[] = [];
    vi.spyOn(console, "warn").mockImplementation((line: string) => {
      warnings.push(line);
    });
    const res = await callWith(
      { RATE_LIMITER: undefined, GLOBAL_LIMITER: undefined },
      request("GET", "http://localhost/.well-known/jwks.json"),
    );
    expect(res.status).toBe(200);
    expect(warnings.some((w) => JSON.parse(w).msg === "rate_limiter_unavailable")).toBe(true);
  });
});

describe("the RateLimiter Durable Object", () => {
  const stub = () => env.RATE_LIMITER.getByName(`test:${crypto.randomUUID()}`);

  it("counts exactly in a sliding window", async () => {
    const limiter = stub();
    const t = 1_000_000;
    expect(await limiter.hit(2, 10_000, t)).toMatchObject({ allowed: true, remaining: 1 });
    expect(await limiter.hit(2, 10_000, t + 4_000)).toMatchObject({ allowed: true, remaining: 0 });
    expect(await limiter.hit(2, 10_000, t + 5_000)).toMatchObject({
      allowed: false,
      remaining: 0,
      retryAfterSeconds: 5,
    });
    // The first request leaves the window at t + 10 s: one slot again, not two.
    expect(await limiter.hit(2, 10_000, t + 10_001)).toMatchObject({ allowed: true, remaining: 0 });
    expect(await limiter.hit(2, 10_000, t + 10_002)).toMatchObject({ allowed: false });
  });

  it("keeps its count in storage, and the alarm clears it once the window is over", async () => {
    const limiter = stub();
    await limiter.hit(5, 60_000, Date.now());
    await runInDurableObject(limiter, async (_instance: RateLimiter, state) => {
      expect(state.storage.sql.exec("SELECT count(*) AS n FROM counts").one().n).toBe(1);
      expect(await state.storage.getAlarm()).not.toBeNull();
    });
    expect(await runDurableObjectAlarm(limiter)).toBe(true);
    await runInDurableObject(limiter, async (_instance: RateLimiter, state) => {
      expect(
        state.storage.sql
          .exec("SELECT count(*) AS n FROM sqlite_master WHERE name = 'counts'")
          .one().n,
      ).toBe(0);
    });
  });

  it("reset forgets everything", async () => {
    const limiter = stub();
    const t = Date.now();
    await limiter.hit(1, 60_000, t);
    expect(await limiter.hit(1, 60_000, t)).toMatchObject({ allowed: false });
    await limiter.reset();
    expect(await limiter.hit(1, 60_000, t)).toMatchObject({ allowed: true, remaining: 0 });
  });

  it("counts several keys at once, and none of them when one is full", async () => {
    const limiter = stub();
    const t = Date.now();
    const rules = [
      { key: "a", limit: 2, windowMs: 10_000 },
      { key: "b", limit: 1, windowMs: 60_000 },
    ];
    expect(await limiter.hitAll(rules, t)).toMatchObject([
      { allowed: true, remaining: 1 },
      { allowed: true, remaining: 0 },
    ]);
    // "b" is full: "a" is not counted either, so it still has its one slot.
    expect(await limiter.hitAll(rules, t + 1_000)).toMatchObject([
      { allowed: true },
      { allowed: false, retryAfterSeconds: 59 },
    ]);
    expect(await limiter.hitAll([rules[0] as (typeof rules)[0]], t + 2_000)).toMatchObject([
      { allowed: true, remaining: 0 },
    ]);
    // Clearing "a" and refunding "b" leaves both with room.
    await limiter.reset(["a"], { at: t, keys: ["b"] });
    expect(await limiter.hitAll(rules, t + 3_000)).toMatchObject([
      { allowed: true, remaining: 1 },
      { allowed: true, remaining: 0 },
    ]);
    // The alarm waits for the longest window.
    await runInDurableObject(limiter, async (_instance: RateLimiter, state) => {
      expect(await state.storage.getAlarm()).toBe(t + 3_000 + 60_000);
    });
  });

  it("keeps the counts an instance kept before keys existed", async () => {
    const limiter = stub();
    const t = 1_000_000;
    await runInDurableObject(limiter, async (_instance: RateLimiter, state) => {
      state.storage.sql.exec("CREATE TABLE hits (at INTEGER NOT NULL)");
      state.storage.sql.exec("INSERT INTO hits (at) VALUES (?), (?)", t, t + 1_000);
    });
    expect(await limiter.hit(2, 10_000, t + 2_000)).toMatchObject({
      allowed: false,
      retryAfterSeconds: 8,
    });
    expect(await limiter.hit(2, 10_000, t + 10_001)).toMatchObject({ allowed: true, remaining: 0 });
  });

  it("after a limit is lowered, Retry-After waits until enough requests have left the window", async () => {
    const limiter = stub();
    const t = 1_000_000;
    for (const at of [t, t + 1_000, t + 2_000]) await limiter.hit(5, 10_000, at);
    // Three in the window, one allowed now: two must leave, the second of them at t + 12 s.
    expect(await limiter.hit(1, 10_000, t + 3_000)).toMatchObject({
      allowed: false,
      retryAfterSeconds: 9,
    });
  });
});
