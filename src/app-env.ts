/**
 * Request-scoped types, in one place: the Hono environment that parameterises every router and
 * middleware, who is calling, and the `Scope` that domain functions (src/users/, src/sessions/, …)
 * work in. Types only; it imports nothing from auth, routes or events, so anything may import it.
 */
import type { Config } from "./config";
import type { Db } from "./db/client";
import type { Aal, Role } from "./db/schema";

/**
 * How strongly a session was authenticated: its assurance level, the methods used (RFC 8176 `amr`
 * values where one fits: `pwd`, `otp`; and `recovery_code`, `webauthn`), and when its user last
 * proved who they are.
 */
export interface Assurance {
  aal: Aal;
  amr: string[];
  /** Seconds since the epoch. */
  authTime: number;
}

/** The claims of a verified access token (src/auth/jwt.ts). */
export interface AccessClaims extends Assurance {
  userId: string;
  sid: string;
  email: string;
  role: Role;
  jti: string;
  /** Seconds since the epoch. */
  exp: number;
  iat: number;
}

/** Who is calling: a user (bearer access token) or another service (a service key). */
type Caller =
  | { kind: "user"; userId: string; sid: string; role: Role }
  | { kind: "service"; name: string };

/** Where a request (or queue message) came from, as recorded in audit rows, sessions and events. */
export interface RequestMeta {
  ip: string | null;
  userAgent: string | null;
  correlationId: string;
  /**
   * Ids of the outbox events this request has committed (filled by `commit`, src/events/outbox.ts,
   * after its batch succeeds), published after the response.
   */
  eventIds: string[];
}

/** What a domain function works with: the stores, the settings and the request's origin. */
export interface Scope {
  db: Db;
  kv: KVNamespace;
  config: Config;
  meta: RequestMeta;
}

interface AppVariables {
  /**
   * This request signs in (or refreshes) a browser session: its token pair goes into cookies
   * (src/middleware/browser-sessions.ts).
   */
  cookieSession: boolean;
  /** Parsed once per isolate from the bindings (src/config.ts). */
  config: Config;
  /**
   * The request's drizzle instance over a D1 session (src/db/client.ts `sessionDb`): the primary
   * for writes, a replica as fresh as the caller's bookmark for reads.
   */
  db: Db;
  /** From `X-Correlation-ID` when it is well-formed, else generated; echoed and logged. */
  correlationId: string;
  /** `CF-Connecting-IP`, or null outside Cloudflare's edge (tests, some local tools). */
  clientIp: string | null;
  userAgent: string | null;
  /** Outbox events committed by this request, published after the response. */
  eventIds: string[];
  /**
   * Set by `authenticateUser` (`requireUser`, `requireUserOrService`, and the idempotency
   * middleware when a write carries a bearer token).
   */
  auth: AccessClaims;
  /** Set by `requireService` and `requireUserOrService`. */
  caller: Caller;
  /** On a read behind `requireUserReading`: the route's KV value, read with the deny-list. */
  prefetched: Promise<string | null>;
}

export interface AppEnv {
  Bindings: Env;
  Variables: AppVariables;
}
