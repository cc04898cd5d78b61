/**
 * Every KV key and TTL in one place. KV only holds derived or expiring data, never the truth:
 * losing any of it is harmless (a revoked session is revoked in D1 too; caches refill).
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
  /**
   * Local dev mailbox (DEV_TOOLS only): one key per event, listed by recipient. The inverted
   * timestamp makes KV's lexicographic listing return the newest first.
   */
  /** The last transient error of a push request, for the dead-letter consumer to record. */
  pushRequestError: (notificationId: string) => `push-request-error:${notificationId}`,
  /** Local push-delivery stand-in (DEV_TOOLS only): one key per job, newest first per user. */
  devPushDeliveryPrefix: (userId: string) => `dev-push:${userId}:`,
  devPushDelivery: (userId: string, createdAt: string, jobId: string) =>
    `dev-push:${userId}:${String(9_999_999_999_999 - Date.parse(createdAt)).padStart(13, "0")}:${jobId}`,
  devMailboxPrefix: (email: string) => `dev-mailbox:${email}:`,
  devMailboxMessage: (email: string, occurredAt: string, eventId: string) =>
    `dev-mailbox:${email}:${String(9_999_999_999_999 - Date.parse(occurredAt)).padStart(13, "0")}:${eventId}`,
} as const;

/**
 * Preferences are written through on every change, so the TTL only bounds how long a lost race
 * between two concurrent updates (or a failed KV write) can serve an older value.
 */
export const PREFERENCES_CACHE_TTL_SECONDS = 15 * 60;

/** Replays of an idempotent write are served this long (DESIGN §3: 24 h). */
export const IDEMPOTENCY_TTL_SECONDS = 24 * 60 * 60;
/** How long a write in progress blocks its key (KV's shortest expiry). */
export const IDEMPOTENCY_IN_FLIGHT_TTL_SECONDS = 60;

/** Long enough to outlive every retry of a push request (see wrangler.toml max_retries). */
export const PUSH_ERROR_TTL_SECONDS = 24 * 60 * 60;

/** Dev mailbox messages (and dev push deliveries) disappear after three days. */
export const DEV_MAILBOX_TTL_SECONDS = 3 * 24 * 60 * 60;

/**
 * How long a revoked session id must stay on the deny-list: until the last access token issued
 * for it has expired (plus a minute of clock skew).
 */
export function revokedSessionTtl(accessTokenTtlSeconds: number): number {
  return Math.max(KV_MIN_TTL_SECONDS, accessTokenTtlSeconds + 60);
}
