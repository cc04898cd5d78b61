/**
 * What the local stand-ins keep in KV (src/kv.ts holds every other key): the messages the email
 * service would have received and the jobs the push service would have delivered, newest first.
 */

/** They disappear after three days. */
const DEV_RECORD_TTL_SECONDS = 3 * 24 * 60 * 60;

/** Inverted timestamp: KV lists keys lexicographically, so this makes listings newest first. */
const newestFirst = (iso: string) => String(9_999_999_999_999 - Date.parse(iso)).padStart(13, "0");

const devKeys = {
  /** One key per job, newest first per user. */
  pushDeliveryPrefix: (userId: string) => `dev-push:${userId}:`,
  pushDelivery: (userId: string, createdAt: string, jobId: string) =>
    `dev-push:${userId}:${newestFirst(createdAt)}:${jobId}`,
  /** One key per event, listed by recipient, newest first. */
  mailboxPrefix: (email: string) => `dev-mailbox:${email}:`,
  mailboxMessage: (email: string, occurredAt: string, eventId: string) =>
    `dev-mailbox:${email}:${newestFirst(occurredAt)}:${eventId}`,
  /** What the benchmarks' I/O twins read (GET /_dev/io): absent keys, and present ones. */
  benchAbsent: (n: number) => `dev-bench-absent:${n}`,
  benchPresent: (n: number) => `dev-bench-present:${n}`,
} as const;

/** As large as a cached preferences entry, so a present key costs what a cache hit does. */
const BENCH_VALUE = JSON.stringify({
  user_id: "00000000-0000-4000-8000-000000000000",
  email: true,
  push: true,
  updated_at: new Date(0).toISOString(),
});

/**
 * The KV read of a hot route, with nothing around it: `keys` keys, of which the first `present`
 * exist (written first if they do not), read alone (one key) or in one bulk read — as a route
 * reading its deny-list entry (absent) and a cached value (present) does.
 */
export async function readBenchKeys(kv: KVNamespace, keys: number, present: number): Promise<void> {
  const names = Array.from({ length: keys }, (_, i) =>
    i < present ? devKeys.benchPresent(i + 1) : devKeys.benchAbsent(i + 1),
  );
  const values =
    names.length === 1 ? [await kv.get(names[0] as string)] : [...(await kv.get(names)).values()];
  const missing = names.slice(0, present).filter((_, i) => values[i] === null);
  await Promise.all(missing.map((name) => putDevRecord(kv, name, JSON.parse(BENCH_VALUE))));
}

async function putDevRecord(kv: KVNamespace, key: string, value: unknown): Promise<void> {
  await kv.put(key, JSON.stringify(value), { expirationTtl: DEV_RECORD_TTL_SECONDS });
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
  return putDevRecord(kv, devKeys.mailboxMessage(email, event.occurred_at, event.id), event);
}

export function listDevMailbox<T>(kv: KVNamespace, email: string, limit: number): Promise<T[]> {
  return listDevRecords<T>(kv, devKeys.mailboxPrefix(email), limit);
}

/** Keyed by job id: a redelivered job overwrites itself. */
export function putDevPushDelivery(
  kv: KVNamespace,
  job: { job_id: string; created_at: string; user: { id: string } },
): Promise<void> {
  return putDevRecord(kv, devKeys.pushDelivery(job.user.id, job.created_at, job.job_id), job);
}

export function listDevPushDeliveries<T>(
  kv: KVNamespace,
  userId: string,
  limit: number,
): Promise<T[]> {
  return listDevRecords<T>(kv, devKeys.pushDeliveryPrefix(userId), limit);
}
