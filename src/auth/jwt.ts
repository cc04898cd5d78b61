/**
 * Access tokens: ES256 JWTs with a `kid`, verified against the configured public keys (several may
 * be listed, so keys can rotate). Verification pins the algorithm, issuer, audience and token type.
 * Keys are imported once per isolate.
 */
import {
  type CryptoKey,
  createLocalJWKSet,
  errors,
  importJWK,
  type JWTVerifyGetKey,
  jwtVerify,
  SignJWT,
} from "jose";
import type { AccessClaims, Assurance } from "../app-env";
import type { Config } from "../config";
import type { Role } from "../db/schema";
import { ApiError } from "../errors";
import { errorDetail, log } from "../logging";
import { sha256Hex } from "./tokens";

const ALGORITHM = "ES256";
/** How far ahead of our clock a token's `iat` may be: clocks of signers and verifiers drift. */
export const CLOCK_SKEW_SECONDS = 30;

interface KeyMaterial {
  signingKey: CryptoKey;
  keySet: JWTVerifyGetKey;
}

const keyCache = new WeakMap<Config["jwt"], Promise<KeyMaterial>>();

function keys(jwt: Config["jwt"]): Promise<KeyMaterial> {
  let material = keyCache.get(jwt);
  if (!material) {
    material = (async () => {
      try {
        return {
          signingKey: (await importJWK(jwt.signingKey, ALGORITHM)) as CryptoKey,
          keySet: createLocalJWKSet({ keys: jwt.publicKeys }),
        };
      } catch (err) {
        // Well-formed JSON, unusable key material: the configuration's fault, named in the log.
        log("error", "misconfigured", {
          settings: ["JWT_PRIVATE_KEY is not a usable EC P-256 private key"],
          detail: errorDetail(err),
        });
        throw new ApiError("misconfigured", "The service is misconfigured");
      }
    })();
    // A failed import must not be cached: the next request retries (and reports) it.
    material.catch(() => keyCache.delete(jwt));
    keyCache.set(jwt, material);
  }
  return material;
}

export interface SignedAccessToken {
  token: string;
  expiresIn: number;
  jti: string;
}

export async function signAccessToken(
  config: Config,
  subject: { userId: string; sid: string; email: string; role: Role; assurance: Assurance },
  now: number = Date.now(),
): Promise<SignedAccessToken> {
  const { signingKey } = await keys(config.jwt);
  const iat = Math.floor(now / 1000);
  const jti = crypto.randomUUID();
  const token = await new SignJWT({
    user_id: subject.userId,
    sid: subject.sid,
    email: subject.email,
    role: subject.role,
    token_type: "access",
    aal: subject.assurance.aal,
    amr: subject.assurance.amr,
    auth_time: subject.assurance.authTime,
  })
    .setProtectedHeader({ alg: ALGORITHM, kid: config.jwt.signingKey.kid, typ: "JWT" })
    .setIssuer(config.jwt.issuer)
    .setAudience(config.jwt.audience)
    .setSubject(subject.userId)
    .setJti(jti)
    .setIssuedAt(iat)
    .setExpirationTime(iat + config.accessTokenTtlSeconds)
    .sign(signingKey);
  return { token, expiresIn: config.accessTokenTtlSeconds, jti };
}

/**
 * Tokens this isolate has verified, by their exact text: a client sends the same access token with
 * every request for its 15 minutes, and an ECDSA verification is the costliest step of an
 * authenticated read. Only a token that passed every check is kept, only until its `exp` (checked
 * again on every hit), and at most VERIFIED_MAX of them (oldest first out). A token differing in
 * any character is verified afresh. Revocation is not cached: the deny-list is read per request.
 */
const verifiedTokens = new WeakMap<Config["jwt"], Map<string, AccessClaims>>();
const VERIFIED_MAX = 2_000;

function rememberVerified(jwt: Config["jwt"], token: string, claims: AccessClaims) {
  let cache = verifiedTokens.get(jwt);
  if (!cache) {
    cache = new Map();
    verifiedTokens.set(jwt, cache);
  }
  if (cache.size >= VERIFIED_MAX) {
    const oldest = cache.keys().next().value;
    if (oldest !== undefined) cache.delete(oldest);
  }
  cache.set(token, claims);
}

/** The claims of a token this isolate has verified and that has not expired yet, if any. */
export function knownAccessClaims(config: Config, token: string): AccessClaims | undefined {
  const known = verifiedTokens.get(config.jwt)?.get(token);
  // jose's rule: a token is expired once now >= exp.
  return known && Math.floor(Date.now() / 1000) < known.exp ? known : undefined;
}

/**
 * Verifies an access token and returns its claims, or throws ApiError `invalid_token` /
 * `token_expired`. Does not consult the revocation deny-list (see sessions.ts).
 */
export async function verifyAccessToken(config: Config, token: string): Promise<AccessClaims> {
  const known = knownAccessClaims(config, token);
  if (known) return known;
  const claims = await verifyAccessTokenSignature(config, token);
  rememberVerified(config.jwt, token, claims);
  return claims;
}

async function verifyAccessTokenSignature(config: Config, token: string): Promise<AccessClaims> {
  const { keySet } = await keys(config.jwt);
  let payload: Record<string, unknown>;
  try {
    ({ payload } = await jwtVerify(token, keySet, {
      algorithms: [ALGORITHM],
      issuer: config.jwt.issuer,
      audience: config.jwt.audience,
      requiredClaims: ["sub", "exp", "iat", "jti"],
    }));
  } catch (err) {
    if (err instanceof errors.JWTExpired) {
      throw new ApiError("token_expired", "Access token has expired");
    }
    throw new ApiError("invalid_token", "Access token is invalid");
  }
  const { sub, user_id, sid, email, role, token_type, jti, exp, iat } = payload;
  const assurance = assuranceOf(payload);
  if (
    token_type !== "access" ||
    typeof sub !== "string" ||
    user_id !== sub ||
    typeof sid !== "string" ||
    typeof email !== "string" ||
    (role !== "user" && role !== "admin") ||
    typeof jti !== "string" ||
    typeof exp !== "number" ||
    typeof iat !== "number" ||
    assurance === null ||
    // A token "issued" in the future was not issued by us (or was, by a clock gone wrong): either
    // way it would outlive the lifetime it claims.
    iat > Math.floor(Date.now() / 1000) + CLOCK_SKEW_SECONDS
  ) {
    throw new ApiError("invalid_token", "Access token is invalid");
  }
  return { userId: sub, sid, email, role, jti, exp, iat, ...assurance };
}

/**
 * A token's assurance claims. Tokens signed before second factors existed carry none: they are
 * `aal1` by password, authenticated at no known time (so never "recently").
 */
function assuranceOf(payload: Record<string, unknown>): Assurance | null {
  const { aal, amr, auth_time } = payload;
  if (aal === undefined && amr === undefined && auth_time === undefined) {
    return { aal: "aal1", amr: ["pwd"], authTime: 0 };
  }
  if (aal !== "aal1" && aal !== "aal2") return null;
  if (!Array.isArray(amr) || !amr.every((m) => typeof m === "string")) return null;
  if (typeof auth_time !== "number" || !Number.isInteger(auth_time)) return null;
  return { aal, amr, authTime: auth_time };
}

/**
 * Login-device proofs (OWASP's "device cookie"): handed to a client after it signed in to an
 * account, so later logins from that device are counted apart from strangers' guesses and never
 * locked out by them (src/rate-limit/attempts.ts). A JWT of its own type and audience, so neither
 * this service nor another verifier of our access tokens takes it for one; it grants nothing else.
 *
 * It names the user by id and the password by a stamp of its stored hash (a hash of the salted
 * hash: it reveals nothing of the password), so a password change or reset ends every proof made
 * before it — whoever knew the old password keeps no guessing budget for the new one.
 */
export const DEVICE_PROOF_TTL_SECONDS = 180 * 24 * 60 * 60;
const DEVICE_PROOF_TYPE = "login-device+jwt";
const deviceAudience = (config: Config) => `${config.jwt.audience}:login-device`;

/** The account a proof is for: its id and current password hash. */
export interface ProofAccount {
  id: string;
  passwordHash: string;
}

const credentialStamp = async (account: ProofAccount) =>
  (await sha256Hex(`login-device:${account.passwordHash}`)).slice(0, 32);

/** A proof for this device: the one it presented, renewed (`deviceId`), or a new device. */
export async function signDeviceProof(
  config: Config,
  account: ProofAccount,
  deviceId: string | null,
  now: number = Date.now(),
): Promise<string> {
  const { signingKey } = await keys(config.jwt);
  const iat = Math.floor(now / 1000);
  return new SignJWT({
    uid: account.id,
    cred: await credentialStamp(account),
    token_type: "login_device",
  })
    .setProtectedHeader({ alg: ALGORITHM, kid: config.jwt.signingKey.kid, typ: DEVICE_PROOF_TYPE })
    .setIssuer(config.jwt.issuer)
    .setAudience(deviceAudience(config))
    .setJti(deviceId ?? crypto.randomUUID())
    .setIssuedAt(iat)
    .setExpirationTime(iat + DEVICE_PROOF_TTL_SECONDS)
    .sign(signingKey);
}

/**
 * The device's id if `token` is a valid proof for this account as it is now; otherwise null
 * (never throws). The signature is checked whether or not the account exists, so the work does
 * not tell.
 */
export async function verifyDeviceProof(
  config: Config,
  token: string,
  account: ProofAccount | null,
): Promise<string | null> {
  const { keySet } = await keys(config.jwt);
  let payload: Record<string, unknown>;
  try {
    ({ payload } = await jwtVerify(token, keySet, {
      algorithms: [ALGORITHM],
      issuer: config.jwt.issuer,
      audience: deviceAudience(config),
      typ: DEVICE_PROOF_TYPE,
      requiredClaims: ["jti", "exp", "iat"],
    }));
  } catch {
    return null;
  }
  const stamp = account ? await credentialStamp(account) : null;
  const fresh =
    typeof payload.iat === "number" &&
    payload.iat <= Math.floor(Date.now() / 1000) + CLOCK_SKEW_SECONDS;
  const ok =
    account !== null &&
    payload.token_type === "login_device" &&
    payload.uid === account.id &&
    payload.cred === stamp &&
    fresh;
  return ok && typeof payload.jti === "string" ? payload.jti : null;
}

/** The public keys, as served at /.well-known/jwks.json. */
export function publicJwks(config: Config) {
  return { keys: config.jwt.publicKeys };
}
