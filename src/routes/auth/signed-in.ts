/**
 * The answer of every completed sign-in (password, password + second factor, passkey): the token
 * pair and a login-device proof for this device, also as the `__Host-login-device` cookie.
 */
import type { Context } from "hono";
import { setCookie } from "hono/cookie";
import type { AppEnv } from "../../app-env";
import { DEVICE_PROOF_TTL_SECONDS, type ProofAccount, signDeviceProof } from "../../auth/jwt";
import type { TokenPair } from "../../sessions/token-pair";
import { ok } from "../openapi";

export const DEVICE_COOKIE = "login-device";

export async function respondSignedIn(
  c: Context<AppEnv>,
  done: { pair: TokenPair; account: ProofAccount; deviceId?: string | null },
) {
  // This device is known to this account from now on: its proof renewed, or a first one.
  const proof = await signDeviceProof(c.get("config"), done.account, done.deviceId ?? null);
  setCookie(c, DEVICE_COOKIE, proof, {
    prefix: "host",
    httpOnly: true,
    sameSite: "Strict",
    maxAge: DEVICE_PROOF_TTL_SECONDS,
  });
  return c.json(ok("Login successful", { ...done.pair, device_token: proof }), 200);
}
