/**
 * The work an authenticated read does (issue 7, "make the hot paths fast"), counted rather than
 * timed: signature verifications and key imports are counted on WebCrypto itself. Its round trips
 * to the bindings are counted in test/round-trips.test.ts.
 */
import { afterEach, describe, expect, it, vi } from "vitest";
import { call, callWith, request } from "./helpers/api";
import { register } from "./helpers/users";

afterEach(() => {
  vi.restoreAllMocks();
});

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

// Round trips per route (D1, KV, Durable Object, queues): test/round-trips.test.ts.

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
