/**
 * The RateLimiter Durable Object: one instance per rate-limit key, with exact counts kept in its
 * SQLite storage (DESIGN §7). It exposes RPC methods only, no inner router.
 */
import { DurableObject } from "cloudflare:workers";

export class RateLimiter extends DurableObject<Env> {
  /** Liveness probe used by /health: proves the namespace is bound and an instance answers. */
  async ping(): Promise<"pong"> {
    return "pong";
  }
}
