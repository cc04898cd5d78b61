/**
 * Event contracts (DESIGN §6): one envelope, one zod schema per event type. Producers validate what
 * they write to the outbox; consumers `safeParse` what they receive with the same schemas.
 */
import { z } from "zod";
import { PLATFORMS, PROVIDERS } from "../db/schema";

/** The integer id an imported user had in the Django service it came from; only when it had one. */
const legacyId = { legacy_id: z.number().int().positive().optional() };

const userFields = {
  user_id: z.uuid(),
  email: z.email(),
  username: z.string().nullable(),
  name: z.string(),
  ...legacyId,
};

/** An email the email service should send, with a single-use token and the link that carries it. */
const tokenMailFields = {
  user_id: z.uuid(),
  email: z.email(),
  name: z.string(),
  token: z.string(),
  link: z.url(),
  expires_at: z.iso.datetime(),
};

/** Who a second-factor event is about, enough for the email service to tell them. */
const mfaFields = { user_id: z.uuid(), email: z.email(), name: z.string(), ...legacyId };

/** An identity at a provider, as events name it (never its tokens). */
const identityFields = {
  user_id: z.uuid(),
  email: z.email(),
  provider: z.string(),
  identity_id: z.uuid(),
  ...legacyId,
};

const eventDataSchemas = {
  "user.created": z.object(userFields),
  "user.updated": z.object({
    ...userFields,
    /** Names of the user-object fields that changed. */
    changed: z.array(z.string()).min(1),
  }),
  "user.deactivated": z.object({
    user_id: z.uuid(),
    email: z.email(),
    reason: z.enum(["self", "admin"]),
    ...legacyId,
  }),
  /**
   * A user brought over from a replaced Django service (POST /api/v1/admin/users/import/), in place
   * of `user.created`: nothing should greet or mail them as new.
   */
  "user.imported": z.object({
    ...userFields,
    is_active: z.boolean(),
    email_verified: z.boolean(),
    role: z.enum(["user", "admin"]),
  }),
  "user.email_verification_requested": z.object(tokenMailFields),
  "user.password_reset_requested": z.object(tokenMailFields),
  /**
   * A sign-in code and link for the email service to send (POST /api/v1/auth/otp/). `user_id` is
   * null when the address has no account yet and sign-up by code is on.
   */
  "user.sign_in_code_requested": z.object({
    user_id: z.uuid().nullable(),
    email: z.email(),
    name: z.string(),
    code: z.string().regex(/^\d{6}$/),
    token: z.string(),
    link: z.url(),
    expires_at: z.iso.datetime(),
  }),
  "identity.linked": z.object(identityFields),
  "identity.unlinked": z.object(identityFields),
  "user.password_changed": z.object({
    user_id: z.uuid(),
    email: z.email(),
    name: z.string(),
    reason: z.enum(["change", "reset"]),
    ...legacyId,
  }),
  /**
   * Someone tried to register an email that already has an account, while registration answers
   * the same whether or not it exists: the owner is told instead (and can log in or reset).
   */
  "user.duplicate_registration": z.object({
    user_id: z.uuid(),
    email: z.email(),
    name: z.string(),
    login_link: z.url(),
    reset_link: z.url(),
  }),
  "preferences.updated": z.object({
    user_id: z.uuid(),
    /** Names of the preference fields that changed. */
    changed: z.array(z.string()).min(1),
    /** The whole preferences object after the change. */
    preferences: z.record(z.string(), z.unknown()),
  }),
  "push_token.added": z.object({
    user_id: z.uuid(),
    push_token_id: z.uuid(),
    platform: z.enum(PLATFORMS),
    provider: z.enum(PROVIDERS),
    device_id: z.string().nullable(),
    device_name: z.string().nullable(),
  }),
  "push_token.removed": z.object({
    user_id: z.uuid(),
    push_token_id: z.uuid(),
    platform: z.enum(PLATFORMS),
    /** deleted by the user, deactivated, moved to another user's account, or reported invalid. */
    reason: z.enum(["deleted", "deactivated", "moved", "invalid"]),
  }),
  /** A webhook endpoint failed for WEBHOOK_DISABLE_AFTER_HOURS without a success: it is off. */
  "webhook.endpoint_disabled": z.object({
    endpoint_id: z.uuid(),
    url: z.string(),
    failing_since: z.iso.datetime(),
    last_error: z.string().nullable(),
  }),
  "security.refresh_token_reused": z.object({
    user_id: z.uuid(),
    session_id: z.uuid(),
    ip: z.string().nullable(),
    user_agent: z.string().nullable(),
  }),
  /** A second factor was added (the first one turns multi-factor sign-in on). */
  "security.mfa_enabled": z.object({
    ...mfaFields,
    factor_id: z.uuid(),
    factor_type: z.enum(["totp", "webauthn"]),
  }),
  /** A factor was removed by its user; `remaining` 0 means sign-in needs the password alone. */
  "security.mfa_disabled": z.object({
    ...mfaFields,
    factor_id: z.uuid(),
    factor_type: z.enum(["totp", "webauthn"]),
    remaining: z.number().int().nonnegative(),
  }),
  /** An admin removed all of the user's factors and ended their sessions; the user should be told. */
  "security.mfa_reset": z.object({
    ...mfaFields,
    /** The admin's user id, or `service:<name>` for an operator's tool (ADMIN_SERVICES). */
    by: z.string(),
  }),
} as const;

export type EventType = keyof typeof eventDataSchemas;
export const EVENT_TYPES = Object.keys(eventDataSchemas) as EventType[];
export type EventData<T extends EventType> = z.infer<(typeof eventDataSchemas)[T]>;

/**
 * Fields that are secrets: once an event is published they are blanked in the stored outbox row,
 * so a token lives in D1 only until the email service has it.
 */
export const SECRET_FIELDS: Partial<Record<EventType, readonly string[]>> = {
  "user.email_verification_requested": ["token", "link"],
  "user.password_reset_requested": ["token", "link"],
  "user.sign_in_code_requested": ["code", "token", "link"],
};

export const EVENT_VERSION = 1;

/** The envelope schema for one event type. */
export function eventSchema<T extends EventType>(type: T) {
  return z.object({
    id: z.uuid(),
    type: z.literal(type),
    version: z.literal(EVENT_VERSION),
    occurred_at: z.iso.datetime(),
    correlation_id: z.string().min(1),
    data: eventDataSchemas[type],
  });
}

export type EventEnvelope<T extends EventType> = z.infer<ReturnType<typeof eventSchema<T>>>;

/** Any event of the catalogue, told apart by `type` — what a consumer of USER_EVENTS parses. */
export const anyEventSchema = z.discriminatedUnion("type", [
  eventSchema("user.created"),
  eventSchema("user.updated"),
  eventSchema("user.deactivated"),
  eventSchema("user.imported"),
  eventSchema("user.email_verification_requested"),
  eventSchema("user.password_reset_requested"),
  eventSchema("user.sign_in_code_requested"),
  eventSchema("identity.linked"),
  eventSchema("identity.unlinked"),
  eventSchema("user.password_changed"),
  eventSchema("user.duplicate_registration"),
  eventSchema("preferences.updated"),
  eventSchema("push_token.added"),
  eventSchema("push_token.removed"),
  eventSchema("security.refresh_token_reused"),
  eventSchema("security.mfa_enabled"),
  eventSchema("security.mfa_disabled"),
  eventSchema("security.mfa_reset"),
  eventSchema("webhook.endpoint_disabled"),
]);

export type AnyEvent = z.infer<typeof anyEventSchema>;
