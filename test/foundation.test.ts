/**
 * The app foundation: envelope, routing, body handling, headers, logging, configuration.
 */
import { env } from "cloudflare:workers";
import { count } from "drizzle-orm";
import { afterEach, describe, expect, it, vi } from "vitest";
import { users } from "../src/db/schema";
import { BASE, call, callWith, type Envelope, expectError, request } from "./helpers/api";
import { db, PASSWORD, register, uniqueEmail } from "./helpers/users";

afterEach(() => {
  vi.restoreAllMocks();
});

async function userCount() {
  const [row] = await db().select({ n: count() }).from(users);
  return row?.n ?? 0;
}

describe("routing", () => {
  it("answers with and without a trailing slash", async () => {
    const user = await register();
    const withSlash = await call("GET", "/users/profile/", { token: user.access_token });
    const without = await call("GET", "/users/profile", { token: user.access_token });
    expect(withSlash.status).toBe(200);
    expect(without.status).toBe(200);
    expect(without.body).toEqual(withSlash.body);
  });

  it("returns the 404 envelope for an unknown path", async () => {
    const res = await call("GET", "/no-such-thing/");
    expectError(res, 404, "not_found");
  });

  it("returns 405 with Allow for a known path and the wrong method", async () => {
    const res = await call("GET", "/auth/login/");
    expectError(res, 405, "method_not_allowed");
    expect(res.headers.get("Allow")).toBe("POST");
  });
});

describe("request bodies", () => {
  it("rejects malformed JSON with 400 invalid_json and writes nothing", async () => {
    const before = await userCount();
    const res = await call("POST", "/users/", {
      body: '{"email": "a@example.com", "password": ',
      headers: { "Content-Type": "application/json" },
    });
    expectError(res, 400, "invalid_json");
    expect(await userCount()).toBe(before);
  });

  it("rejects a non-JSON body with 415", async () => {
    const res = await call("POST", "/users/", {
      body: `email=${uniqueEmail()}&password=${PASSWORD}`,
      headers: { "Content-Type": "application/x-www-form-urlencoded" },
    });
    expectError(res, 415, "unsupported_media_type");
  });

  it("rejects a JSON body without a JSON content type with 415", async () => {
    const res = await call("POST", "/auth/login/", {
      body: JSON.stringify({ email: uniqueEmail(), password: PASSWORD }),
      headers: { "Content-Type": "text/plain" },
    });
    expectError(res, 415, "unsupported_media_type");
  });

  it("rejects a body over 64 KiB with 413 and writes nothing", async () => {
    const before = await userCount();
    const res = await call("POST", "/users/", {
      body: { email: uniqueEmail(), password: PASSWORD, name: "x".repeat(70 * 1024) },
    });
    expectError(res, 413, "payload_too_large");
    expect(await userCount()).toBe(before);
  });

  it("rejects an oversized chunked body whose length is not declared", async () => {
    const chunk = new TextEncoder().encode("x".repeat(16 * 1024));
    const stream = new ReadableStream<Uint8Array>({
      start(controller) {
        for (let i = 0; i < 6; i++) controller.enqueue(chunk);
        controller.close();
      },
    });
    const res = await callWith(
      {},
      new Request(`${BASE}/auth/login/`, {
        method: "POST",
        headers: { "Content-Type": "application/json" },
        body: stream,
      }),
    );
    expectError(res, 413, "payload_too_large");
  });

  it("treats an empty body as an empty object and names the required fields", async () => {
    const res = await call("POST", "/auth/login/");
    expectError(res, 400, "validation_failed");
    expect((res.body as Envelope).details).toEqual({
      email: ["This field is required."],
      password: ["This field is required."],
    });
  });

  it("rejects a JSON array where an object is expected", async () => {
    const res = await call("POST", "/auth/login/", { body: [1, 2] });
    expectError(res, 400, "validation_failed");
  });
});

describe("headers", () => {
  it("echoes a well-formed X-Correlation-ID and generates one otherwise", async () => {
    const echoed = await call("GET", "/health/", {
      headers: { "X-Correlation-ID": "req-123.abc" },
    });
    expect(echoed.headers.get("X-Correlation-ID")).toBe("req-123.abc");

    const generated = await call("GET", "/health/");
    expect(generated.headers.get("X-Correlation-ID")).toMatch(/^[0-9a-f-]{36}$/);

    const hostile = await call("GET", "/health/", {
      headers: { "X-Correlation-ID": "<script>alert(1)</script>" },
    });
    expect(hostile.headers.get("X-Correlation-ID")).toMatch(/^[0-9a-f-]{36}$/);
  });

  it("sets secure headers and no-store on every response, errors included", async () => {
    for (const res of [await call("GET", "/health/"), await call("GET", "/nope/")]) {
      expect(res.headers.get("X-Content-Type-Options")).toBe("nosniff");
      expect(res.headers.get("X-Frame-Options")).toBe("DENY");
      expect(res.headers.get("Content-Security-Policy")).toBe(
        "default-src 'none'; frame-ancestors 'none'",
      );
      expect(res.headers.get("Strict-Transport-Security")).toBe(
        "max-age=31536000; includeSubDomains",
      );
      expect(res.headers.get("Cache-Control")).toBe("no-store");
      expect(res.headers.get("X-Correlation-ID")).toBeTruthy();
    }
  });

  it("allows CORS only for configured origins", async () => {
    const preflight = (origin: string) =>
      call("OPTIONS", "/auth/login/", {
        headers: { Origin: origin, "Access-Control-Request-Method": "POST" },
      });
    const allowed = await preflight("http://localhost:3000");
    expect(allowed.headers.get("Access-Control-Allow-Origin")).toBe("http://localhost:3000");
    expect(allowed.headers.get("Access-Control-Allow-Headers")).toContain("Authorization");

    const denied = await preflight("https://evil.example");
    expect(denied.headers.get("Access-Control-Allow-Origin")).toBeNull();
  });
});

describe("logging", () => {
  it("writes one JSON line per request without secrets", async () => {
    const lines: string[] = [];
    vi.spyOn(console, "log").mockImplementation((line: string) => {
      lines.push(line);
    });
    const email = uniqueEmail();
    const res = await call("POST", "/users/", {
      body: { email, password: PASSWORD },
      headers: { "X-Correlation-ID": "log-test-1" },
    });
    expect(res.status).toBe(201);
    const entries = lines.map((l) => JSON.parse(l) as Record<string, unknown>);
    const requestLines = entries.filter((e) => e.msg === "request");
    expect(requestLines).toHaveLength(1);
    expect(requestLines[0]).toMatchObject({
      level: "info",
      method: "POST",
      path: "/api/v1/users/",
      status: 201,
      correlation_id: "log-test-1",
    });
    expect(typeof requestLines[0]?.duration_ms).toBe("number");
    const everything = lines.join("\n");
    expect(everything).not.toContain(PASSWORD);
    const data = (res.body as Envelope<{ access_token: string; refresh_token: string }>).data;
    expect(everything).not.toContain(data.access_token);
    expect(everything).not.toContain(data.refresh_token);
  });

  it("logs the authenticated user's id", async () => {
    const user = await register();
    const lines: string[] = [];
    vi.spyOn(console, "log").mockImplementation((line: string) => {
      lines.push(line);
    });
    await call("GET", "/users/profile/", { token: user.access_token });
    const entry = lines.map((l) => JSON.parse(l)).find((e) => e.msg === "request");
    expect(entry.user_id).toBe(user.id);
  });
});

describe("configuration", () => {
  it("answers /health with 503 misconfigured (a probe's 'not ready'), naming nothing", async () => {
    vi.spyOn(console, "error").mockImplementation(() => {});
    for (const path of ["http://localhost/health", "/health/"]) {
      const res = await callWith({ JWT_PRIVATE_KEY: "not-json" }, request("GET", path));
      expect(res.status, res.text).toBe(503);
      expect(res.body).toEqual({
        success: false,
        message: "The service is misconfigured",
        error: "misconfigured",
        data: { status: "misconfigured", checks: null },
      });
    }
  });

  it("answers 500 misconfigured and logs the name of a malformed secret", async () => {
    const errors: string[] = [];
    vi.spyOn(console, "error").mockImplementation((line: string) => {
      errors.push(line);
    });
    const res = await callWith({ JWT_PRIVATE_KEY: "not-json" }, request("GET", "/users/me/"));
    expectError(res, 500, "misconfigured");
    expect(res.text).not.toContain("JWT_PRIVATE_KEY");
    expect(errors.join("\n")).toContain("JWT_PRIVATE_KEY");
  });

  it("refuses a missing secret", async () => {
    vi.spyOn(console, "error").mockImplementation(() => {});
    const res = await callWith({ SERVICE_KEYS: undefined }, request("GET", "/users/me/"));
    expectError(res, 500, "misconfigured");
  });

  it("refuses a public key set that does not contain the signing key", async () => {
    const errors: string[] = [];
    vi.spyOn(console, "error").mockImplementation((line: string) => {
      errors.push(line);
    });
    const other = JSON.parse(env.JWT_PUBLIC_KEYS) as { keys: { x: string }[] };
    const key = other.keys[0];
    if (key) key.x = key.x.split("").reverse().join("");
    const res = await callWith(
      { JWT_PUBLIC_KEYS: JSON.stringify(other) },
      request("GET", "/users/me/"),
    );
    expectError(res, 500, "misconfigured");
    expect(errors.join("\n")).toContain("JWT_PUBLIC_KEYS");
  });

  it("refuses a public key set that carries a private key", async () => {
    vi.spyOn(console, "error").mockImplementation(() => {});
    const privateKey = JSON.parse(env.JWT_PRIVATE_KEY) as Record<string, unknown>;
    const res = await callWith(
      { JWT_PUBLIC_KEYS: JSON.stringify({ keys: [privateKey] }) },
      request("GET", "/users/me/"),
    );
    expectError(res, 500, "misconfigured");
  });

  it("refuses an out-of-range lifetime", async () => {
    vi.spyOn(console, "error").mockImplementation(() => {});
    const res = await callWith(
      { ACCESS_TOKEN_LIFETIME_MINUTES: "0" },
      request("GET", "/users/me/"),
    );
    expectError(res, 500, "misconfigured");
  });
});

describe("internal errors", () => {
  it("answers a bare 500 envelope without SQL, stack or messages", async () => {
    const logged: string[] = [];
    vi.spyOn(console, "error").mockImplementation((line: string) => {
      logged.push(line);
    });
    const email = uniqueEmail("logged");
    // A real D1 database that has no tables: the login query fails inside D1.
    const res = await callWith(
      { DB: env.EMPTY_DB },
      request("POST", "/auth/login/", {
        body: { email, password: PASSWORD },
        headers: { "X-Correlation-ID": "fail-1" },
      }),
    );
    expectError(res, 500, "internal_error");
    expect(res.text).not.toMatch(/select|sqlite|no such table|users|stack|at /i);
    // The log names the failure and the request, but not the query's parameters.
    const entry = logged.map((l) => JSON.parse(l)).find((e) => e.msg === "request_failed");
    expect(entry).toMatchObject({ correlation_id: "fail-1", error: "internal_error" });
    expect(entry.detail).toContain("no such table");
    expect(logged.join("\n")).not.toContain(email);
    expect(logged.join("\n")).not.toMatch(/params:/i);
  });
});
