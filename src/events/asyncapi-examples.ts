/**
 * The AsyncAPI document's examples (asyncapi.ts): one per event type, with a one-line summary, and
 * one per push-pipeline message. Typed by the contracts, so an example that no longer fits its
 * schema does not compile (test/asyncapi.test.ts also parses each one).
 */
import type { z } from "zod";
import type { EventData, EventType } from "./contracts";
import {
  type deadLetterSchema,
  PUSH_JOB_VERSION,
  type PushDeliveryJob,
  type PushRequest,
} from "./push-messages";

const USER_ID = "3f0c1a8e-5b7d-4c2a-9e61-0d4b8f2a7c11";
const DEVICE_ID = "9a1d4c2e-7b3f-4e8a-b5d1-2c6f8e0a3b47";
const FACTOR_ID = "6b1e2d3c-4f5a-4b6c-9d7e-8f9a0b1c2d3e";
export const AT = "2026-11-21T10:00:00.000Z";
const APP = "https://app.example.com";
const ada = { user_id: USER_ID, email: "ada@example.com", name: "Ada Lovelace" };
const adaUser = { ...ada, username: "ada", legacy_id: 42 };
const totp = { ...ada, factor_id: FACTOR_ID, factor_type: "totp" } as const;
const device = { user_id: USER_ID, push_token_id: DEVICE_ID, platform: "ios" } as const;

/** One line on each event type, and the `data` of its example (typed, so it fits the schema). */
export const EVENTS: { [T in EventType]: { summary: string; data: EventData<T> } } = {
  "user.created": { summary: "A user registered.", data: adaUser },
  "user.updated": {
    summary: "Fields of the user object changed (`changed` names them).",
    data: { ...adaUser, changed: ["name"] },
  },
  "user.deactivated": {
    summary: "A user's account was deactivated, by themselves or an admin.",
    data: { user_id: USER_ID, email: ada.email, reason: "self", legacy_id: 42 },
  },
  "user.imported": {
    summary: "A user brought over from the Django service, instead of `user.created`.",
    data: { ...adaUser, is_active: true, email_verified: true, role: "user" },
  },
  "user.email_verification_requested": {
    summary: "The email service should send this verification link.",
    data: { ...ada, token: "q3Jx9v", link: `${APP}/verify-email?token=q3Jx9v`, expires_at: AT },
  },
  "user.password_reset_requested": {
    summary: "The email service should send this password-reset link.",
    data: { ...ada, token: "r7Hm4p", link: `${APP}/reset-password?token=r7Hm4p`, expires_at: AT },
  },
  "user.sign_in_code_requested": {
    summary: "The email service should send this sign-in code and link (null user: a new account).",
    data: {
      ...ada,
      code: "482913",
      token: "s2Kd8w",
      link: `${APP}/sign-in/code?token=s2Kd8w`,
      expires_at: AT,
    },
  },
  "identity.linked": {
    summary:
      "An account was linked to an identity at a provider (a sign-in with it, or by choice).",
    data: { user_id: USER_ID, email: ada.email, provider: "google", identity_id: USER_ID },
  },
  "identity.unlinked": {
    summary: "A user unlinked an identity; it no longer signs in to their account.",
    data: { user_id: USER_ID, email: ada.email, provider: "google", identity_id: USER_ID },
  },
  "user.password_changed": {
    summary: "A user's password was changed or reset; their other sessions ended.",
    data: { ...ada, reason: "reset", legacy_id: 42 },
  },
  "user.duplicate_registration": {
    summary: "Someone tried to register an email that has an account; its owner is told.",
    data: { ...ada, login_link: `${APP}/login`, reset_link: `${APP}/forgot-password` },
  },
  "preferences.updated": {
    summary: "A user's notification preferences changed (`preferences`: the whole object after).",
    data: {
      user_id: USER_ID,
      changed: ["quiet_hours_start", "quiet_hours_end"],
      preferences: { push: true, quiet_hours_start: "22:00", quiet_hours_end: "07:00" },
    },
  },
  "push_token.added": {
    summary: "A push device was registered (never with its token).",
    data: { ...device, provider: "apns", device_id: "iphone-15", device_name: "Ada's phone" },
  },
  "push_token.removed": {
    summary: "A push device was removed: deleted, deactivated, moved or reported invalid.",
    data: { ...device, reason: "invalid" },
  },
  "security.refresh_token_reused": {
    summary: "A rotated refresh token was presented again: the session was ended.",
    data: {
      user_id: USER_ID,
      session_id: "7e2b5f1a-3c4d-4e6f-8a9b-0c1d2e3f4a5b",
      ip: "203.0.113.7",
      user_agent: "Mozilla/5.0",
    },
  },
  "security.mfa_enabled": { summary: "A second factor was added.", data: totp },
  "security.mfa_disabled": {
    summary: "A user removed a second factor (`remaining` 0: the password alone signs in).",
    data: { ...totp, remaining: 0 },
  },
  "security.mfa_reset": {
    summary: "An admin removed every factor of a user and ended their sessions.",
    data: { ...ada, by: "9d2a7c4e-1b3f-4a5d-8e6f-7a8b9c0d1e2f" },
  },
  "webhook.endpoint_disabled": {
    summary: "A webhook endpoint failed for WEBHOOK_DISABLE_AFTER_HOURS and was switched off.",
    data: {
      endpoint_id: "3b1f5e7a-9c2d-4e4f-a6b8-c0d2e4f6a8b0",
      url: "https://hooks.example.com/x",
      failing_since: AT,
      last_error: "HTTP 503",
    },
  },
};

export const pushRequest: PushRequest = {
  notification_id: "n-1",
  user_id: USER_ID,
  template_code: "welcome",
  variables: { name: "Ada" },
  priority: "normal",
  category: "transactional",
  metadata: {},
};

export const deliveryJob: PushDeliveryJob = {
  job_id: "d4c3b2a1-9f8e-5d7c-8b6a-1f2e3d4c5b6a",
  version: PUSH_JOB_VERSION,
  notification_id: "n-1",
  request_id: null,
  correlation_id: null,
  created_at: AT,
  user: { id: USER_ID, name: ada.name, email: ada.email },
  device: { id: DEVICE_ID, token: "fcm-registration-token", platform: "android", provider: "fcm" },
  request: pushRequest,
  original: pushRequest,
};

export const deadLetter: z.infer<typeof deadLetterSchema> = {
  dead_letter: { reason: "unknown user", failed_at: AT, notification_id: "n-1", user_id: USER_ID },
  message: pushRequest,
};
