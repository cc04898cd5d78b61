/**
 * The app's router remembers matches (src/routes/route-cache.ts): a remembered match must be the
 * match Hono's TrieRouter gives for that method and path — never another path's parameters — and
 * the memory stays bounded however many paths are asked for.
 */
import { TrieRouter } from "hono/router/trie-router";
import { describe, expect, it } from "vitest";
import { createApp } from "../src/app";
import { CachedTrieRouter } from "../src/routes/route-cache";
import { call } from "./helpers/api";
import { register } from "./helpers/users";

function both() {
  const cached = new CachedTrieRouter<string>();
  const plain = new TrieRouter<string>();
  for (const [method, path, name] of [
    ["ALL", "*", "middleware"],
    ["GET", "/users/:id", "user"],
    ["GET", "/users/me", "me"],
    ["GET", "/users/:id/audit", "audit"],
    ["GET", "/users/push-tokens/:id", "token"],
    ["POST", "/users", "create"],
  ] as const) {
    cached.add(method, path, name);
    plain.add(method, path, name);
  }
  return { cached, plain };
}

describe("CachedTrieRouter", () => {
  it("answers every method and path as the TrieRouter does, asked once or many times", () => {
    const { cached, plain } = both();
    const asks: [string, string][] = [
      ["GET", "/users/a"],
      ["GET", "/users/b"],
      ["GET", "/users/me"],
      ["GET", "/users/a/audit"],
      ["GET", "/users/push-tokens/x"],
      ["POST", "/users"],
      ["POST", "/users/a"],
      ["DELETE", "/nowhere"],
    ];
    for (let round = 0; round < 3; round++) {
      for (const [method, path] of asks) {
        expect(cached.match(method, path), `${method} ${path}`).toEqual(plain.match(method, path));
      }
    }
  });

  it("stays right past its bound, with endless distinct paths", () => {
    const { cached, plain } = both();
    for (let i = 0; i < 2_000; i++) {
      const path = `/users/${i}`;
      expect(cached.match("GET", path)).toEqual(plain.match("GET", path));
    }
    expect(cached.match("GET", "/users/7")).toEqual(plain.match("GET", "/users/7"));
  });

  it("forgets its matches when a route is added", () => {
    const router = new CachedTrieRouter<string>();
    router.add("GET", "/a/:x", "param");
    expect(router.match("GET", "/a/b")[0]).toHaveLength(1);
    router.add("GET", "/a/b", "fixed");
    expect(router.match("GET", "/a/b")[0].map(([name]) => name)).toEqual(["param", "fixed"]);
  });

  it("is the app's router, and requests still reach their own parameters", async () => {
    expect(createApp().router.name).toBe("CachedTrieRouter");
    const [a, b] = await Promise.all([register(), register()]);
    for (const user of [a, b, a]) {
      const res = await call("GET", `/users/${user.id}/`, {
        headers: { "X-Service-Key": "dev-service-key" },
      });
      expect(res.status, res.text).toBe(200);
      expect((res.body as { data: { id: string } }).data.id).toBe(user.id);
    }
  });
});
