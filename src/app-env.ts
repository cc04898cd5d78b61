/**
 * The one environment type that parameterises every router and middleware.
 */
import type { Caller } from "./auth/callers";
import type { AccessClaims } from "./auth/jwt";
import type { Config } from "./config";

export interface AppVariables {
  /** Parsed once per isolate from the bindings (src/config.ts). */
  config: Config;
  /** From `X-Correlation-ID` when it is well-formed, else generated; echoed and logged. */
  correlationId: string;
  /** `CF-Connecting-IP`, or null outside Cloudflare's edge (tests, some local tools). */
  clientIp: string | null;
  userAgent: string | null;
  /** Outbox events written by this request, published after the response. */
  eventIds: string[];
  /**
   * Set by `authenticateUser` (`requireUser`, `requireUserOrService`, and the idempotency
   * middleware when a write carries a bearer token).
   */
  auth: AccessClaims;
  /** Set by `requireService` and `requireUserOrService`. */
  caller: Caller;
}

export interface AppEnv {
  Bindings: Env;
  Variables: AppVariables;
}
