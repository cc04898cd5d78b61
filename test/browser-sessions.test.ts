/**
 * Browser sessions (README: Browser sessions): `?session=cookie` puts the tokens in HttpOnly
 * cookies; a request authenticated by cookie must carry the CSRF value (and no foreign Origin);
 * refresh and logout work with the cookies; bearer tokens keep working; CORS gives credentials to
 * COOKIE_ORIGINS only. Each attack is tried and shown to change nothing.
 */
import { describe, expect, it } from "vitest";
import {
  type ApiResponse,
  call,
  callWith,
  type Envelope,
  expectError,
  request,
} from "./helpers/api";
import { PASSWORD, register, sessionsFor, userRow } from "./helpers/users";

interface CookieSession {
  user: { id: string; name: string };
  token_type: string;
  expires_in: number;
  csrf_token: string;
}

/** Set-Cookie lines by cookie name. */
function setCookies(res: ApiResponse): Map<string, string> {
  const lines = new Map<string, string>();
  for (const line of res.headers.getSetCookie()) lines.set(line.slice(0, line.indexOf("=")), line);
  return lines;
}

const cookieValue = (line: string | undefined) =>
  line?.split(";")[0]?.split("=").slice(1).join("=") ?? "";

interface Browser {
  userId: string;
  cookie: string;
  csrf: string;
}

/** Signs in with the password in cookie mode; the cookies as a browser would send them back. */
async function cookieLogin(): Promise<Browser & { res: ApiResponse }> {
  const user = await register();
  const res = await call("POST", "/auth/login/?session=cookie", {
    body: { email: user.email, password: PASSWORD },
  });
  expect(res.status, res.text).toBe(200);
  const cookies = setCookies(res);
  const cookie = ["__Host-access", "__Host-refresh", "__Host-csrf"]
    .map((name) => `${name}=${cookieValue(cookies.get(name))}`)
    .join("; ");
  const data = (res.body as Envelope<CookieSession>).data;
  return { userId: user.id, cookie, csrf: data.csrf_token, res };
}

const patchName = (b: Browser, name: string, headers: Record<string, string> = {}) =>
  call("PATCH", "/users/me/", { body: { name }, headers: { Cookie: b.cookie, ...headers } });

describe("signing in with ?session=cookie", () => {
  it("sets HttpOnly, Secure, SameSite cookies and keeps the tokens out of the body", async () => {
    const { res } = await cookieLogin();
    const data = (res.body as Envelope<Record<string, unknown>>).data;
    expect(data).not.toHaveProperty("access_token");
    expect(data).not.toHaveProperty("refresh_token");
    expect(data).not.toHaveProperty("device_token");
    expect(data.token_type).toBe("cookie");
    const cookies = setCookies(res);
    const access = cookies.get("__Host-access") ?? "";
    const refresh = cookies.get("__Host-refresh") ?? "";
    const csrf = cookies.get("__Host-csrf") ?? "";
    for (const line of [access, refresh, csrf]) {
      expect(line).toMatch(/; Path=\//);
      expect(line).toMatch(/; Secure/);
      expect(line).not.toMatch(/Domain=/i);
    }
    expect(access).toMatch(/; HttpOnly/);
    expect(access).toMatch(/; SameSite=Lax/);
    expect(refresh).toMatch(/; HttpOnly/);
    expect(refresh).toMatch(/; SameSite=Strict/);
    expect(csrf).not.toMatch(/HttpOnly/);
    expect(cookieValue(csrf)).toBe(data.csrf_token);
  });

  it("reads with the cookie alone", async () => {
    const b = await cookieLogin();
    const me = await call("GET", "/users/me/", { headers: { Cookie: b.cookie } });
    expect(me.status, me.text).toBe(200);
    expect((me.body as Envelope<{ id: string }>).data.id).toBe(b.userId);
  });

  it("refuses a cookie sign-in asked for by a page on another origin (login CSRF)", async () => {
    const user = await register();
    const before = (await sessionsFor(user.id)).length;
    const res = await call("POST", "/auth/login/?session=cookie", {
      body: { email: user.email, password: PASSWORD },
      headers: { Origin: "https://evil.example" },
    });
    expectError(res, 403, "csrf_failed");
    expect(setCookies(res).has("__Host-access")).toBe(false);
    expect((await sessionsFor(user.id)).length).toBe(before);
  });

  it("is refused when COOKIE_SESSIONS is off, and a cookie then authenticates nothing", async () => {
    const b = await cookieLogin();
    const off = { COOKIE_SESSIONS: "false" };
    const res = await callWith(
      off,
      request("POST", "/auth/login/?session=cookie", { body: { email: "a@b.co", password: "x" } }),
    );
    expectError(res, 400, "validation_failed");
    const me = await callWith(off, request("GET", "/users/me/", { headers: { Cookie: b.cookie } }));
    expectError(me, 401, "authentication_required");
  });
});

describe("CSRF", () => {
  it("an unsafe request by cookie without the CSRF header is refused and changes nothing", async () => {
    const b = await cookieLogin();
    const before = (await userRow(b.userId))?.name;
    expectError(await patchName(b, "Forged"), 403, "csrf_failed");
    expectError(await patchName(b, "Forged", { "X-CSRF-Token": "guessed" }), 403, "csrf_failed");
    expectError(
      await patchName(b, "Forged", { "X-CSRF-Token": b.csrf, Origin: "https://evil.example" }),
      403,
      "csrf_failed",
    );
    expect((await userRow(b.userId))?.name).toBe(before);
  });

  it("with the CSRF header it goes through", async () => {
    const b = await cookieLogin();
    const res = await patchName(b, "Ada Cookie", { "X-CSRF-Token": b.csrf });
    expect(res.status, res.text).toBe(200);
    expect((await userRow(b.userId))?.name).toBe("Ada Cookie");
  });

  it("a bearer token needs no CSRF value: the Authorization header wins over cookies", async () => {
    const user = await register();
    const res = await call("PATCH", "/users/me/", {
      token: user.access_token,
      body: { name: "Bearer Ada" },
      headers: { Cookie: "__Host-access=junk" },
    });
    expect(res.status, res.text).toBe(200);
  });
});

describe("idempotent writes by cookie", () => {
  it("are scoped to the cookie's user: another user's same key and body replays nothing of theirs", async () => {
    const [a, b] = [await cookieLogin(), await cookieLogin()];
    const key = crypto.randomUUID();
    const send = (who: Browser) =>
      patchName(who, "Same Name", { "X-CSRF-Token": who.csrf, "Idempotency-Key": key });
    const first = await send(a);
    const second = await send(b);
    expect(first.status).toBe(200);
    expect(second.status).toBe(200);
    expect(second.headers.get("Idempotent-Replayed")).toBeNull();
    expect((second.body as Envelope<{ id: string }>).data.id).toBe(b.userId);
  });
});

describe("refresh and logout with cookies", () => {
  it("refreshes with the refresh cookie and the CSRF value, into new cookies", async () => {
    const b = await cookieLogin();
    const refused = await call("POST", "/auth/session/refresh/", { headers: { Cookie: b.cookie } });
    expectError(refused, 403, "csrf_failed");
    const res = await call("POST", "/auth/session/refresh/", {
      headers: { Cookie: b.cookie, "X-CSRF-Token": b.csrf },
    });
    expect(res.status, res.text).toBe(200);
    const data = (res.body as Envelope<Record<string, unknown>>).data;
    expect(data).not.toHaveProperty("refresh_token");
    const cookies = setCookies(res);
    expect(cookieValue(cookies.get("__Host-refresh"))).not.toBe("");
    expect(b.cookie).not.toContain(cookieValue(cookies.get("__Host-refresh")));
    // The old refresh cookie was rotated away: presented again after the grace window, it is
    // refused (test/refresh.test.ts covers reuse); the new cookies work.
    const next = ["__Host-access", "__Host-refresh", "__Host-csrf"]
      .map((name) => `${name}=${cookieValue(cookies.get(name))}`)
      .join("; ");
    expect((await call("GET", "/users/me/", { headers: { Cookie: next } })).status).toBe(200);
  });

  it("logout ends the session and clears the cookies", async () => {
    const b = await cookieLogin();
    expectError(
      await call("POST", "/auth/logout/", { body: {}, headers: { Cookie: b.cookie } }),
      403,
      "csrf_failed",
    );
    const res = await call("POST", "/auth/logout/", {
      body: {},
      headers: { Cookie: b.cookie, "X-CSRF-Token": b.csrf },
    });
    expect(res.status, res.text).toBe(200);
    const cleared = setCookies(res);
    for (const name of ["__Host-access", "__Host-refresh", "__Host-csrf"]) {
      expect(cleared.get(name)).toMatch(/Max-Age=0/);
    }
    expectError(
      await call("GET", "/users/me/", { headers: { Cookie: b.cookie } }),
      401,
      "invalid_token",
    );
  });
});

describe("CORS", () => {
  const vars = {
    CORS_ORIGINS: "https://partner.example,https://app.example",
    COOKIE_ORIGINS: "https://app.example,https://cookies-only.example",
    COOKIE_SESSIONS: "true",
  };
  const preflight = (origin: string) =>
    callWith(
      vars,
      request("OPTIONS", "/users/me/", {
        headers: {
          Origin: origin,
          "Access-Control-Request-Method": "PATCH",
          "Access-Control-Request-Headers": "content-type,x-csrf-token",
        },
      }),
    );

  it("gives credentials to COOKIE_ORIGINS (that CORS_ORIGINS also name) only", async () => {
    const app = await preflight("https://app.example");
    expect(app.headers.get("Access-Control-Allow-Origin")).toBe("https://app.example");
    expect(app.headers.get("Access-Control-Allow-Credentials")).toBe("true");
    expect(app.headers.get("Access-Control-Allow-Headers")?.toLowerCase()).toContain(
      "x-csrf-token",
    );
    const partner = await preflight("https://partner.example");
    expect(partner.headers.get("Access-Control-Allow-Origin")).toBe("https://partner.example");
    expect(partner.headers.get("Access-Control-Allow-Credentials")).toBeNull();
    // Listed for cookies but not for CORS: no cross-origin access at all.
    const unlisted = await preflight("https://cookies-only.example");
    expect(unlisted.headers.get("Access-Control-Allow-Origin")).toBeNull();
    const stranger = await preflight("https://evil.example");
    expect(stranger.headers.get("Access-Control-Allow-Origin")).toBeNull();
    expect(stranger.headers.get("Access-Control-Allow-Credentials")).toBeNull();
  });
});
