/**
 * Push devices in the import contract's terms: `platform` android | ios | web (from `platform` /
 * `device_type`, lower-cased, else inferred and said so), `provider` fcm | apns | webpush when
 * the row says (else the server defaults it from the platform).
 */

const PLATFORMS: Record<string, "android" | "ios" | "web"> = {
  android: "android",
  ios: "ios",
  iphone: "ios",
  ipad: "ios",
  apple: "ios",
  web: "web",
  browser: "web",
  chrome: "web",
  firefox: "web",
  safari: "web",
  webpush: "web",
};
const PROVIDERS: Record<string, "fcm" | "apns" | "webpush"> = {
  fcm: "fcm",
  gcm: "fcm",
  firebase: "fcm",
  apns: "apns",
  apn: "apns",
  webpush: "webpush",
  web_push: "webpush",
  vapid: "webpush",
};
const PROVIDER_PLATFORM = { fcm: "android", apns: "ios", webpush: "web" } as const;
const APNS_TOKEN = /^[0-9a-f]{64}$/i;

export function provider(value: string | null): "fcm" | "apns" | "webpush" | undefined {
  return value === null ? undefined : PROVIDERS[value.trim().toLowerCase()];
}

/**
 * The platform a device row gives, or one inferred (with `inferred` set) from its provider, its
 * model (django-push-notifications' `apnsdevice`, `gcmdevice`, `webpushdevice`), a browser
 * column, or the token's shape (64 hex digits: APNs; a URL: Web Push); android when nothing says.
 */
export function platform(
  given: string | null,
  hints: { provider?: string; model: string; browser: boolean; token: string },
): { platform: "android" | "ios" | "web"; inferred: boolean } {
  const named = given === null ? undefined : PLATFORMS[given.trim().toLowerCase()];
  if (named) return { platform: named, inferred: false };
  const fromProvider = provider(hints.provider ?? null);
  if (fromProvider) return { platform: PROVIDER_PLATFORM[fromProvider], inferred: true };
  const model = hints.model.toLowerCase();
  if (model.includes("apns")) return { platform: "ios", inferred: true };
  if (hints.browser || model.includes("webpush")) return { platform: "web", inferred: true };
  if (APNS_TOKEN.test(hints.token)) return { platform: "ios", inferred: true };
  if (/^https:\/\//i.test(hints.token)) return { platform: "web", inferred: true };
  return { platform: "android", inferred: true };
}
