import type { RouteHandler } from "@hono/zod-openapi";
import { getCookie } from "hono/cookie";
import type { AppEnv } from "../../app-env";
import {
  accessCookie,
  clearSessionCookies,
  refreshCookie,
  requireCsrf,
  setSessionCookies,
} from "../../auth/browser-cookies";
import { ApiError } from "../../errors";
import { startMfaLogin } from "../../mfa/sign-in";
import { requireStepUp } from "../../mfa/step-up";
import { scope } from "../../middleware/request-context";
import { passwordAttempts } from "../../rate-limit/attempts";
import { logIn } from "../../sessions/login";
import { rotateRefreshToken } from "../../sessions/refresh";
import { endSessions } from "../../sessions/sessions";
import { tokenPair } from "../../sessions/token-pair";
import { ok } from "../openapi";
import type * as routes from "./auth.routes";
import { DEVICE_COOKIE, respondSignedIn } from "./signed-in";

export const login: RouteHandler<typeof routes.login, AppEnv> = async (c) => {
  const { device_token, ...credentials } = c.req.valid("json");
  // Counted per email, whether or not it has an account, so a 429 says nothing about which emails
  // exist; how the counts are aimed is in src/rate-limit/attempts.ts.
  const deviceProof = device_token ?? getCookie(c, DEVICE_COOKIE, "host");
  const attempts = passwordAttempts(c, { deviceProof });
  const outcome = await logIn(scope(c), credentials, attempts);
  if (outcome.mfa) {
    // No tokens (and no renewed device proof) until the second factor: POST /auth/mfa/challenge/.
    const challenge = await startMfaLogin(scope(c), outcome.mfa, attempts.device());
    return c.json(ok("Second factor required", challenge), 200);
  }
  return respondSignedIn(c, { ...outcome, deviceId: attempts.device() });
};

export const refresh: RouteHandler<typeof routes.refresh, AppEnv> = async (c) => {
  const body = c.req.valid("json");
  const presented = body.refresh_token ?? body.refresh;
  if (presented === undefined) throw new ApiError("invalid_token", "Refresh token is required");
  const now = new Date();
  const rotated = await rotateRefreshToken(scope(c), presented, now);
  const pair = await tokenPair(c.get("config"), rotated.user, rotated, now);
  return c.json(ok("Token refreshed", pair), 200);
};

/** A browser session's refresh: its cookie, and the CSRF value proving the app sent it. */
export const refreshBrowserSession: RouteHandler<
  typeof routes.refreshBrowserSession,
  AppEnv
> = async (c) => {
  const presented = refreshCookie(c);
  if (presented === undefined) throw new ApiError("invalid_token", "No browser session to refresh");
  requireCsrf(c);
  const now = new Date();
  const rotated = await rotateRefreshToken(scope(c), presented, now);
  const {
    access_token,
    refresh_token,
    token_type: _,
    ...rest
  } = await tokenPair(c.get("config"), rotated.user, rotated, now);
  const csrf = setSessionCookies(c, { access_token, refresh_token, expires_in: rest.expires_in });
  return c.json(
    ok("Session refreshed", { ...rest, token_type: "cookie" as const, csrf_token: csrf }),
    200,
  );
};

export const logout: RouteHandler<typeof routes.logout, AppEnv> = async (c) => {
  const { all } = c.req.valid("json");
  const { userId, sid } = c.get("auth");
  if (all) await requireStepUp(c.get("db"), c.get("auth"), { recent: true });
  const revoked = await endSessions(
    scope(c),
    all ? { userId } : { sessionId: sid, userId },
    all ? "logout_all" : "logout",
    { userId, action: "logout", metadata: { session_id: sid, all: all === true } },
    sid,
  );
  // A browser session's logout clears its cookies (a bearer logout leaves another's alone).
  if (!c.req.header("Authorization") && accessCookie(c) !== undefined) clearSessionCookies(c);
  return c.json(ok("Logged out", { revoked_sessions: revoked }), 200);
};
