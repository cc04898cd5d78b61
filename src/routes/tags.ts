/**
 * The OpenAPI tags, in one place: their names (routes name theirs with `tags(...)`, so a typo does
 * not compile), their descriptions, and their order in the document.
 */
const TAG_DESCRIPTIONS = {
  Auth: "Login, token refresh, logout, email verification and password reset.",
  Users: "Registration, the caller's profile, password change, and admin user management.",
  Sessions: "The caller's sessions (devices signed in), and ending them.",
  "Second factors":
    "Authenticator apps (TOTP), recovery codes, the login's second step, step-up and " +
    "re-authentication.",
  Passkeys: "WebAuthn passkeys: as a second factor, and for signing in without a password.",
  "Email codes": "Signing in with a six-digit code or a link sent by email.",
  "Identity providers":
    "Signing in with Google, GitHub, Microsoft, Apple or any OpenID provider, and the " +
    "identities linked to an account.",
  Admin: "User management for admins: search, deactivate, reactivate, change roles.",
  Webhooks:
    "Endpoints outside Cloudflare that receive the service's events, signed per Standard " +
    "Webhooks (admin), and their delivery log.",
  Preferences: "Notification preferences of the caller.",
  "Push devices": "Push-notification device tokens of the caller.",
  "Delivery status": "The delivery-status log of notifications, reported by the delivery services.",
  Notifications: "Delivery-status log and delivery targets, for the notification services.",
  "Service lookups": "What other services ask: users by id or email, token validation.",
  Tokens: "Public keys for verifying access tokens.",
  Health: "Liveness and dependency checks.",
  Documentation: "This document and its interactive reference.",
  "Admin console":
    "The operators' web console at /admin/: its page, script and stylesheet, served by this " +
    "Worker (no CDN). It calls the Admin routes with the signed-in admin's token.",
  "Compatibility (deprecated)":
    "Paths of the replaced services, answered by the same handlers. Each answer carries " +
    "`Deprecation` and a `Link` to the canonical path.",
  "Dev tools": "Local stand-ins, only when DEV_TOOLS is on; absent (404) in production.",
} as const;

export type Tag = keyof typeof TAG_DESCRIPTIONS;

/** A route's `tags`. */
export function tags(...names: Tag[]): Tag[] {
  return names;
}

/** The document's `tags`: those in use, in the order above, with their descriptions. */
export function documentTags(used: Iterable<string>) {
  const order = Object.keys(TAG_DESCRIPTIONS);
  const rank = (tag: string) => (order.includes(tag) ? order.indexOf(tag) : order.length);
  return [...new Set(used)]
    .sort((a, b) => rank(a) - rank(b))
    .map((name) => {
      const description = TAG_DESCRIPTIONS[name as Tag];
      return description ? { name, description } : { name };
    });
}
