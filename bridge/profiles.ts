/**
 * What the out side publishes for one of the service's events, per profile. Pure functions: the
 * HTTP receiver (outbound.ts) verifies, the profile decides, the publisher publishes.
 */

/** The service's event envelope (DESIGN §6), as far as routing needs it. */
export interface Envelope {
  id: string;
  type: string;
  data: Record<string, unknown>;
}

export type Route =
  | { kind: "publish"; routingKey: string; body: string }
  /** Not for this profile: answered 204, the service counts it delivered. */
  | { kind: "ignore"; reason: string }
  /** For this profile, but it cannot be published faithfully: answered 202, logged. */
  | { kind: "skip"; reason: "skipped_no_integer_id" }
  /** Signed by the service, yet not what the profile's contract needs. */
  | { kind: "malformed"; reason: string };

/** Where the payment service reads `user.created` (a durable topic exchange). */
export const PAYMENT_EXCHANGE = "events";
const PAYMENT_ROUTING_KEY = "user.created";

/** The envelope, or null when the value is not one. */
export function envelopeOf(value: unknown): Envelope | null {
  if (value === null || typeof value !== "object" || Array.isArray(value)) return null;
  const { id, type, data } = value as Record<string, unknown>;
  if (typeof id !== "string" || id === "" || typeof type !== "string" || type === "") return null;
  if (data === null || typeof data !== "object" || Array.isArray(data)) return null;
  return { id, type, data: data as Record<string, unknown> };
}

/**
 * The payment service's contract, as the Django user service published it: only `user.created`,
 * body exactly `{"user_id": <integer>, "username": "…", "email": "…"}`. `user_id` is the integer
 * id the service keeps as `legacy_id` (imported users keep their Django id, new users get the next
 * one). `username` falls back to the email when the user has none: Django's username was never
 * null, and the email is as unique as it was.
 */
export function paymentRoute(envelope: Envelope): Route {
  if (envelope.type !== PAYMENT_ROUTING_KEY) return { kind: "ignore", reason: "not user.created" };
  const { legacy_id: userId, username, email } = envelope.data;
  if (typeof email !== "string" || (username !== null && typeof username !== "string")) {
    return { kind: "malformed", reason: "user.created without an email or with a bad username" };
  }
  if (!Number.isSafeInteger(userId) || (userId as number) < 1) {
    return { kind: "skip", reason: "skipped_no_integer_id" };
  }
  return {
    kind: "publish",
    routingKey: PAYMENT_ROUTING_KEY,
    body: JSON.stringify({ user_id: userId, username: username ?? email, email }),
  };
}

/** Every event, routing key = its type, body = the envelope exactly as the service signed it. */
export function genericRoute(envelope: Envelope, raw: string): Route {
  return { kind: "publish", routingKey: envelope.type, body: raw };
}
