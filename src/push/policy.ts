/**
 * The delivery policy for one push request (DESIGN §6), as pure functions of the user's targets
 * and the clock: whether to skip it (and why), wait out quiet hours, or deliver.
 */
import type { PushRequest } from "../events/push-messages";
import type { Preferences } from "../preferences/preferences";
import type { NotificationTargets } from "./targets";

const DAY_SECONDS = 24 * 60 * 60;

/** Seconds since local midnight of `date` in a time zone. */
function localSecondsOfDay(timeZone: string, date: Date): number {
  const parts = new Intl.DateTimeFormat("en-GB", {
    timeZone,
    hour: "2-digit",
    minute: "2-digit",
    second: "2-digit",
    hourCycle: "h23",
  }).formatToParts(date);
  const part = (type: string) => Number(parts.find((p) => p.type === type)?.value ?? 0);
  return part("hour") * 3600 + part("minute") * 60 + part("second");
}

/**
 * Seconds until the user's quiet hours end, or null outside them. Hours are wall-clock times in
 * the user's time zone; a window whose end is before its start runs across midnight. A daylight-
 * saving change inside the wait is accounted for, so the push goes out at the wall-clock end.
 */
export function quietHoursRemaining(prefs: Preferences, now: Date): number | null {
  const { quiet_hours_start: start, quiet_hours_end: end, timezone } = prefs;
  if (!start || !end || start === end) return null;
  const toSeconds = (hhmm: string) => {
    const [h, m] = hhmm.split(":").map(Number);
    return (h ?? 0) * 3600 + (m ?? 0) * 60;
  };
  const nowSeconds = localSecondsOfDay(timezone, now);
  const from = toSeconds(start);
  const to = toSeconds(end);
  const inside =
    from < to ? nowSeconds >= from && nowSeconds < to : nowSeconds >= from || nowSeconds < to;
  if (!inside) return null;
  const naive = (to - nowSeconds + DAY_SECONDS) % DAY_SECONDS;
  // Where the naive wait lands on the wall clock; the difference is the DST shift in between.
  const landing = localSecondsOfDay(timezone, new Date(now.getTime() + naive * 1000));
  const drift = ((to - landing + DAY_SECONDS * 1.5) % DAY_SECONDS) - DAY_SECONDS / 2;
  return Math.max(1, naive + drift);
}

export type Decision =
  | { kind: "skip"; reason: string }
  | { kind: "defer"; seconds: number }
  | { kind: "deliver" };

/** What to do with a request for a known user (the frequency limit is decided inside D1). */
export function decide(request: PushRequest, targets: NotificationTargets, now: Date): Decision {
  const prefs = targets.preferences;
  if (!targets.is_active) return { kind: "skip", reason: "user is deactivated" };
  if (!prefs.push) return { kind: "skip", reason: "push notifications are off" };
  if (request.category && !prefs[`push_${request.category}`]) {
    return { kind: "skip", reason: `${request.category} push notifications are off` };
  }
  if (targets.push_devices.length === 0) return { kind: "skip", reason: "no active push device" };
  const quiet = quietHoursRemaining(prefs, now);
  return quiet === null ? { kind: "deliver" } : { kind: "defer", seconds: quiet };
}
