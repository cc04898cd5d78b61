/**
 * POST /auth/logout/ — revocation in D1 and on the KV deny-list.
 */
import { env } from "cloudflare:workers";
import { afterEach, describe, expect, it, vi } from "vitest";
import { kvKeys } from "../src/kv";
import { call, callWith, type Envelope, expectError, request } from "./helpers/api";
import {
  auditFor,
  claims,
  login,
  register,
  sessionsFor,
  type TokenPair,
  userRow,
} from "./helpers/users";

afterEach(() => {
  vi.restoreAllMocks();
});

async function secondSession(email: string, password: string): Promise<TokenPair> {
  const res = await login(email, password);
  expect(res.status).toBe(200);
  return res.body.data;
}

describe("logout", () => {
  it("revokes this session only: its tokens stop working, others keep working", async () => {
    const user = await register();
    const other = await secondSession(user.email, user.password);

    const res = await call<Envelope<{ revoked_sessions: number }>>("POST", "/auth/logout/", {
      token: user.access_token,
    });
    expect(res.status, res.text).toBe(200);
    expect(res.body.data.revoked_sessions).toBe(1);

    expectError(
      await call("GET", "/users/profile/", { token: user.access_token }),
      401,
      "invalid_token",
    );
    expectError(
      await call("POST", "/auth/refresh/", { body: { refresh_token: user.refresh_token } }),
      401,
      "invalid_token",
    );
    expect((await call("GET", "/users/profile/", { token: other.access_token })).status).toBe(200);

    const sid = claims(user.access_token).sid as string;
    expect(await env.KV.get(kvKeys.revokedSession(sid))).not.toBeNull();
    const revoked = (await sessionsFor(user.id)).find((s) => s.id === sid);
    expect(revoked).toMatchObject({ revokedReason: "logout" });
    expect(await auditFor(user.id, "logout")).toHaveLength(1);
  });

  it("with all: true revokes every session of the user", async () => {
    const user = await register();
    const other = await secondSession(user.email, user.password);
    const res = await call<Envelope<{ revoked_sessions: number }>>("POST", "/auth/logout/", {
      token: user.access_token,
      body: { all: true },
    });
    expect(res.body.data.revoked_sessions).toBe(2);
    for (const token of [user.access_token, other.access_token]) {
      expectError(await call("GET", "/users/profile/", { token }), 401, "invalid_token");
    }
    expectError(
      await call("POST", "/auth/refresh/", { body: { refresh_token: other.refresh_token } }),
      401,
      "invalid_token",
    );
  });

  it("does not touch other users' sessions", async () => {
    const user = await register();
    const bystander = await register();
    await call("POST", "/auth/logout/", { token: user.access_token, body: { all: true } });
    expect((await call("GET", "/users/profile/", { token: bystander.access_token })).status).toBe(
      200,
    );
  });

  it("requires a bearer token", async () => {
    expectError(await call("POST", "/auth/logout/"), 401, "authentication_required");
  });

  it("validates the body", async () => {
    const user = await register();
    const res = await call("POST", "/auth/logout/", {
      token: user.access_token,
      body: { all: "yes" },
    });
    expectError(res, 400, "validation_failed");
    expect((res.body as Envelope).details).toEqual({ all: ["Must be a valid boolean."] });
  });

  it("a revoked token cannot log out again", async () => {
    const user = await register();
    await call("POST", "/auth/logout/", { token: user.access_token });
    expectError(
      await call("POST", "/auth/logout/", { token: user.access_token }),
      401,
      "invalid_token",
    );
  });
});

describe("a revoked session's reads", () => {
  // Reads run while the deny-list is consulted; their answer must never reach a revoked session.
  it("get the 401 and nothing of what the read found", async () => {
    const user = await register();
    expect(
      (await call("POST", "/auth/logout/", { token: user.access_token, body: {} })).status,
    ).toBe(200);
    for (const path of [
      "/users/me/",
      "/users/preferences/",
      "/users/push-tokens/",
      "/auth/sessions/",
    ]) {
      const res = await callWith(
        { CORS_ORIGINS: "https://app.example" },
        request("GET", path, {
          token: user.access_token,
          headers: { Origin: "https://app.example" },
        }),
      );
      expectError(res, 401, "invalid_token");
      expect(res.text, path).not.toContain(user.email);
      expect(res.headers.get("WWW-Authenticate"), path).toContain('error="invalid_token"');
      // A browser app must be able to read the refusal (and so send its user to log in).
      expect(res.headers.get("Access-Control-Allow-Origin"), path).toBe("https://app.example");
      expect(res.headers.get("RateLimit-Policy"), path).toContain('"global-ip"');
    }
  });

  it("get 503, not the answer, when the deny-list cannot be read", async () => {
    vi.spyOn(console, "error").mockImplementation(() => {});
    const user = await register();
    for (const [method, path] of [
      ["GET", "/users/me/"],
      ["PATCH", "/users/me/"],
      // Its deny-list entry comes with the cached preferences, in one KV read.
      ["GET", "/users/preferences/"],
    ] as const) {
      const res = await callWith(
        { KV: undefined },
        request(method, path, {
          token: user.access_token,
          body: method === "PATCH" ? { name: "Not written" } : undefined,
        }),
      );
      expectError(res, 503, "service_unavailable");
      expect(res.text, method).not.toContain(user.email);
    }
    expect((await userRow(user.id))?.name).not.toBe("Not written");
  });
});
