/**
 * Every KV key, TTL and access in one place: nothing else calls `get`, `put`, `delete` or `list`
 * on the namespace — but for the local stand-ins' records, which live with them in src/dev/store.ts
 * so the production bundle does not carry them. KV only holds derived or expiring data, never the truth: losing any of it is
 * harmless (a revoked session is revoked in D1 too; caches refill; replays run again).
 */

/** KV refuses expirations shorter than 60 seconds. */
const KV_MIN_TTL_SECONDS = 60;

export const kvKeys = {
  /** Present while access tokens of a revoked session could still be unexpired. */
  revokedSession: (sid: string) => `revoked-session:${sid}`,
  /** An idempotent write's stored answer, by a hash of (caller, method, path, key). */
  idempotency: (hash: string) => `idempotency:${hash}`,
  /** A user's notification preferences, as the API returns them (write-through cache). */
  preferences: (userId: string) => `preferences:${userId}`,
  /** The last transient error of a push request, for the dead-letter consumer to record. */
  pushRequestError: (notificationId: string) => `push-request-error:${notificationId}`,
  /** A signed-in user's pending link of an identity provider, by a hash of its link token. */
  oauthLink: (hash: string) => `oauth-link:${hash}`,
  /** Read (never written) by the health check. */
  healthProbe: "health:probe",
} as const;

/**
 * Preferences are written through on every change, so the TTL only bounds how long a lost race
 * between two concurrent updates (or a failed KV write) can serve an older value.
 */
const PREFERENCES_CACHE_TTL_SECONDS = 15 * 60;

/** Replays of an idempotent write are served this long (DESIGN §3: 24 h). */
const IDEMPOTENCY_TTL_SECONDS = 24 * 60 * 60;
/** How long a write in progress blocks its key (KV's shortest expiry). */
export const IDEMPOTENCY_IN_FLIGHT_TTL_SECONDS = 60;

/** Long enough to outlive every retry of a push request (see wrangler.toml max_retries). */
const PUSH_ERROR_TTL_SECONDS = 24 * 60 * 60;

/* Revoked sessions ------------------------------------------------------------------------- */

/**
 * How long a revoked session id must stay on the deny-list: until the last access token issued
 * for it has expired (plus a minute of clock skew).
 */
function revokedSessionTtl(accessTokenTtlSeconds: number): number {
  return Math.max(KV_MIN_TTL_SECONDS, accessTokenTtlSeconds + 60);
}

export async function putRevokedSession(
  kv: KVNamespace,
  sid: string,
  accessTokenTtlSeconds: number,
): Promise<void> {
  await kv.put(kvKeys.revokedSession(sid), "1", {
    expirationTtl: revokedSessionTtl(accessTokenTtlSeconds),
  });
}

export async function isRevokedSession(kv: KVNamespace, sid: string): Promise<boolean> {
  return (await kv.get(kvKeys.revokedSession(sid))) !== null;
}

/**
 * Whether a session is on the deny-list and, in the same KV call (a bulk read), the text under
 * another key: a read whose answer is in KV needs one round trip instead of two.
 */
export async function isRevokedSessionReading(
  kv: KVNamespace,
  sid: string,
  key: string,
): Promise<{ revoked: boolean; value: string | null }> {
  const denied = kvKeys.revokedSession(sid);
  const values = await kv.get([denied, key], "text");
  return { revoked: (values.get(denied) ?? null) !== null, value: values.get(key) ?? null };
}

/* Preferences cache ------------------------------------------------------------------------ */

export function getCachedPreferences<T>(kv: KVNamespace, userId: string): Promise<T | null> {
  return kv.get<T>(kvKeys.preferences(userId), "json");
}

/** A cached preferences entry read as text (by `isRevokedSessionReading`), parsed. */
export function parseCachedPreferences<T>(text: string | null): T | null {
  return text === null ? null : (JSON.parse(text) as T);
}

export async function putCachedPreferences(
  kv: KVNamespace,
  userId: string,
  value: unknown,
): Promise<void> {
  await kv.put(kvKeys.preferences(userId), JSON.stringify(value), {
    expirationTtl: PREFERENCES_CACHE_TTL_SECONDS,
  });
}

export async function deleteCachedPreferences(kv: KVNamespace, userId: string): Promise<void> {
  await kv.delete(kvKeys.preferences(userId));
}

/* Idempotency records ---------------------------------------------------------------------- */

/* `key` is a `kvKeys.idempotency(…)` key: the middleware also names its claim after it. */

export function getIdempotencyRecord<T>(kv: KVNamespace, key: string): Promise<T | null> {
  return kv.get<T>(key, "json");
}

/** `inFlight`: the short-lived marker of a write in progress; otherwise the stored answer. */
export async function putIdempotencyRecord(
  kv: KVNamespace,
  key: string,
  record: unknown,
  inFlight: boolean,
): Promise<void> {
  await kv.put(key, JSON.stringify(record), {
    expirationTtl: inFlight ? IDEMPOTENCY_IN_FLIGHT_TTL_SECONDS : IDEMPOTENCY_TTL_SECONDS,
  });
}

export async function deleteIdempotencyRecord(kv: KVNamespace, key: string): Promise<void> {
  await kv.delete(key);
}

/* Push-request errors ---------------------------------------------------------------------- */

export async function putPushRequestError(
  kv: KVNamespace,
  notificationId: string,
  detail: string,
): Promise<void> {
  await kv.put(kvKeys.pushRequestError(notificationId), detail, {
    expirationTtl: PUSH_ERROR_TTL_SECONDS,
  });
}

export function getPushRequestError(
  kv: KVNamespace,
  notificationId: string,
): Promise<string | null> {
  return kv.get(kvKeys.pushRequestError(notificationId));
}

/* Health ----------------------------------------------------------------------------------- */

/* Identity-provider links ------------------------------------------------------------------ */

/** What a link token starts (src/oauth/states.ts); lost, the user only starts the link again. */
export interface PendingLink {
  userId: string;
  provider: string;
  redirectTo: string;
}

export async function putPendingLink(
  kv: KVNamespace,
  hash: string,
  link: PendingLink,
  ttlSeconds: number,
): Promise<void> {
  await kv.put(kvKeys.oauthLink(hash), JSON.stringify(link), {
    expirationTtl: Math.max(KV_MIN_TTL_SECONDS, ttlSeconds),
  });
}

/** The pending link, deleted as it is read: a link token starts one link. */
export async function takePendingLink(kv: KVNamespace, hash: string): Promise<PendingLink | null> {
  const key = kvKeys.oauthLink(hash);
  const link = await kv.get<PendingLink>(key, "json");
  if (link) await kv.delete(key);
  return link;
}

export async function probeKv(kv: KVNamespace): Promise<void> {
  await kv.get(kvKeys.healthProbe);
}
