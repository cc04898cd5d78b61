/**
 * When the local stand-ins answer: DEV_TOOLS on, outside production, and only for requests
 * addressed to this machine. The last is what keeps them shut even if the local configuration
 * were deployed by mistake: Cloudflare routes a request to a Worker by its public hostname, so no
 * request reaching a deployed Worker is addressed to localhost.
 */
import type { Config } from "../config";

const LOOPBACK_HOSTS = new Set(["localhost", "127.0.0.1", "[::1]"]);

/** The stand-in consumers: a queue has no address to check. */
export function devConsumersOn(config: Config): boolean {
  return config.devTools && config.environment !== "production";
}

export function devToolsOn(config: Config, url: string): boolean {
  return devConsumersOn(config) && LOOPBACK_HOSTS.has(new URL(url).hostname);
}
