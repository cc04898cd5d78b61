/**
 * GET /health/ and /api/v1/health/.
 */
import { afterEach, describe, expect, it, vi } from "vitest";
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
