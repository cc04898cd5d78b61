/**
 * Every KV key, TTL and access in one place: nothing else calls `get`, `put`, `delete` or `list`
 * on the namespace. KV only holds derived or expiring data, never the truth: losing any of it is
 * harmless (a revoked session is revoked in D1 too; caches refill; replays run again).
 */

/** KV refuses expirations shorter than 60 seconds. */
const KV_MIN_TTL_SECONDS = 60;

/** Inverted timestamp: KV lists keys lexicographically, so this makes listings newest first. */
const newestFirst = (iso: string) => String(9_999_999_999_999 - Date.parse(iso)).padStart(13, "0");

export const kvKeys = {
  /** Present while access tokens of a revoked session could still be unexpired. */
  revokedSession: (sid: string) => `revoked-session:${sid}`,
  /** An idempotent write's stored answer, by a hash of (caller, method, path, key). */
  idempotency: (hash: string) => `idempotency:${hash}`,
  /** A user's notification preferences, as the API returns them (write-through cache). */
  preferences: (userId: string) => `preferences:${userId}`,
  /** The last transient error of a push request, for the dead-letter consumer to record. */
  pushRequestError: (notificationId: string) => `push-request-error:${notificationId}`,
  /** Local push-delivery stand-in (DEV_TOOLS only): one key per job, newest first per user. */
  devPushDeliveryPrefix: (userId: string) => `dev-push:${userId}:`,
  devPushDelivery: (userId: string, createdAt: string, jobId: string) =>
    `dev-push:${userId}:${newestFirst(createdAt)}:${jobId}`,
  /** Local dev mailbox (DEV_TOOLS only): one key per event, listed by recipient, newest first. */
  devMailboxPrefix: (email: string) => `dev-mailbox:${email}:`,
  devMailboxMessage: (email: string, occurredAt: string, eventId: string) =>
    `dev-mailbox:${email}:${newestFirst(occurredAt)}:${eventId}`,
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

/** Dev mailbox messages (and dev push deliveries) disappear after three days. */
const DEV_MAILBOX_TTL_SECONDS = 3 * 24 * 60 * 60;

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

/* Preferences cache ------------------------------------------------------------------------ */

export function getCachedPreferences<T>(kv: KVNamespace, userId: string): Promise<T | null> {
  return kv.get<T>(kvKeys.preferences(userId), "json");
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

/* Local stand-ins (DEV_TOOLS only) --------------------------------------------------------- */

async function putDevRecord(kv: KVNamespace, key: string, value: unknown): Promise<void> {
  await kv.put(key, JSON.stringify(value), { expirationTtl: DEV_MAILBOX_TTL_SECONDS });
}

async function listDevRecords<T>(kv: KVNamespace, prefix: string, limit: number): Promise<T[]> {
  const listed = await kv.list({ prefix, limit });
  const values = await Promise.all(listed.keys.map((key) => kv.get(key.name)));
  return values.flatMap((value) => (value ? [JSON.parse(value) as T] : []));
}

/** Keyed by event id: a redelivered message overwrites itself instead of duplicating. */
export function putDevMailboxMessage(
  kv: KVNamespace,
  event: { id: string; occurred_at: string },
  email: string,
): Promise<void> {
  return putDevRecord(kv, kvKeys.devMailboxMessage(email, event.occurred_at, event.id), event);
}

export function listDevMailbox<T>(kv: KVNamespace, email: string, limit: number): Promise<T[]> {
  return listDevRecords<T>(kv, kvKeys.devMailboxPrefix(email), limit);
}

/** Keyed by job id: a redelivered job overwrites itself. */
export function putDevPushDelivery(
  kv: KVNamespace,
  job: { job_id: string; created_at: string; user: { id: string } },
): Promise<void> {
  return putDevRecord(kv, kvKeys.devPushDelivery(job.user.id, job.created_at, job.job_id), job);
}

export function listDevPushDeliveries<T>(
  kv: KVNamespace,
  userId: string,
  limit: number,
): Promise<T[]> {
  return listDevRecords<T>(kv, kvKeys.devPushDeliveryPrefix(userId), limit);
}

/* Health ----------------------------------------------------------------------------------- */

export async function probeKv(kv: KVNamespace): Promise<void> {
  await kv.get(kvKeys.healthProbe);
}
