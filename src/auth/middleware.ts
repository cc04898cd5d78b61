/**
 * Bearer authentication for user routes: a valid access token (signature, algorithm, issuer,
 * audience, type, expiry) whose session is not on the revocation deny-list. Whether the account is
 * still active is checked by the handlers that load the user anyway, so this adds no D1 query.
 */
import type { Context, Next } from "hono";
import { createMiddleware } from "hono/factory";
import type { AccessClaims, AppEnv } from "../app-env";
import { ApiError, errorResponse, toApiError } from "../errors";
import { isRevokedSessionReading } from "../kv";
import { errorDetail, log } from "../logging";
import { isSessionDenied } from "../sessions/sessions";
import { accessCookie, requireCsrf } from "./browser-cookies";
import { verifyAccessToken } from "./jwt";

const BEARER = /^Bearer[ ]+([A-Za-z0-9._~+/-]+=*)$/i;

function unauthorized(
  code: "authentication_required" | "invalid_token" | "token_expired",
  message: string,
) {
  const challenge =
    code === "authentication_required"
      ? 'Bearer realm="user-service"'
      : `Bearer realm="user-service", error="invalid_token", error_description="${message}"`;
  return new ApiError(code, message, { headers: { "WWW-Authenticate": challenge } });
}

/** The bearer token of the request, or null when there is no Authorization header. */
export function bearerToken(header: string | undefined): string | null {
  if (header === undefined) return null;
  const match = BEARER.exec(header.trim());
  if (!match?.[1])
    throw unauthorized("invalid_token", "Authorization header must be 'Bearer <token>'");
  return match[1];
}

/** The claims of the request's bearer access token (signature, claims, expiry), or the 401. */
async function verifiedClaims(c: Context<AppEnv>): Promise<AccessClaims> {
  let token = bearerToken(c.req.header("Authorization"));
  if (token === null) {
    // A browser session (README: Browser sessions): its unsafe requests must carry the CSRF proof.
    token = accessCookie(c) ?? null;
    if (token !== null) requireCsrf(c);
  }
  if (token === null) {
    throw unauthorized("authentication_required", "Authentication credentials were not provided");
  }
  try {
    return await verifyAccessToken(c.get("config"), token);
  } catch (err) {
    if (err instanceof ApiError && (err.code === "invalid_token" || err.code === "token_expired")) {
      throw unauthorized(err.code, err.message);
    }
    throw err;
  }
}

/** Throws the 401 if the token's session is revoked, or 503 when the deny-list cannot be read. */
async function checkNotRevoked(
  c: Context<AppEnv>,
  claims: AccessClaims,
  isDenied = () => isSessionDenied(c.env.KV, claims.sid),
): Promise<void> {
  let denied: boolean;
  try {
    denied = await isDenied();
  } catch (err) {
    log("error", "deny_list_unavailable", {
      correlation_id: c.get("correlationId"),
      detail: errorDetail(err),
    });
    throw new ApiError("service_unavailable", "Authentication is temporarily unavailable");
  }
  if (denied) throw unauthorized("invalid_token", "Session has been revoked");
}

/**
 * Authenticates the bearer access token of the request, sets `auth`, and returns its claims;
 * throws the 401 (or 503 when the deny-list cannot be read) otherwise.
 */
export async function authenticateUser(c: Context<AppEnv>): Promise<AccessClaims> {
  // Once per request: the idempotency middleware may have authenticated it already.
  const authenticated = c.get("auth");
  if (authenticated) return authenticated;
  const claims = await verifiedClaims(c);
  await checkNotRevoked(c, claims);
  c.set("auth", claims);
  return claims;
}

const READS = new Set(["GET", "HEAD"]);

/**
 * Routes for an authenticated user (a valid access token of a session that is not revoked).
 *
 * On a read the revocation check (a KV read) runs while the handler does: a read changes nothing,
 * so it can start before the check ends, and its answer is only sent once the check has passed —
 * otherwise the answer is replaced by the 401 (or 503). The latency of an authenticated read is
 * then the longer of the two, not their sum. Writes wait for the check before they start.
 */
export const requireUser = userRoute();

/**
 * `requireUser` for a read whose answer is in KV under `key` (the user's cached preferences): the
 * deny-list entry and that key come back from one bulk KV read, and the handler finds the value
 * in `prefetched` (unset on other methods: it reads KV itself there).
 */
export function requireUserReading(key: (claims: AccessClaims) => string) {
  return userRoute(key);
}

function userRoute(alsoRead?: (claims: AccessClaims) => string) {
  return createMiddleware<AppEnv>(async (c, next) => {
    if (!READS.has(c.req.method) || c.get("auth")) {
      await authenticateUser(c);
      return next();
    }
    const claims = await verifiedClaims(c);
    let isDenied: (() => Promise<boolean>) | undefined;
    if (alsoRead) {
      const read = isRevokedSessionReading(c.env.KV, claims.sid, alsoRead(claims));
      const value = read.then((r) => r.value);
      value.catch(() => undefined); // its failure is the deny-list's 503, answered below
      c.set("prefetched", value);
      isDenied = () => read.then((r) => r.revoked);
    }
    await readWhileChecking(c, claims, next, isDenied);
  });
}

async function readWhileChecking(
  c: Context<AppEnv>,
  claims: AccessClaims,
  next: Next,
  isDenied?: () => Promise<boolean>,
) {
  const revocation = checkNotRevoked(c, claims, isDenied).then(
    () => null,
    (err: unknown) => err,
  );
  // What the outer middleware has set so far (CORS, RateLimit): a refusal must carry it too.
  const outer = new Headers(c.res.headers);
  c.set("auth", claims);
  await next();
  const refused = await revocation;
  if (refused) {
    // Drop the read's answer entirely (no header of it may survive), then answer the refusal.
    c.res = undefined;
    const res = errorResponse(toApiError(refused));
    for (const [name, value] of outer) if (!res.headers.has(name)) res.headers.set(name, value);
    c.res = res;
    // Nobody was authenticated after all (the request log must not name the user).
    c.set("auth", undefined as unknown as AccessClaims);
  }
}
