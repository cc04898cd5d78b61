/**
 * The work an authenticated read does (issue 7, "make the hot paths fast"), counted rather than
 * timed: D1 statements and KV reads go through pass-through wrappers of the real bindings (every
 * call still reaches local D1 and KV), and signature verifications and key imports are counted on
 * WebCrypto itself.
 */
import { env } from "cloudflare:workers";
import { afterEach, describe, expect, it, vi } from "vitest";
import { call, callWith, request } from "./helpers/api";
import { register } from "./helpers/users";

afterEach(() => {
  vi.restoreAllMocks();
});

/** The real D1 binding, counting the statements prepared through it. */
function countingD1() {
  const counts = { statements: 0 };
  const db = new Proxy(env.DB, {
    get(target, property) {
      if (property === "prepare") {
        return (query: string) => {
          counts.statements++;
          return target.prepare(query);
        };
      }
      const value = Reflect.get(target, property, target);
      return typeof value === "function" ? value.bind(target) : value;
    },
  });
  return { db, counts };
}

/** The real KV binding, counting reads. */
function countingKv() {
  const counts = { reads: 0 };
  const kv = new Proxy(env.KV, {
    get(target, property) {
      const value = Reflect.get(target, property, target);
      if (property === "get" || property === "getWithMetadata") {
        return (...args: unknown[]) => {
          counts.reads++;
          return (value as (...a: unknown[]) => unknown).apply(target, args);
        };
      }
      return typeof value === "function" ? value.bind(target) : value;
    },
  });
  return { kv, counts };
}

/**
 * A GET as a client sends it; with `bindings`, through the handler with those bindings replaced
 * (which also means a configuration parsed for that request alone).
 */
async function read(path: string, token: string, bindings?: Record<string, unknown>) {
  const res = bindings
    ? await callWith(bindings, request("GET", path, { token }))
    : await call("GET", path, { token });
  expect(res.status, res.text).toBe(200);
  return res;
}

describe("an authenticated read", () => {
  it("of the profile is one D1 query and one KV read (the revocation check)", async () => {
    const user = await register();
    const { db, counts: d1 } = countingD1();
    const { kv, counts } = countingKv();
    await read("/users/me/", user.access_token, { DB: db, KV: kv });
    expect(d1.statements).toBe(1);
    expect(counts.reads).toBe(1);
  });

  it("of preferences is no D1 query once cached: two KV reads (revocation, cache)", async () => {
    const user = await register();
    const cold = countingD1();
    await read("/users/preferences/", user.access_token, { DB: cold.db });
    expect(cold.counts.statements).toBe(1);

    const warm = countingD1();
    const { kv, counts } = countingKv();
    await read("/users/preferences/", user.access_token, { DB: warm.db, KV: kv });
    expect(warm.counts.statements).toBe(0);
    expect(counts.reads).toBe(2);
  });
});

describe("access tokens", () => {
  it("are verified once per isolate: the same token again costs no signature check", async () => {
    const user = await register();
    const verify = vi.spyOn(crypto.subtle, "verify");
    await read("/users/me/", user.access_token);
    expect(verify).toHaveBeenCalledTimes(1);
    verify.mockClear();
    await read("/users/me/", user.access_token);
    await read("/users/preferences/", user.access_token);
    expect(verify).not.toHaveBeenCalled();
  });

  it("are checked against keys imported once per isolate", async () => {
    const warmUp = await register();
    await read("/users/me/", warmUp.access_token);
    const users = [await register(), await register(), await register()];
    const importKey = vi.spyOn(crypto.subtle, "importKey");
    const verify = vi.spyOn(crypto.subtle, "verify");
    for (const user of users) await read("/users/me/", user.access_token);
    // Three new tokens: three verifications, no key imported for them.
    expect(verify).toHaveBeenCalledTimes(3);
    expect(importKey).not.toHaveBeenCalled();
  });
});
