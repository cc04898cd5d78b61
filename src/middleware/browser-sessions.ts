/**
 * Cookie mode (README: Browser sessions). A sign-in asked for with `?session=cookie` (or a refresh
 * made with the refresh cookie) answers as usual in the handler; here its token pair moves into
 * HttpOnly cookies and out of the body, which carries the CSRF value instead. The handlers stay the
 * same for both modes.
 *
 * Asking for cookies is refused from a page on another origin: a cross-site form could otherwise
 * sign the victim's browser in to the attacker's account (login CSRF).
 */
import { createMiddleware } from "hono/factory";
import type { AppEnv } from "../app-env";
import { cookiesOn, originAllowed, setSessionCookies } from "../auth/browser-cookies";
import { ApiError, fieldError } from "../errors";

interface SignedInBody {
  data: { access_token: string; refresh_token: string; expires_in: number } & Record<
    string,
    unknown
  >;
}

function isSignedIn(body: unknown): body is SignedInBody {
  if (typeof body !== "object" || body === null) return false;
  const data = (body as { data?: unknown }).data;
  if (typeof data !== "object" || data === null) return false;
  const d = data as Record<string, unknown>;
  return (
    typeof d.access_token === "string" &&
    typeof d.refresh_token === "string" &&
    typeof d.expires_in === "number"
  );
}

export const browserSessions = createMiddleware<AppEnv>(async (c, next) => {
  if (c.req.query("session") === "cookie") {
    if (!cookiesOn(c)) throw fieldError("session", "Cookie sessions are off on this service.");
    if (!originAllowed(c, c.get("config"))) {
      throw new ApiError("csrf_failed", "Cookie sessions are only for this service's own apps");
    }
    c.set("cookieSession", true);
  }
  await next();
  if (!c.get("cookieSession") || (c.res.status !== 200 && c.res.status !== 201)) return;
  if (!c.res.headers.get("Content-Type")?.startsWith("application/json")) return;
  const body: unknown = await c.res.clone().json();
  if (!isSignedIn(body)) return;
  const { access_token, refresh_token, token_type: _, device_token: __, ...rest } = body.data;
  const status = c.res.status;
  c.res = new Response(null, { status });
  const csrf = setSessionCookies(c, { access_token, refresh_token, expires_in: rest.expires_in });
  c.res = c.json({ ...body, data: { ...rest, token_type: "cookie", csrf_token: csrf } }, status);
  c.res.headers.delete("Content-Length");
});
