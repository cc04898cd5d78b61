/**
 * Forging tokens the way an attacker (or a key rotation) would: new key pairs, signing any claims
 * with any key, and base64url JSON for hand-built tokens.
 */
import { env } from "cloudflare:workers";
import { importJWK, SignJWT } from "jose";

const encoder = new TextEncoder();

/** base64url of a value's JSON: a hand-built token's header or payload. */
export const b64 = (value: unknown) =>
  encoder.encode(JSON.stringify(value)).toBase64({ alphabet: "base64url", omitPadding: true });

/** The service's own signing key (the test configuration's JWT_PRIVATE_KEY). */
export const serviceKey = () => JSON.parse(env.JWT_PRIVATE_KEY) as Record<string, unknown>;

/** A fresh ES256 key pair as JWKs; the public half is ready for a JWKS. */
export async function newKeyPair(kid: string) {
  const pair = (await crypto.subtle.generateKey({ name: "ECDSA", namedCurve: "P-256" }, true, [
    "sign",
    "verify",
  ])) as CryptoKeyPair;
  const jwk = (await crypto.subtle.exportKey("jwk", pair.privateKey)) as JsonWebKey;
  return {
    privateJwk: { kty: "EC", crv: "P-256", x: jwk.x, y: jwk.y, d: jwk.d, kid },
    publicJwk: { kty: "EC", crv: "P-256", x: jwk.x, y: jwk.y, kid, alg: "ES256", use: "sig" },
  };
}

/** Signs claims like the service does, with any key. */
export async function sign(
  payload: Record<string, unknown>,
  privateJwk: Record<string, unknown>,
  header: Record<string, unknown> = {},
) {
  const key = await importJWK(privateJwk, "ES256");
  return new SignJWT(payload)
    .setProtectedHeader({ alg: "ES256", kid: privateJwk.kid as string, ...header })
    .sign(key);
}
