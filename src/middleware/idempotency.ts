/**
 * Idempotent writes (DESIGN §3): a POST/PUT/PATCH/DELETE carrying `Idempotency-Key` (or the older
 * `X-Request-ID`) is answered once; a retry with the same key gets the stored status and body with
 * `Idempotent-Replayed: true` for 24 hours.
 *
 * - Scope: the caller as the route will see it (user id, service name, or client network when
 *   anonymous) + method + path + key, so another caller's key never replays someone else's response.
 * - A keyed hash (HMAC) of the body is kept: the same key with another body is 422
 *   `idempotency_key_reused`.
 * - Of two requests racing with one key, one runs and the other gets 409: the key is claimed in the
 *   RateLimiter Durable Object (atomic), and a KV marker says which body holds it.
 * - 5xx and 429 answers are not stored: those are worth retrying for real.
 * - Stored responses can hold tokens (registration, login, refresh), so they are encrypted with a
 *   key derived from a server secret and the client's Idempotency-Key, which KV never sees.
 */
import type { Context } from "hono";
import { createMiddleware } from "hono/factory";
import type { AppEnv } from "../app-env";
import { accessCookie } from "../auth/browser-cookies";
import { presentedService } from "../auth/callers";
import { authenticateUser } from "../auth/middleware";
import type { Config } from "../config";
import { ApiError } from "../errors";
import {
  deleteIdempotencyRecord,
  getIdempotencyRecord,
  IDEMPOTENCY_IN_FLIGHT_TTL_SECONDS,
  kvKeys,
  putIdempotencyRecord,
} from "../kv";
import { errorDetail, log } from "../logging";
import { clientNetwork } from "../rate-limit/limits";
import { WRITE_METHODS } from "./json-body";

const KEY_FORMAT = /^[\x21-\x7e]{1,255}$/;
/** How long a claim on a key lasts if its request never finishes (e.g. the isolate died). */
const CLAIM_MS = IDEMPOTENCY_IN_FLIGHT_TTL_SECONDS * 1000;
const encoder = new TextEncoder();

interface StoredResponse {
  state: "in_flight" | "done";
  fingerprint: string;
  status?: number;
  contentType?: string;
  /** base64url(iv || AES-GCM ciphertext) of the body. */
  body?: string;
}

/**
 * Who is calling, for scoping keys: the same identity the route will act for. A bearer token is
 * fully authenticated here (signature, expiry, revocation), and the route reuses the result.
 */
async function callerScope(c: Context<AppEnv>): Promise<string> {
  const service = presentedService(c);
  if (service) return `service:${service}`;
  // A browser session's cookie identifies its user just as a bearer token does.
  if (c.req.header("Authorization") || accessCookie(c) !== undefined) {
    try {
      return `user:${(await authenticateUser(c)).userId}`;
    } catch {
      // Not a usable token: the route will refuse the request; scope it to the client.
    }
  }
  return `ip:${clientNetwork(c.get("clientIp"))}`;
}

const secrets = new WeakMap<Config, Promise<CryptoKey>>();

/**
 * The server-side secret of every record, derived (HKDF) from the JWT signing key so that nothing
 * more needs configuring: without it, what sits in KV can be neither found from a guessed
 * Idempotency-Key, nor decrypted, nor used to test password guesses against a stored body's
 * fingerprint. Rotating the signing key forgets the stored replays (they are not found any more).
 */
function serverSecret(config: Config): Promise<CryptoKey> {
  let secret = secrets.get(config);
  if (!secret) {
    secret = (async () => {
      const ikm = Uint8Array.fromBase64(config.jwt.signingKey.d, { alphabet: "base64url" });
      const hkdf = await crypto.subtle.importKey("raw", ikm, "HKDF", false, ["deriveBits"]);
      const bits = await crypto.subtle.deriveBits(
        {
          name: "HKDF",
          hash: "SHA-256",
          salt: new Uint8Array(),
          info: encoder.encode("idempotency"),
        },
        hkdf,
        256,
      );
      return crypto.subtle.importKey("raw", bits, { name: "HMAC", hash: "SHA-256" }, false, [
        "sign",
      ]);
    })();
    secrets.set(config, secret);
  }
  return secret;
}

async function hmac(config: Config, ...parts: string[]): Promise<Uint8Array> {
  const mac = await crypto.subtle.sign(
    "HMAC",
    await serverSecret(config),
    encoder.encode(parts.join("\n")),
  );
  return new Uint8Array(mac);
}

/**
 * Where a write's record lives in KV. `scope` is `user:<id>`, `service:<name>` or `ip:<network>`;
 * `path` is the pathname without a trailing slash, plus the query string.
 */
export async function recordKey(
  config: Config,
  scope: string,
  method: string,
  path: string,
  key: string,
): Promise<string> {
  return kvKeys.idempotency((await hmac(config, "record", scope, method, path, key)).toHex());
}

async function cipherKey(config: Config, record: string, idempotencyKey: string) {
  // Needs both the server secret and the client's key, which KV never sees.
  const material = await hmac(config, "cipher", record, idempotencyKey);
  return crypto.subtle.importKey("raw", material, "AES-GCM", false, ["encrypt", "decrypt"]);
}

async function seal(text: string, key: CryptoKey): Promise<string> {
  const iv = crypto.getRandomValues(new Uint8Array(12));
  const sealed = new Uint8Array(
    await crypto.subtle.encrypt({ name: "AES-GCM", iv }, key, encoder.encode(text)),
  );
  const out = new Uint8Array(iv.byteLength + sealed.byteLength);
  out.set(iv);
  out.set(sealed, iv.byteLength);
  return out.toBase64({ alphabet: "base64url", omitPadding: true });
}

async function open(sealed: string, key: CryptoKey): Promise<string> {
  const bytes = Uint8Array.fromBase64(sealed, { alphabet: "base64url" });
  const plain = await crypto.subtle.decrypt(
    { name: "AES-GCM", iv: bytes.slice(0, 12) },
    key,
    bytes.slice(12),
  );
  return new TextDecoder().decode(plain);
}

const keyReused = () =>
  new ApiError(
    "idempotency_key_reused",
    "This Idempotency-Key was already used with a different request body",
  );

const inProgress = () =>
  new ApiError("conflict", "A request with this Idempotency-Key is still in progress", {
    headers: { "Retry-After": "1" },
  });

/**
 * A claim on the key, so that of two requests racing with it only one runs: the RateLimiter
 * Durable Object with a limit of one per claim period counts atomically, and `release` frees it.
 * Returns null when the Durable Object cannot be reached (the KV marker is then all there is: the
 * same fail-open choice as the rate limits).
 */
async function claim(c: Context<AppEnv>, record: string) {
  const stub = c.env.RATE_LIMITER.getByName(`idempotency:${record}`);
  try {
    const state = await stub.hit(1, CLAIM_MS, Date.now());
    return { won: state.allowed, release: () => stub.reset() };
  } catch (err) {
    log("warn", "idempotency_claim_unavailable", {
      correlation_id: c.get("correlationId"),
      detail: errorDetail(err),
    });
    return null;
  }
}

export const idempotency = createMiddleware<AppEnv>(async (c, next) => {
  if (!WRITE_METHODS.has(c.req.method)) return next();
  const idempotencyKey = c.req.header("Idempotency-Key") ?? c.req.header("X-Request-ID");
  if (idempotencyKey === undefined) return next();
  if (!KEY_FORMAT.test(idempotencyKey)) {
    throw new ApiError("validation_failed", "Validation failed", {
      details: { "Idempotency-Key": ["Must be 1 to 255 visible ASCII characters."] },
    });
  }

  const config = c.get("config");
  const scope = await callerScope(c);
  const url = new URL(c.req.url);
  const path = `${url.pathname.replace(/\/+$/, "")}${url.search}`;
  const kvKey = await recordKey(config, scope, c.req.method, path, idempotencyKey);
  // Keyed with the server secret: a stored fingerprint of a login body is no fast hash of a password.
  const fingerprint = (await hmac(config, "body", kvKey, await c.req.text())).toHex();
  const key = await cipherKey(config, kvKey, idempotencyKey);

  /** Answers from what is stored, or returns false when nothing is. */
  const answerFromStore = async (): Promise<Response | false> => {
    const existing = await getIdempotencyRecord<StoredResponse>(c.env.KV, kvKey);
    if (!existing) return false;
    if (existing.fingerprint !== fingerprint) throw keyReused();
    if (existing.state === "in_flight" || existing.body === undefined) throw inProgress();
    return c.body(await open(existing.body, key), (existing.status ?? 200) as 200, {
      "Content-Type": existing.contentType ?? "application/json; charset=UTF-8",
      "Idempotent-Replayed": "true",
    });
  };

  const stored = await answerFromStore();
  if (stored) return stored;

  const claimed = await claim(c, kvKey);
  if (claimed && !claimed.won) {
    // Another request holds the key: its answer if it has just finished, 422 if its body differs
    // (once its marker is visible), else 409.
    const replay = await answerFromStore();
    if (replay) return replay;
    throw inProgress();
  }
  try {
    // The request that held the claim may have finished between the first look and the claim. A
    // marker found now is a dead request's (holding the claim, we know no other runs) — unless
    // there is no claim to go by.
    const finished = await answerFromStore().catch((err: unknown): false => {
      if (claimed && err instanceof ApiError && err.code === "conflict") return false;
      throw err;
    });
    if (finished) return finished;

    const marker: StoredResponse = { state: "in_flight", fingerprint };
    await putIdempotencyRecord(c.env.KV, kvKey, marker, true);
    await next();

    try {
      const status = c.res.status;
      if (status >= 500 || status === 429) {
        await deleteIdempotencyRecord(c.env.KV, kvKey);
        return;
      }
      const record: StoredResponse = {
        state: "done",
        fingerprint,
        status,
        contentType: c.res.headers.get("Content-Type") ?? undefined,
        body: await seal(await c.res.clone().text(), key),
      };
      await putIdempotencyRecord(c.env.KV, kvKey, record, false);
    } catch (err) {
      // The response stands; only its replay is lost (a retry will run the request again).
      log("error", "idempotency_store_failed", {
        correlation_id: c.get("correlationId"),
        detail: errorDetail(err),
      });
      await deleteIdempotencyRecord(c.env.KV, kvKey).catch(() => undefined);
    }
  } finally {
    // After the record is stored: whoever claims next finds it.
    await claimed?.release().catch((err: unknown) => {
      log("warn", "idempotency_claim_unavailable", {
        correlation_id: c.get("correlationId"),
        detail: errorDetail(err),
      });
    });
  }
});
