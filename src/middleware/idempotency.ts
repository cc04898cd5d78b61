/**
 * Idempotent writes (DESIGN §3): a POST/PUT/PATCH/DELETE carrying `Idempotency-Key` (or the older
 * `X-Request-ID`) is answered once; a retry with the same key gets the stored status and body with
 * `Idempotent-Replayed: true` for 24 hours.
 *
 * - Scope: the caller (user id, service name, or client network when anonymous) + method + path +
 *   key, so another caller's key never replays someone else's response.
 * - The body's SHA-256 is kept: the same key with another body is 422 `idempotency_key_reused`.
 * - While the first request runs, a retry gets 409 (best effort: KV is eventually consistent, so
 *   two requests racing through different locations can both run).
 * - 5xx and 429 answers are not stored: those are worth retrying for real.
 * - Stored responses can hold tokens (registration, login, refresh), so they are encrypted with a
 *   key derived from the client's Idempotency-Key, which KV never sees: what sits in KV is useless
 *   without it.
 */
import type { Context } from "hono";
import { createMiddleware } from "hono/factory";
import type { AppEnv } from "../app-env";
import { serviceForKey } from "../auth/callers";
import { type AccessClaims, verifyAccessToken } from "../auth/jwt";
import { bearerToken } from "../auth/middleware";
import { base64url, sha256Hex } from "../auth/tokens";
import { ApiError } from "../errors";
import { IDEMPOTENCY_IN_FLIGHT_TTL_SECONDS, IDEMPOTENCY_TTL_SECONDS, kvKeys } from "../kv";
import { errorDetail, log } from "../logging";
import { clientNetwork } from "../rate-limit/limits";

const WRITE_METHODS = new Set(["POST", "PUT", "PATCH", "DELETE"]);
const KEY_FORMAT = /^[\x21-\x7e]{1,255}$/;
const JWT_SHAPE = /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*$/;
const encoder = new TextEncoder();

interface StoredResponse {
  state: "in_flight" | "done";
  fingerprint: string;
  status?: number;
  contentType?: string;
  /** base64url(iv || AES-GCM ciphertext) of the body. */
  body?: string;
}

/** Who is calling, for scoping keys; a token verified here is reused by the auth middleware. */
async function callerScope(c: Context<AppEnv>): Promise<string> {
  const serviceHeader = c.req.header("X-Service-Key");
  let bearer: string | null = null;
  try {
    bearer = bearerToken(c.req.header("Authorization"));
  } catch {
    // A malformed header: the route's own authentication will refuse it.
  }
  const serviceKey = serviceHeader ?? (bearer && !JWT_SHAPE.test(bearer) ? bearer : null);
  if (serviceKey) {
    const name = serviceForKey(c.get("config"), serviceKey);
    if (name) return `service:${name}`;
  } else if (bearer) {
    try {
      const claims: AccessClaims = await verifyAccessToken(c.get("config"), bearer);
      c.set("verifiedAccessToken", { token: bearer, claims });
      return `user:${claims.userId}`;
    } catch {
      // Not a valid token: the request will be refused; scope it to the client.
    }
  }
  return `ip:${clientNetwork(c.get("clientIp"))}`;
}

/**
 * Where a write's record lives in KV. `scope` is `user:<id>`, `service:<name>` or `ip:<network>`;
 * `path` is the pathname without a trailing slash, plus the query string.
 */
export async function recordKey(scope: string, method: string, path: string, key: string) {
  return kvKeys.idempotency(await sha256Hex(`${scope}\n${method}\n${path}\n${key}`));
}

async function cipherKey(idempotencyKey: string, scope: string) {
  const material = await crypto.subtle.digest(
    "SHA-256",
    encoder.encode(`idempotency-body\n${scope}\n${idempotencyKey}`),
  );
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
  return base64url(out);
}

async function open(sealed: string, key: CryptoKey): Promise<string> {
  const bytes = Uint8Array.from(atob(sealed.replaceAll("-", "+").replaceAll("_", "/")), (ch) =>
    ch.charCodeAt(0),
  );
  const plain = await crypto.subtle.decrypt(
    { name: "AES-GCM", iv: bytes.slice(0, 12) },
    key,
    bytes.slice(12),
  );
  return new TextDecoder().decode(plain);
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

  const scope = await callerScope(c);
  const url = new URL(c.req.url);
  const path = `${url.pathname.replace(/\/+$/, "")}${url.search}`;
  const kvKey = await recordKey(scope, c.req.method, path, idempotencyKey);
  const fingerprint = await sha256Hex(await c.req.text());
  const key = await cipherKey(idempotencyKey, scope);

  const existing = await c.env.KV.get<StoredResponse>(kvKey, "json");
  if (existing) {
    if (existing.fingerprint !== fingerprint) {
      throw new ApiError(
        "idempotency_key_reused",
        "This Idempotency-Key was already used with a different request body",
      );
    }
    if (existing.state === "in_flight" || existing.body === undefined) {
      throw new ApiError("conflict", "A request with this Idempotency-Key is still in progress", {
        headers: { "Retry-After": "1" },
      });
    }
    return c.body(await open(existing.body, key), (existing.status ?? 200) as 200, {
      "Content-Type": existing.contentType ?? "application/json; charset=UTF-8",
      "Idempotent-Replayed": "true",
    });
  }

  const marker: StoredResponse = { state: "in_flight", fingerprint };
  await c.env.KV.put(kvKey, JSON.stringify(marker), {
    expirationTtl: IDEMPOTENCY_IN_FLIGHT_TTL_SECONDS,
  });
  await next();

  try {
    const status = c.res.status;
    if (status >= 500 || status === 429) {
      await c.env.KV.delete(kvKey);
      return;
    }
    const stored: StoredResponse = {
      state: "done",
      fingerprint,
      status,
      contentType: c.res.headers.get("Content-Type") ?? undefined,
      body: await seal(await c.res.clone().text(), key),
    };
    await c.env.KV.put(kvKey, JSON.stringify(stored), { expirationTtl: IDEMPOTENCY_TTL_SECONDS });
  } catch (err) {
    // The response stands; only its replay is lost (a retry will run the request again).
    log("error", "idempotency_store_failed", {
      correlation_id: c.get("correlationId"),
      detail: errorDetail(err),
    });
    await c.env.KV.delete(kvKey).catch(() => undefined);
  }
});
