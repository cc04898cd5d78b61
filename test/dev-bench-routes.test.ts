/**
 * The local-only routes `npm run bench` measures against: a baseline that does no work, a read's
 * round trips alone, one Argon2id hash with the configured parameters, and that hash inside login's
 * round trips. They exist only with DEV_TOOLS on.
 */
import { env } from "cloudflare:workers";
import { afterEach, describe, expect, it, vi } from "vitest";
import { createApp } from "../src/app";
import { argon2id } from "../src/auth/passwords";
import { devTools } from "../src/routes/dev/dev.index";
import { call, callWith, expectError, request } from "./helpers/api";
import { PASSWORD } from "./helpers/users";

const off = { DEV_TOOLS: "false" };

afterEach(() => {
  vi.restoreAllMocks();
});

describe("benchmark baseline GET /_dev/noop (DEV_TOOLS)", () => {
  it("answers 204 with an empty body and hashes nothing", async () => {
    const hash = vi.spyOn(argon2id, "hash");
    const res = await call("GET", "http://localhost/_dev/noop");
    expect(res.status, res.text).toBe(204);
    expect(res.text).toBe("");
    expect(hash).not.toHaveBeenCalled();
  });

  it("does not exist when DEV_TOOLS is off", async () => {
    expectError(await callWith(off, new Request("http://localhost/_dev/noop")), 404, "not_found");
  });
});

describe("benchmark I/O twin GET /_dev/io (DEV_TOOLS)", () => {
  it("answers 204 after its reads, and validates how many", async () => {
    for (const query of ["", "?kv=1", "?kv=2&d1=1", "?kv=2&hits=1", "?kv=1&hits=1", "?d1=3"]) {
      const res = await call("GET", `http://localhost/_dev/io${query}`);
      expect(res.status, `${query} ${res.text}`).toBe(204);
    }
    for (const query of ["?kv=9", "?d1=-1", "?kv=one", "?kv=1&hits=2"]) {
      expectError(await call("GET", `http://localhost/_dev/io${query}`), 400, "validation_failed");
    }
  });

  it("does not exist when DEV_TOOLS is off", async () => {
    expectError(
      await callWith(off, new Request("http://localhost/_dev/io?kv=1")),
      404,
      "not_found",
    );
  });
});

describe("benchmark hash POST /_dev/hash (DEV_TOOLS)", () => {
  it("hashes the posted password once with the configured parameters and answers 204 without the hash", async () => {
    const hash = vi.spyOn(argon2id, "hash");
    const res = await call("POST", "http://localhost/_dev/hash", { body: { password: PASSWORD } });
    expect(res.status, res.text).toBe(204);
    expect(res.text).toBe("");
    expect(hash).toHaveBeenCalledTimes(1);
    expect(hash).toHaveBeenCalledWith(PASSWORD, {
      memoryKib: Number(env.PASSWORD_HASH_MEMORY_KIB),
      iterations: Number(env.PASSWORD_HASH_ITERATIONS),
      parallelism: Number(env.PASSWORD_HASH_PARALLELISM),
    });
  });

  it("validates the body", async () => {
    expectError(
      await call("POST", "http://localhost/_dev/hash", { body: {} }),
      400,
      "validation_failed",
    );
    expectError(
      await call("POST", "http://localhost/_dev/hash", { body: { password: "x".repeat(129) } }),
      400,
      "validation_failed",
    );
  });

  it("does not exist when DEV_TOOLS is off", async () => {
    const res = await callWith(
      off,
      request("POST", "http://localhost/_dev/hash", { body: { password: PASSWORD } }),
    );
    expectError(res, 404, "not_found");
  });
});

describe("benchmark login twin POST /_dev/login-io (DEV_TOOLS)", () => {
  const body = { email: "twin@example.com", password: PASSWORD };

  it("hashes the password once, answers 204, and opens no session", async () => {
    const sessions = async () =>
      (await env.DB.prepare("SELECT count(*) AS n FROM sessions").first<{ n: number }>())?.n;
    const before = await sessions();
    const hash = vi.spyOn(argon2id, "hash");
    const res = await call("POST", "http://localhost/_dev/login-io", { body });
    expect(res.status, res.text).toBe(204);
    expect(res.text).toBe("");
    expect(hash).toHaveBeenCalledTimes(1);
    expect(await sessions()).toBe(before);
  });

  it("validates the body", async () => {
    for (const bad of [{}, { email: "twin@example.com" }, { ...body, email: "not an email" }]) {
      expectError(
        await call("POST", "http://localhost/_dev/login-io", { body: bad }),
        400,
        "validation_failed",
      );
    }
  });

  it("does not exist when DEV_TOOLS is off", async () => {
    const res = await callWith(off, request("POST", "http://localhost/_dev/login-io", { body }));
    expectError(res, 404, "not_found");
  });
});

describe("the OpenAPI document", () => {
  it("documents the routes", () => {
    const doc = createApp(devTools).getOpenAPI31Document({
      openapi: "3.1.0",
      info: { title: "user-service", version: "test" },
    });
    expect(Object.keys(doc.paths?.["/_dev/noop"] ?? {})).toContain("get");
    expect(Object.keys(doc.paths?.["/_dev/hash"] ?? {})).toContain("post");
    expect(Object.keys(doc.paths?.["/_dev/login-io"] ?? {})).toContain("post");
  });
});
