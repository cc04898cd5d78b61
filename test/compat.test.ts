/**
 * The replaced services' paths (DESIGN §3 "Seed compatibility"): each reaches the canonical
 * handler, accepts the old field names, and answers with `Deprecation` and a `Link` to the
 * canonical path.
 */
import { describe, expect, it } from "vitest";
import { DEPRECATED_SINCE } from "../src/routes/compat/compat.index";
import {
  type ApiResponse,
  call,
  callWith,
  type Envelope,
  expectError,
  globalCeiling,
  request,
} from "./helpers/api";
import {
  login,
  makeAdmin,
  PASSWORD,
  register,
  sessionsFor,
  type TokenPair,
  uniqueEmail,
  userRow,
} from "./helpers/users";

const ROOT = "http://localhost";

function expectDeprecated(res: ApiResponse, canonical: string) {
  expect(res.headers.get("Deprecation")).toBe(DEPRECATED_SINCE);
  expect(res.headers.get("Link")).toBe(`<${canonical}>; rel="successor-version"`);
}

const send = <T = Envelope>(
  method: string,
  path: string,
  options: {
    body?: Record<string, unknown>;
    token?: string;
    headers?: Record<string, string>;
  } = {},
) => call<T>(method, `${ROOT}${path}`, options);

describe("registration", () => {
  it.each([
    ["/api/users/register/", "password2"],
    ["/api/auth/register/", "password_confirm"],
    ["/api/users/", "password2"],
    ["/api/v1/users/register/", "password2"],
  ])("POST %s registers, accepting %s", async (path, confirmation) => {
    const email = uniqueEmail();
    const res = await send<Envelope<TokenPair>>("POST", path, {
      body: { email, password: PASSWORD, [confirmation]: PASSWORD },
    });
    expect(res.status, res.text).toBe(201);
    expect(res.body.data.user.email).toBe(email);
    expect(res.body.data.access_token).toBeTruthy();
    expectDeprecated(res, "/api/v1/users/");
  });

  it("checks the confirmation when one is sent, and writes nothing when it differs", async () => {
    const email = uniqueEmail();
    const res = await send("POST", "/api/users/register/", {
      body: { email, password: PASSWORD, password2: "another-Pass-99" },
    });
    expectError(res, 400, "validation_failed");
    expect(Object.keys((res.body as Envelope).details ?? {})).toEqual(["password2"]);
    expectDeprecated(res, "/api/v1/users/");
    expect((await login(email)).status).toBe(401);
  });
});

describe("sessions", () => {
  it.each(["/api/auth/login/", "/api/v1/users/login/"])("POST %s logs in", async (path) => {
    const user = await register();
    const res = await send<Envelope<TokenPair>>("POST", path, {
      body: { email: user.email, password: PASSWORD },
    });
    expect(res.status, res.text).toBe(200);
    expect(res.body.data.refresh_token).toBeTruthy();
    expectDeprecated(res, "/api/v1/auth/login/");
  });

  it.each(["/api/auth/refresh/", "/api/v1/users/token/refresh/"])(
    "POST %s rotates a refresh token sent as `refresh`",
    async (path) => {
      const user = await register();
      const res = await send<Envelope<TokenPair>>("POST", path, {
        body: { refresh: user.refresh_token },
      });
      expect(res.status, res.text).toBe(200);
      expect(res.body.data.refresh_token).not.toBe(user.refresh_token);
      expectDeprecated(res, "/api/v1/auth/refresh/");
    },
  );

  it.each(["/api/auth/logout/", "/api/v1/users/logout/"])(
    "POST %s ends the session",
    async (path) => {
      const user = await register();
      const res = await send("POST", path, {
        token: user.access_token,
        body: { refresh: user.refresh_token },
      });
      expect(res.status, res.text).toBe(200);
      expectDeprecated(res, "/api/v1/auth/logout/");
      expect((await sessionsFor(user.id)).every((s) => s.revokedAt !== null)).toBe(true);
      expectError(
        await send("GET", "/api/users/me/", { token: user.access_token }),
        401,
        "invalid_token",
      );
    },
  );
});

describe("the caller's profile and password", () => {
  it("GET, PUT, PATCH and DELETE /api/users/me/ are the profile", async () => {
    const user = await register();
    const token = user.access_token;
    const got = await send<Envelope<{ id: string }>>("GET", "/api/users/me/", { token });
    expect(got.status).toBe(200);
    expect(got.body.data.id).toBe(user.id);
    expectDeprecated(got, "/api/v1/users/profile/");

    const put = await send<Envelope<{ name: string }>>("PUT", "/api/users/me/", {
      token,
      body: { email: user.email, name: "Ada Lovelace" },
    });
    expect(put.status, put.text).toBe(200);
    expect(put.body.data.name).toBe("Ada Lovelace");

    const patched = await send<Envelope<{ name: string }>>("PATCH", "/api/users/me/", {
      token,
      body: { name: "Ada King" },
    });
    expect(patched.body.data.name).toBe("Ada King");
    expectDeprecated(patched, "/api/v1/users/profile/");

    const deleted = await send("DELETE", "/api/users/me/", { token });
    expect(deleted.status).toBe(200);
    expect((await userRow(user.id))?.isActive).toBe(false);
  });

  it.each(["POST", "PUT"])("%s /api/users/me/password/ changes the password", async (method) => {
    const user = await register();
    const res = await send(method, "/api/users/me/password/", {
      token: user.access_token,
      body: { old_password: PASSWORD, new_password: "amber-Compass-88" },
    });
    expect(res.status, res.text).toBe(200);
    expectDeprecated(res, "/api/v1/users/change-password/");
    expect((await login(user.email, "amber-Compass-88")).status).toBe(200);
  });

  it("errors carry the deprecation too", async () => {
    const res = await send("GET", "/api/users/me/");
    expectError(res, 401, "authentication_required");
    expectDeprecated(res, "/api/v1/users/profile/");
  });

  it("so do answers given before routing: 415, 429 and idempotent replays", async () => {
    const notJson = await call("POST", `${ROOT}/api/auth/login/`, {
      body: "email=a@example.com",
      headers: { "Content-Type": "application/x-www-form-urlencoded" },
    });
    expectError(notJson, 415, "unsupported_media_type");
    expectDeprecated(notJson, "/api/v1/auth/login/");

    const ip = { "CF-Connecting-IP": "198.18.0.7" };
    const limits = globalCeiling(1);
    await callWith(limits, request("GET", `${ROOT}/healthz`, { headers: ip }));
    const limited = await callWith(limits, request("GET", `${ROOT}/healthz`, { headers: ip }));
    expectError(limited, 429, "rate_limited");
    expectDeprecated(limited, "/health/");

    const user = await register();
    const key = { "Idempotency-Key": `login-${user.id}` };
    const first = await send("POST", "/api/auth/login/", {
      body: { email: user.email, password: PASSWORD },
      headers: key,
    });
    const again = await send("POST", "/api/auth/login/", {
      body: { email: user.email, password: PASSWORD },
      headers: key,
    });
    expect(first.status).toBe(200);
    expect(again.headers.get("Idempotent-Replayed")).toBe("true");
    expectDeprecated(again, "/api/v1/auth/login/");
  });
});

describe("users, for admins and services", () => {
  it("GET /api/users/ lists users for an admin; PATCH /api/users/{id}/ changes one", async () => {
    const admin = await register();
    await makeAdmin(admin);
    const { body } = await login(admin.email);
    const token = body.data.access_token;
    const list = await send<Envelope<unknown[]>>("GET", "/api/users/", { token });
    expect(list.status, list.text).toBe(200);
    expect(list.body.data.length).toBeGreaterThan(0);
    expectDeprecated(list, "/api/v1/users/");

    const target = await register();
    const changed = await send("PATCH", `/api/users/${target.id}/`, {
      token,
      body: { is_active: false },
    });
    expect(changed.status, changed.text).toBe(200);
    expectDeprecated(changed, `/api/v1/users/${target.id}/`);
    expect((await userRow(target.id))?.isActive).toBe(false);
  });

  it("GET /api/users/{id}/ is one user, for the user themself; others get 403", async () => {
    const user = await register();
    const own = await send<Envelope<{ id: string }>>("GET", `/api/users/${user.id}/`, {
      token: user.access_token,
    });
    expect(own.status, own.text).toBe(200);
    expect(own.body.data.id).toBe(user.id);
    expectDeprecated(own, `/api/v1/users/${user.id}/`);
    const other = await register();
    expectError(
      await send("GET", `/api/users/${user.id}/`, { token: other.access_token }),
      403,
      "forbidden",
    );
  });
});

describe("health", () => {
  it.each([
    ["/api/health/", "/api/v1/health/"],
    ["/healthz", "/health/"],
  ])("GET %s is the health check", async (path, canonical) => {
    const res = await send<Envelope<{ status: string }>>("GET", path);
    expect(res.status).toBe(200);
    expect(res.body.data.status).toBe("ok");
    expectDeprecated(res, canonical);
  });
});

describe("canonical paths", () => {
  it("carry no deprecation", async () => {
    const res = await send("GET", "/api/v1/health/");
    expect(res.headers.get("Deprecation")).toBeNull();
    expect(res.headers.get("Link")).toBeNull();
  });
});
