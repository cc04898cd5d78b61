/**
 * ES256 signing keys as the service expects them: a private JWK with a `kid` (JWT_PRIVATE_KEY) and
 * the JWKS of public keys (JWT_PUBLIC_KEYS). Used for local dev keys, the tests, and production
 * key generation (`npm run keys:generate`).
 */
import { webcrypto } from "node:crypto";

export interface SigningKeys {
  privateJwk: string;
  publicJwks: string;
}

export async function generateSigningKeys(kid: string): Promise<SigningKeys> {
  const pair = await webcrypto.subtle.generateKey({ name: "ECDSA", namedCurve: "P-256" }, true, [
    "sign",
    "verify",
  ]);
  const { kty, crv, x, y, d } = await webcrypto.subtle.exportKey("jwk", pair.privateKey);
  const publicJwk = { kty, crv, x, y, kid, alg: "ES256", use: "sig" };
  return {
    privateJwk: JSON.stringify({ ...publicJwk, d }),
    publicJwks: JSON.stringify({ keys: [publicJwk] }),
  };
}
