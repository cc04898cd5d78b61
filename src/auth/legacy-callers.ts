/**
 * Callers of the replaced services that send no credential at all (an API gateway, push and email
 * services that trusted their private network). The paths they read stay closed by default — the
 * replaced service handed every user's preferences to anyone — and an operator can open them for
 * listed networks (`LEGACY_CALLER_NETWORKS`, matched against CF-Connecting-IP, never a client's
 * own header) and/or for clients presenting a certificate Cloudflare verified (mTLS,
 * `LEGACY_CALLER_MTLS`). Nothing else opens them.
 */
import type { Context } from "hono";
import ipaddr from "ipaddr.js";
import type { AppEnv } from "../app-env";

/** The name a legacy caller is known by in logs and status rows, or null if it is none. */
export function legacyCaller(c: Context<AppEnv>): string | null {
  const { networks, mtls } = c.get("config").legacyCallers;
  if (mtls) {
    const auth = (c.req.raw.cf as { tlsClientAuth?: { certVerified?: string } } | undefined)
      ?.tlsClientAuth;
    if (auth?.certVerified === "SUCCESS") return "legacy:mtls";
  }
  const ip = c.get("clientIp");
  if (networks.length === 0 || !ip || !ipaddr.isValid(ip)) return null;
  // An IPv4 address written as IPv6 (::ffff:192.0.2.1) is matched as the IPv4 address it is.
  const address = ipaddr.process(ip);
  const network = networks.find(
    ([range, bits]) => range.kind() === address.kind() && address.match(range, bits),
  );
  return network ? `legacy:${network[0].toString()}/${network[1]}` : null;
}
