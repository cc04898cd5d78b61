/**
 * Example values for the OpenAPI document, shared where one object appears inside another (the
 * user object in a token pair, preferences in delivery targets). test/openapi.test.ts parses every
 * example of the document with the schema it illustrates, so none can drift from the contract.
 */
import { PREFERENCE_DEFAULTS } from "../preferences/preferences";

const USER_ID = "6f1c2b9e-3d4a-4e8f-9b1a-2c3d4e5f6a7b";
const AT = "2026-11-21T09:30:00.000Z";

export const examples = {
  userId: USER_ID,
  user: {
    id: USER_ID,
    user_id: USER_ID,
    email: "ada@example.com",
    username: "ada",
    name: "Ada Lovelace",
    role: "user",
    is_active: true,
    email_verified: true,
    push_token: null,
    preferences: { email: true, push: true },
    created_at: "2026-11-01T08:00:00.000Z",
    updated_at: AT,
    last_login_at: AT,
  },
  tokenPair: {
    access_token: "eyJhbGciOiJFUzI1NiIsImtpZCI6ImtleS0yMDI2LTExIn0.eyJzdWIiOiI2ZjFj…",
    refresh_token: "hT3xQm1vV5cZ9pL2sR8kW4nB7yD0fG6jA1eU3iO5qK8",
    token_type: "Bearer",
    expires_in: 900,
  },
  preferences: {
    ...PREFERENCE_DEFAULTS,
    quiet_hours_start: "22:00",
    quiet_hours_end: "07:00",
    timezone: "Europe/Paris",
    frequency_limit: 10,
    updated_at: AT,
  },
  pushToken: {
    id: "0b7e6f5d-4c3b-4a29-8f1e-0d9c8b7a6f5e",
    platform: "android",
    provider: "fcm",
    device_id: "pixel-9",
    device_name: "Ada's Pixel",
    is_active: true,
    last_used_at: AT,
    created_at: "2026-11-02T10:00:00.000Z",
    updated_at: AT,
  },
  session: {
    id: "9a8b7c6d-5e4f-4a3b-9c2d-1e0f9a8b7c6d",
    created_at: AT,
    last_used_at: AT,
    expires_at: "2026-12-21T09:30:00.000Z",
    ip: "203.0.113.7",
    user_agent: "Mozilla/5.0 (Macintosh; Intel Mac OS X 14_5)",
    current: true,
  },
  statusEntry: {
    id: "3c2b1a09-8f7e-4d6c-9b5a-4f3e2d1c0b9a",
    notification_id: "welcome-6f1c2b9e",
    user_id: USER_ID,
    channel: "email",
    status: "delivered",
    error: null,
    metadata: { provider: "ses" },
    created_at: AT,
    reported_by: "email-service",
  },
} as const;
