/**
 * The round trips of each hot route (issue 14: the latency model for the edge), with the rate
 * limits on as deployed: D1 calls (and the statements they carry), KV calls, Durable Object calls,
 * rate-limiting binding calls and queue sends before the response, and `depth`, how many of them
 * the client waits for one after another. The README's table lists these numbers. Every call goes
 * to the real local binding through a pass-through wrapper (test/helpers/round-trips.ts).
 */
import { env } from "cloudflare:workers";
import { describe, expect, it, vi } from "vitest";
import { request } from "./helpers/api";
import { Trace, tracedBindings, tracedRequest } from "./helpers/round-trips";
import { PASSWORD, register, uniqueEmail } from "./helpers/users";

const json = { "CF-Connecting-IP": "192.0.2.77" };

describe("round trips per hot route (rate limits on)", () => {
  it("GET /health: nothing but the ceiling once warm — answered from the isolate", async () => {
    const trace = new Trace();
    const bindings = { ...env, ...tracedBindings(trace) } as Env;
    const first = await tracedRequest(new Request("http://localhost/health"), {
      env: bindings,
      trace,
    });
    expect(first.status).toBe(200);
    expect(first.summary).toMatchObject({ d1: 1, kv: 1, do: 1, queue: 1, ratelimit: 1 });
    const before = trace.calls.length;
    const warm = await tracedRequest(new Request("http://localhost/health"), {
      env: bindings,
      trace,
    });
    expect(warm.status).toBe(200);
    expect(trace.calls.slice(before).map((c) => c.kind)).toEqual(["ratelimit"]);
  });

  it("GET /health/ready: one of each dependency, all at once", async () => {
    const { status, summary } = await tracedRequest(new Request("http://localhost/health/ready"));
    expect(status).toBe(200);
    expect(summary).toMatchObject({ d1: 1, kv: 1, do: 1, queue: 1, ratelimit: 1, depth: 2 });
  });

  /**
   * Before the response: round trips per binding, D1 statements, and `depth`; `after`: calls of
   * the after-response work (publishing the outbox). The README's "Round trips" table is this.
   */
  const expected = {
    "GET /users/me/": {
      d1: 1,
      d1Statements: 1,
      kv: 1,
      do: 0,
      ratelimit: 1,
      queue: 0,
      depth: 2,
      after: 0,
    },
    "GET /users/preferences/ (cached)": {
      d1: 0,
      d1Statements: 0,
      // The deny-list entry and the cached preferences in one bulk read.
      kv: 1,
      do: 0,
      ratelimit: 1,
      queue: 0,
      depth: 2,
      after: 0,
    },
    "POST /auth/refresh/": {
      d1: 1,
      d1Statements: 3,
      kv: 0,
      do: 0,
      ratelimit: 1,
      queue: 0,
      depth: 2,
      after: 0,
    },
    "POST /auth/login/": {
      d1: 2,
      d1Statements: 5,
      kv: 0,
      // The network's count and the account's (per network and its ceiling, in one instance), and
      // (after the right password, not awaited) the account's settled, beside the batch.
      do: 3,
      ratelimit: 1,
      queue: 0,
      depth: 3,
      after: 0,
    },
    "POST /users/": {
      d1: 2,
      d1Statements: 10,
      kv: 0,
      do: 1,
      ratelimit: 1,
      queue: 0,
      depth: 4,
      after: 2,
    },
    "POST /users/push-tokens/": {
      d1: 4,
      d1Statements: 5,
      kv: 1,
      do: 0,
      ratelimit: 1,
      queue: 0,
      depth: 6,
      after: 2,
    },
    "PATCH /users/preferences/": {
      d1: 3,
      d1Statements: 4,
      kv: 2,
      do: 0,
      ratelimit: 1,
      queue: 0,
      depth: 6,
      after: 2,
    },
    // The lookup and the write run after the answer, whose timing must not tell who has an
    // account (src/middleware/publish-events.ts `afterResponse`).
    "POST /auth/password-reset/": {
      d1: 0,
      d1Statements: 0,
      kv: 0,
      do: 2,
      ratelimit: 1,
      queue: 0,
      depth: 2,
      after: 5,
    },
  };

  it("every hot route makes the round trips the README lists", async () => {
    const user = await register();
    const h = { "CF-Connecting-IP": "192.0.2.78" };
    const token = user.access_token;
    await tracedRequest(request("GET", "/users/preferences/", { token, headers: h }));
    const runs: Record<keyof typeof expected, () => Request> = {
      "GET /users/me/": () => request("GET", "/users/me/", { token, headers: h }),
      "GET /users/preferences/ (cached)": () =>
        request("GET", "/users/preferences/", { token, headers: h }),
      "POST /auth/refresh/": () =>
        request("POST", "/auth/refresh/", {
          body: { refresh_token: user.refresh_token },
          headers: h,
        }),
      "POST /auth/login/": () =>
        request("POST", "/auth/login/", {
          body: { email: user.email, password: PASSWORD },
          headers: h,
        }),
      "POST /users/": () =>
        request("POST", "/users/", {
          body: { email: uniqueEmail(), password: PASSWORD },
          headers: h,
        }),
      "POST /users/push-tokens/": () =>
        request("POST", "/users/push-tokens/", {
          token,
          body: { token: `rt-${user.id}`, platform: "web" },
          headers: h,
        }),
      "PATCH /users/preferences/": () =>
        request("PATCH", "/users/preferences/", { token, body: { push: false }, headers: h }),
      "POST /auth/password-reset/": () =>
        request("POST", "/auth/password-reset/", { body: { email: user.email }, headers: h }),
    };
    for (const [route, make] of Object.entries(runs)) {
      const { status, summary, trace } = await tracedRequest(make());
      expect(status, route).toBeLessThan(300);
      expect(summary, `${route}\n${trace.list().join("\n")}\n${JSON.stringify(summary)}`).toEqual(
        expected[route as keyof typeof expected],
      );
    }
  });

  it("POST /auth/login/: two Durable Object calls at once, one level", async () => {
    const user = await register();
    const { status, summary, trace } = await tracedRequest(
      request("POST", "/auth/login/", {
        body: { email: user.email, password: PASSWORD },
        headers: json,
      }),
    );
    expect(status).toBe(200);
    const levels = trace.calls
      .filter((c) => c.kind === "do" && c.what === "hitAll")
      .map((c) => c.level);
    expect(levels).toHaveLength(2);
    expect(new Set(levels).size, trace.list().join("\n")).toBe(1);
    // Then one more: the account's instance clears this network's count and refunds the ceiling.
    expect(summary.do).toBe(3);
  });

  it("POST /auth/password-reset/: the network and email counts at once", async () => {
    const { status, trace } = await tracedRequest(
      request("POST", "/auth/password-reset/", { body: { email: uniqueEmail() }, headers: json }),
    );
    expect(status).toBe(202);
    const levels = trace.calls.filter((c) => c.kind === "do").map((c) => c.level);
    expect(levels).toHaveLength(2);
    expect(new Set(levels).size, trace.list().join("\n")).toBe(1);
  });

  it("no GET route calls a Durable Object", async () => {
    const user = await register();
    const doc = JSON.parse(
      (await tracedRequest(new Request("http://localhost/openapi.json"))).text,
    ) as {
      paths: Record<string, Record<string, unknown>>;
    };
    let checked = 0;
    for (const [path, item] of Object.entries(doc.paths)) {
      if (!item.get || path.includes("/health")) continue;
      const url = `http://localhost${path.replace("{id}", user.id).replace(/\{[^}]+\}/g, "x")}`;
      const callers: Record<string, string>[] = [
        { Authorization: `Bearer ${user.access_token}` },
        { "X-Service-Key": "dev-service-key" },
      ];
      for (const headers of callers) {
        const { summary, trace } = await tracedRequest(new Request(url, { headers }));
        expect(summary.do, `GET ${path}\n${trace.list().join("\n")}`).toBe(0);
        checked++;
      }
    }
    expect(checked).toBeGreaterThan(20);
  });
});

describe("reads near the reader (D1 Sessions API)", () => {
  it("writes and services start at the primary; users read from their bookmark, or anywhere", async () => {
    const user = await register();
    const token = user.access_token;
    // A session under a minute old reads the primary: its client may not send bookmarks yet.
    const fresh = await tracedRequest(request("GET", "/users/me/", { token }));
    expect(fresh.trace.sessions).toEqual(["first-primary"]);
    vi.useFakeTimers({ toFake: ["Date"] });
    vi.setSystemTime(Date.now() + 61_000);
    const written = await tracedRequest(
      request("PATCH", "/users/preferences/", { token, body: { push: false } }),
    );
    expect(written.trace.sessions).toEqual(["first-primary"]);
    const bookmark = written.headers.get("X-D1-Bookmark") ?? "";
    expect(bookmark).toMatch(/^[0-9a-f]{8}-[0-9a-f]{8}-[0-9a-f]{8}-[0-9a-f]{32}$/);

    // The caller's next read starts from its own write, and sees it.
    const read = await tracedRequest(
      request("GET", "/users/me/", { token, headers: { "X-D1-Bookmark": bookmark } }),
    );
    expect(read.trace.sessions).toEqual([bookmark]);
    expect(JSON.parse(read.text).data.preferences.push).toBe(false);
    expect(read.headers.get("X-D1-Bookmark")).toMatch(/^[0-9a-f-]{59}$/);

    // Without one (or with something that is not one), any replica may answer.
    const anywhere = await tracedRequest(request("GET", "/users/me/", { token }));
    expect(anywhere.trace.sessions).toEqual(["first-unconstrained"]);
    for (const junk of ["garbage", "ffff", `${bookmark}x`, "first-primary"]) {
      const res = await tracedRequest(
        request("GET", "/users/me/", { token, headers: { "X-D1-Bookmark": junk } }),
      );
      expect(res.status).toBe(200);
      expect(res.trace.sessions).toEqual(["first-unconstrained"]);
    }

    // A service reacting to an event has no bookmark: it reads the primary.
    const service = await tracedRequest(
      request("GET", `/users/${user.id}/`, { headers: { "X-Service-Key": "dev-service-key" } }),
    );
    expect(service.trace.sessions).toEqual(["first-primary"]);
    // So do admin routes: a demotion must count at once.
    const admin = await tracedRequest(request("GET", "/admin/users/", { token }));
    expect(admin.trace.sessions).toEqual(["first-primary"]);
    // An anonymous answer carries no bookmark (its movement could tell what it wrote).
    const anonymous = await tracedRequest(
      request("POST", "/auth/password-reset/", { body: { email: user.email } }),
    );
    expect(anonymous.status).toBe(202);
    expect(anonymous.headers.get("X-D1-Bookmark")).toBeNull();
    vi.useRealTimers();
  });
});
