import type { RouteHandler } from "@hono/zod-openapi";
import type { AppEnv } from "../../app-env";
import { ApiError } from "../../errors";
import { scope } from "../../middleware/request-context";
import { clear, emailSubject, enforce } from "../../rate-limit/limits";
import { logIn } from "../../sessions/login";
import { rotateRefreshToken } from "../../sessions/refresh";
import { endSessions } from "../../sessions/sessions";
import { tokenPair } from "../../sessions/token-pair";
import { ok } from "../openapi";
import type * as routes from "./auth.routes";

export const login: RouteHandler<typeof routes.login, AppEnv> = async (c) => {
  const credentials = c.req.valid("json");
  // Failed logins are counted per account — per email, whether or not it has an account, so the
  // lock says nothing about which emails exist — and a locked account answers 429 even to the
  // right password until the window passes. The attempt is counted before the password is
  // checked, in one atomic step, so parallel guesses cannot all slip in before the first failure
  // is recorded; the right password clears the count.
  const account = await emailSubject(credentials.email);
  await enforce(c, "login-account", account);
  const pair = await logIn(scope(c), credentials, () => clear(c, "login-account", account));
  return c.json(ok("Login successful", pair), 200);
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

export const logout: RouteHandler<typeof routes.logout, AppEnv> = async (c) => {
  const { all } = c.req.valid("json");
  const { userId, sid } = c.get("auth");
  const revoked = await endSessions(
    scope(c),
    all ? { userId } : { sessionId: sid, userId },
    all ? "logout_all" : "logout",
    { userId, action: "logout", metadata: { session_id: sid, all: all === true } },
    sid,
  );
  return c.json(ok("Logged out", { revoked_sessions: revoked }), 200);
};
