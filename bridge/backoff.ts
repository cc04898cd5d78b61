/** Waiting between attempts: exponential backoff that a stop cuts short. */
import { errorText } from "./log.ts";

type Log = (level: "info" | "error", msg: string, fields?: Record<string, unknown>) => void;

/**
 * Waits `ms`, or less if `signal` aborts (stopping); resolves either way, so callers check the
 * signal afterwards.
 */
export function pause(ms: number, signal: AbortSignal): Promise<void> {
  if (signal.aborted) return Promise.resolve();
  return new Promise((resolve) => {
    const done = () => {
      clearTimeout(timer);
      signal.removeEventListener("abort", done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    signal.addEventListener("abort", done, { once: true });
  });
}

/** Exponential backoff: 1 s, doubling, at most 60 s. */
export const FIRST_DELAY_MS = 1_000;
export const MAX_DELAY_MS = 60_000;
export const nextDelay = (ms: number) => Math.min(ms * 2, MAX_DELAY_MS);

/**
 * Keeps a RabbitMQ connection: runs `connectOnce` (one connection's whole life) again and again
 * until `signal` aborts, waiting with backoff between tries. A try that returns true got as far as
 * working (consuming, publishing), so the backoff starts afresh after it.
 */
export async function reconnecting(
  connectOnce: () => Promise<boolean>,
  signal: AbortSignal,
  log: Log,
  fields: Record<string, unknown> = {},
): Promise<void> {
  let delay = FIRST_DELAY_MS;
  while (!signal.aborted) {
    try {
      if (await connectOnce()) delay = FIRST_DELAY_MS;
    } catch (err) {
      log("error", "amqp_unavailable", { error: errorText(err), ...fields });
    }
    if (signal.aborted) break;
    log("info", "reconnecting", { in_ms: delay });
    await pause(delay, signal);
    delay = nextDelay(delay);
  }
}
