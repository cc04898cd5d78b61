/**
 * GET /health/ and /api/v1/health/.
 */
import { createExecutionContext, waitOnExecutionContext } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { afterEach, describe, expect, it, vi } from "vitest";
import worker from "../src/dev/local";
import { HEALTH_PROBE_MAX_AGE_MS } from "../src/routes/health/health.handlers";
import { call, callWith, type Envelope, request } from "./helpers/api";

type Health = { status: string; checks: Record<string, string> };

afterEach(() => {
  vi.restoreAllMocks();
});

describe("health", () => {
  for (const path of ["http://localhost/health/", "http://localhost/health", "/health/"]) {
    it(`${path} reports every dependency`, async () => {
      const res = await call<Envelope<Health>>("GET", path);
      expect(res.status).toBe(200);
      expect(res.body).toEqual({
        success: true,
        message: "Service healthy",
        data: {
          status: "ok",
          checks: { database: "ok", kv: "ok", queue: "ok", rate_limiter: "ok" },
        },
      });
    });
  }

  it("answers 503 and names the failing dependency", async () => {
    vi.spyOn(console, "error").mockImplementation(() => {});
    // The queue binding missing from the deployment, as after a bad wrangler.toml edit.
    const res = await callWith<Envelope<Health>>(
      { USER_EVENTS: undefined },
      request("GET", "/health/"),
    );
    expect(res.status).toBe(503);
    expect(res.body).toMatchObject({
      success: false,
      error: "service_unavailable",
      data: {
        status: "unavailable",
        checks: { database: "ok", kv: "ok", queue: "error", rate_limiter: "ok" },
      },
    });
  });

  it("reports a broken database", async () => {
    vi.spyOn(console, "error").mockImplementation(() => {});
    const res = await callWith<Envelope<Health>>({ DB: undefined }, request("GET", "/health/"));
    expect(res.status).toBe(503);
    expect(res.body.data.checks).toMatchObject({ database: "error", kv: "ok" });
  });

  it("reports a missing Durable Object namespace", async () => {
    vi.spyOn(console, "error").mockImplementation(() => {});
    const res = await callWith<Envelope<Health>>(
      { RATE_LIMITER: undefined },
      request("GET", "/health/"),
    );
    expect(res.status).toBe(503);
    expect(res.body.data.checks).toMatchObject({ rate_limiter: "error", database: "ok" });
  });
});

describe("health from the isolate", () => {
  it("answers from the last probe, at most HEALTH_PROBE_MAX_AGE_MS old, and /health/ready probes now", async () => {
    // One set of bindings for every call, as in a deployed isolate.
    const bindings = { ...env } as Env;
    const get = async (path: string) => {
      const ctx = createExecutionContext();
      const res = await worker.fetch(new Request(`http://localhost${path}`), bindings, ctx);
      await waitOnExecutionContext(ctx);
      return res;
    };
    vi.useFakeTimers({ toFake: ["Date"] });
    const first = await get("/health");
    const taken = first.headers.get("X-Health-Checked-At");
    expect(first.status).toBe(200);
    vi.setSystemTime(Date.now() + 1_000);
    expect((await get("/health")).headers.get("X-Health-Checked-At")).toBe(taken);
    // Stale: answered as it was, while a fresh probe runs after the response.
    vi.setSystemTime(Date.now() + HEALTH_PROBE_MAX_AGE_MS);
    expect((await get("/health")).headers.get("X-Health-Checked-At")).toBe(taken);
    expect((await get("/health")).headers.get("X-Health-Checked-At")).not.toBe(taken);
    // The deep check always probes.
    const ready = await get("/health/ready");
    expect(ready.status).toBe(200);
    expect(ready.headers.get("X-Health-Checked-At")).toBe(new Date(Date.now()).toISOString());
    vi.useRealTimers();
  });
});
