/** Waiting between attempts: exponential backoff that a stop cuts short. */

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
