/**
 * When the local stand-ins answer: DEV_TOOLS on, outside production, and only for requests
 * addressed to this machine. The last keeps them shut to the internet even if the local
 * configuration were deployed by mistake: Cloudflare routes a request from outside to a Worker by
 * its public hostname, never localhost. It is a second lock, not the first: a Worker of the same
 * account calling through a service binding, or a LAN client of `wrangler dev --ip 0.0.0.0`, can
 * still name localhost. The first lock is that the deployed entry (src/index.ts) has none of this.
 */
import { createMiddleware } from "hono/factory";
import type { AppEnv } from "../app-env";
import type { Config } from "../config";
import { ApiError } from "../errors";

const LOOPBACK_HOSTS = new Set(["localhost", "127.0.0.1", "[::1]"]);

/** The stand-in consumers: a queue has no address to check. */
export function devConsumersOn(config: Config): boolean {
  return config.devTools && config.environment !== "production";
}

export function devToolsOn(config: Config, url: string): boolean {
  return devConsumersOn(config) && LOOPBACK_HOSTS.has(new URL(url).hostname);
}

/** Route middleware of every stand-in: a plain 404 unless the dev tools answer this request. */
export const devToolsOnly = createMiddleware<AppEnv>(async (c, next) => {
  if (!devToolsOn(c.get("config"), c.req.url)) throw new ApiError("not_found", "Not found");
  await next();
});
