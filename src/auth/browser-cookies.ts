/**
 * Browser sessions (README: Browser sessions), for first-party browser apps when COOKIE_SESSIONS
 * is on: the access and refresh tokens travel in cookies a script cannot read, and a request
 * authenticated by cookie must prove it comes from the app.
 *
 * - `__Host-access` (the access token) and `__Host-refresh` (the refresh token): HttpOnly, Secure,
 *   SameSite=Lax (Strict for the refresh token), Path=/, no Domain — they reach this host only.
 * - `__Host-csrf`: a random value a script can read. Unsafe methods authenticated by cookie must
 *   echo it in `X-CSRF-Token` (double submit), and an `Origin`, when sent, must be this service's
 *   or one of COOKIE_ORIGINS. A cross-site page can make the browser send cookies, but can neither
 *   read the value nor set the header without CORS, which only COOKIE_ORIGINS get.
 *
 * Bearer tokens keep working: an Authorization header always wins over the cookies.
 */
import type { Context } from "hono";
import { getCookie, setCookie } from "hono/cookie";
import type { AppEnv } from "../app-env";
import type { Config } from "../config";
import { ApiError } from "../errors";
import { randomToken } from "./tokens";

const ACCESS_COOKIE = "access";
const REFRESH_COOKIE = "refresh";
const CSRF_COOKIE = "csrf";
export const CSRF_HEADER = "X-CSRF-Token";

const SAFE_METHODS = new Set(["GET", "HEAD", "OPTIONS"]);

export const cookiesOn = (c: Context<AppEnv>): boolean => c.get("config").cookies.enabled;

/** The access token from its cookie, when cookie sessions are on. */
export function accessCookie(c: Context<AppEnv>): string | undefined {
  return cookiesOn(c) ? getCookie(c, ACCESS_COOKIE, "host") : undefined;
}

export function refreshCookie(c: Context<AppEnv>): string | undefined {
  return cookiesOn(c) ? getCookie(c, REFRESH_COOKIE, "host") : undefined;
}

/** Whether an `Origin` (when the browser sent one) is this service's or a cookie origin. */
export function originAllowed(c: Context<AppEnv>, config: Config): boolean {
  const origin = c.req.header("Origin");
  if (origin === undefined) return true;
  return origin === new URL(c.req.url).origin || config.cookies.origins.includes(origin);
}

/** Equal strings, compared in time independent of where they differ. */
function sameToken(a: string, b: string): boolean {
  if (a.length !== b.length || a.length === 0) return false;
  let diff = 0;
  for (let i = 0; i < a.length; i++) diff |= a.charCodeAt(i) ^ b.charCodeAt(i);
  return diff === 0;
}

const csrfFailed = () =>
  new ApiError("csrf_failed", "This request needs the X-CSRF-Token header of the session");

/** Refuses an unsafe request authenticated by cookie without the CSRF proof (403 `csrf_failed`). */
export function requireCsrf(c: Context<AppEnv>): void {
  if (SAFE_METHODS.has(c.req.method)) return;
  const expected = getCookie(c, CSRF_COOKIE, "host") ?? "";
  const presented = c.req.header(CSRF_HEADER) ?? "";
  if (!sameToken(expected, presented) || !originAllowed(c, c.get("config"))) throw csrfFailed();
}

/** Sets the session's cookies; answers the CSRF value the app sends back in `X-CSRF-Token`. */
export function setSessionCookies(
  c: Context<AppEnv>,
  tokens: { access_token: string; refresh_token: string; expires_in: number },
): string {
  const config = c.get("config");
  const csrf = randomToken();
  const lasting = { prefix: "host" as const, path: "/", maxAge: config.refreshTokenTtlSeconds };
  setCookie(c, ACCESS_COOKIE, tokens.access_token, {
    prefix: "host",
    path: "/",
    httpOnly: true,
    sameSite: "Lax",
    maxAge: tokens.expires_in,
  });
  setCookie(c, REFRESH_COOKIE, tokens.refresh_token, {
    ...lasting,
    httpOnly: true,
    sameSite: "Strict",
  });
  setCookie(c, CSRF_COOKIE, csrf, { ...lasting, sameSite: "Lax" });
  return csrf;
}

/** Clears them, with the attributes they were set with (some cookie stores insist on it). */
export function clearSessionCookies(c: Context<AppEnv>): void {
  const gone = { prefix: "host" as const, path: "/", maxAge: 0 };
  setCookie(c, ACCESS_COOKIE, "", { ...gone, httpOnly: true, sameSite: "Lax" });
  setCookie(c, REFRESH_COOKIE, "", { ...gone, httpOnly: true, sameSite: "Strict" });
  setCookie(c, CSRF_COOKIE, "", { ...gone, sameSite: "Lax" });
}
