/**
 * Where a webhook may point. In production only `https` URLs to public addresses: a webhook is a
 * request the service makes on an admin's say-so, and must not become a way to reach the
 * operator's own network or metadata endpoints. Locally (ENVIRONMENT=local) anything goes, so a
 * receiver on 127.0.0.1 can be tested.
 *
 * A host name is checked by its form only (a Worker cannot resolve it first); Workers' outbound
 * fetch does not reach private networks, which covers a public name that resolves to one.
 */
import ipaddr from "ipaddr.js";
import type { Config } from "../config";

const LOCAL_NAMES = /(^|\.)(localhost|local|internal|localdomain|home\.arpa)$/i;

/** Why this URL cannot be a webhook endpoint here, or null when it can. */
export function webhookUrlProblem(config: Pick<Config, "environment">, raw: string): string | null {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    return "must be an absolute URL";
  }
  if (url.protocol !== "https:" && url.protocol !== "http:") return "must be an https URL";
  if (url.username || url.password) return "must not carry credentials";
  if (url.hash) return "must not have a fragment";
  if (config.environment === "local") return null;
  if (url.protocol !== "https:") return "must be an https URL";
  const host = url.hostname.replace(/^\[|\]$/g, "");
  if (ipaddr.isValid(host)) {
    const range = ipaddr.process(host).range();
    if (range !== "unicast") return `must not point to a ${range} address`;
    return null;
  }
  if (!host.includes(".") || LOCAL_NAMES.test(host)) return "must be a public host name";
  return null;
}
