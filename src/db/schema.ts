/**
 * Every table of the service (DESIGN §4). This file is the single source for `migrations/`
 * (`npm run db:generate`). Times are integer milliseconds since the epoch, always computed in the
 * Worker and passed as parameters, so one clock decides expiry everywhere.
 */
import { sql } from "drizzle-orm";
import { check, index, integer, sqliteTable, text, uniqueIndex } from "drizzle-orm/sqlite-core";

const timestamp = (name: string) => integer(name, { mode: "timestamp_ms" });
const flag = (name: string) => integer(name, { mode: "boolean" });
/** SQL `IN (...)` list of a closed set of string values, for CHECK constraints. */
const oneOf = (values: readonly string[]) => sql.raw(values.map((v) => `'${v}'`).join(", "));

export const ROLES = ["user", "admin"] as const;
export type Role = (typeof ROLES)[number];

export const users = sqliteTable(
  "users",
  {
    id: text("id").primaryKey(),
    /**
     * The user's integer id, for systems that key users by integers (the payment service's
     * `user_id`): the primary key an imported user had in its Django service, or the next free
     * one, given at registration.
     */
    legacyId: integer("legacy_id"),
    /** Lower-cased and trimmed before it is stored; stays taken after deactivation. */
    email: text("email").notNull(),
    username: text("username"),
    /**
     * The username as uniqueness sees it: NFKC-normalised and lower-cased in the Worker, because
     * SQLite's lower() folds ASCII only ("Émile" and "émile" would both be accepted).
     */
    usernameKey: text("username_key"),
    name: text("name").notNull().default(""),
    /** As the replaced services stored them; `name` is derived from them when not given. */
    firstName: text("first_name"),
    lastName: text("last_name"),
    passwordHash: text("password_hash").notNull(),
    role: text("role", { enum: ROLES }).notNull().default("user"),
    isActive: flag("is_active").notNull().default(true),
    emailVerifiedAt: timestamp("email_verified_at"),
    /** Primary device token, kept for clients of the replaced services. */
    pushToken: text("push_token"),
    createdAt: timestamp("created_at").notNull(),
    updatedAt: timestamp("updated_at").notNull(),
    lastLoginAt: timestamp("last_login_at"),
    deletedAt: timestamp("deleted_at"),
  },
  (t) => [
    uniqueIndex("users_email_unique").on(t.email),
    // Usernames are unique regardless of case, but stored as the user typed them.
    uniqueIndex("users_username_key_unique").on(t.usernameKey),
    uniqueIndex("users_legacy_id_unique").on(t.legacyId),
    index("users_created_at_idx").on(t.createdAt),
    check("users_role_check", sql`${t.role} IN (${oneOf(ROLES)})`),
  ],
);

/**
 * One row per user, created with the user. Its keys are the API's field names (snake_case, like
 * the columns): the fields are listed here once, and the API's schemas, defaults and column
 * mapping are derived from this table (src/preferences/preferences.ts).
 */
export const preferences = sqliteTable("preferences", {
  user_id: text("user_id")
    .primaryKey()
    .references(() => users.id, { onDelete: "cascade" }),
  /** Channel switches. */
  email: flag("email").notNull().default(true),
  push: flag("push").notNull().default(true),
  /** Categories per channel. */
  email_marketing: flag("email_marketing").notNull().default(false),
  email_transactional: flag("email_transactional").notNull().default(true),
  email_security: flag("email_security").notNull().default(true),
  email_system: flag("email_system").notNull().default(true),
  push_marketing: flag("push_marketing").notNull().default(false),
  push_transactional: flag("push_transactional").notNull().default(true),
  push_security: flag("push_security").notNull().default(true),
  push_system: flag("push_system").notNull().default(true),
  /** "HH:MM" in `timezone`; both set or both null. */
  quiet_hours_start: text("quiet_hours_start"),
  quiet_hours_end: text("quiet_hours_end"),
  timezone: text("timezone").notNull().default("UTC"),
  /** Maximum pushes per rolling 24 hours. */
  frequency_limit: integer("frequency_limit").notNull().default(50),
  updated_at: timestamp("updated_at").notNull(),
});

export const PLATFORMS = ["web", "android", "ios"] as const;
export const PROVIDERS = ["fcm", "apns", "webpush"] as const;

export const pushTokens = sqliteTable(
  "push_tokens",
  {
    id: text("id").primaryKey(),
    userId: text("user_id")
      .notNull()
      .references(() => users.id, { onDelete: "cascade" }),
    /** Write-only: never returned by the API. One token value belongs to one user. */
    token: text("token").notNull(),
    platform: text("platform", { enum: PLATFORMS }).notNull(),
    provider: text("provider", { enum: PROVIDERS }).notNull(),
    deviceId: text("device_id"),
    deviceName: text("device_name"),
    isActive: flag("is_active").notNull().default(true),
    lastUsedAt: timestamp("last_used_at"),
    createdAt: timestamp("created_at").notNull(),
    updatedAt: timestamp("updated_at").notNull(),
  },
  (t) => [
    uniqueIndex("push_tokens_token_unique").on(t.token),
    uniqueIndex("push_tokens_device_unique").on(t.userId, t.deviceId, t.platform),
    index("push_tokens_user_idx").on(t.userId, t.isActive),
    check("push_tokens_platform_check", sql`${t.platform} IN (${oneOf(PLATFORMS)})`),
    check("push_tokens_provider_check", sql`${t.provider} IN (${oneOf(PROVIDERS)})`),
  ],
);

/** Authenticator assurance levels (NIST SP 800-63B): a password or one factor; two factors. */
export const AALS = ["aal1", "aal2"] as const;
export type Aal = (typeof AALS)[number];

export const sessions = sqliteTable(
  "sessions",
  {
    /** The `sid` claim of every access token issued for this session. */
    id: text("id").primaryKey(),
    userId: text("user_id")
      .notNull()
      .references(() => users.id, { onDelete: "cascade" }),
    /** SHA-256 of the current refresh token; the token itself is never stored. */
    refreshTokenHash: text("refresh_token_hash").notNull(),
    /** SHA-256 of the token it replaced, kept to tell a lost response from a replay. */
    previousRefreshTokenHash: text("previous_refresh_token_hash"),
    rotatedAt: timestamp("rotated_at"),
    /** Absolute end of the session; rotation does not extend it. */
    expiresAt: timestamp("expires_at").notNull(),
    revokedAt: timestamp("revoked_at"),
    revokedReason: text("revoked_reason"),
    createdAt: timestamp("created_at").notNull(),
    lastUsedAt: timestamp("last_used_at").notNull(),
    ip: text("ip"),
    userAgent: text("user_agent"),
    /**
     * How the session was authenticated (README: Second factors): `aal2` once a second factor was
     * shown, and the methods (`amr`); both go into every access token the session issues.
     */
    aal: text("aal", { enum: AALS }).notNull().default("aal1"),
    amr: text("amr", { mode: "json" }).$type<string[]>().notNull().default(["pwd"]),
    /** When its user last proved who they are (sign-in, re-authentication, step-up). */
    authenticatedAt: timestamp("authenticated_at"),
  },
  (t) => [
    uniqueIndex("sessions_refresh_token_hash_unique").on(t.refreshTokenHash),
    index("sessions_previous_refresh_token_hash_idx").on(t.previousRefreshTokenHash),
    index("sessions_user_idx").on(t.userId, t.revokedAt),
    index("sessions_expires_at_idx").on(t.expiresAt),
  ],
);

/**
 * Every refresh token a session has issued (hashes only). Rotation needs just the current and the
 * previous hash, but recognising *any* earlier token of a live session is what turns a replay of a
 * stolen token into a revoked session, however many rotations happened since.
 */
export const refreshTokens = sqliteTable(
  "refresh_tokens",
  {
    tokenHash: text("token_hash").primaryKey(),
    sessionId: text("session_id")
      .notNull()
      .references(() => sessions.id, { onDelete: "cascade" }),
    issuedAt: timestamp("issued_at").notNull(),
  },
  (t) => [index("refresh_tokens_session_idx").on(t.sessionId)],
);

export const TOKEN_PURPOSES = ["email_verification", "password_reset"] as const;
export type TokenPurpose = (typeof TOKEN_PURPOSES)[number];

export const oneTimeTokens = sqliteTable(
  "one_time_tokens",
  {
    id: text("id").primaryKey(),
    userId: text("user_id")
      .notNull()
      .references(() => users.id, { onDelete: "cascade" }),
    purpose: text("purpose", { enum: TOKEN_PURPOSES }).notNull(),
    /**
     * The address the token was mailed to. Using it proves control of that address only: once the
     * account's email differs, the token is dead.
     */
    email: text("email").notNull(),
    /** SHA-256 of the token; the token only travels in the event to the email service. */
    tokenHash: text("token_hash").notNull(),
    expiresAt: timestamp("expires_at").notNull(),
    usedAt: timestamp("used_at"),
    createdAt: timestamp("created_at").notNull(),
  },
  (t) => [
    uniqueIndex("one_time_tokens_hash_unique").on(t.tokenHash),
    index("one_time_tokens_user_purpose_idx").on(t.userId, t.purpose),
    index("one_time_tokens_expires_at_idx").on(t.expiresAt),
    check("one_time_tokens_purpose_check", sql`${t.purpose} IN (${oneOf(TOKEN_PURPOSES)})`),
  ],
);

export const CHANNELS = ["email", "push"] as const;
export const DELIVERY_STATUSES = [
  "pending",
  "queued",
  "sent",
  "delivered",
  "failed",
  "skipped",
] as const;

export const notificationStatus = sqliteTable(
  "notification_status",
  {
    id: text("id").primaryKey(),
    notificationId: text("notification_id").notNull(),
    userId: text("user_id"),
    channel: text("channel", { enum: CHANNELS }).notNull(),
    status: text("status", { enum: DELIVERY_STATUSES }).notNull(),
    error: text("error"),
    /** JSON object. */
    metadata: text("metadata", { mode: "json" }).$type<Record<string, unknown>>(),
    createdAt: timestamp("created_at").notNull(),
    /** The service (or consumer) that reported this status. */
    reportedBy: text("reported_by"),
    /**
     * Set by the push-request consumer: one status per (notification, device, outcome), so a
     * redelivered request never records twice.
     */
    dedupeKey: text("dedupe_key"),
    /** The producer's own ids of the request, so it finds its statuses by whichever it has. */
    requestId: text("request_id"),
    correlationId: text("correlation_id"),
  },
  (t) => [
    uniqueIndex("notification_status_dedupe_unique").on(t.dedupeKey),
    index("notification_status_request_idx").on(t.requestId),
    index("notification_status_correlation_idx").on(t.correlationId),
    index("notification_status_notification_idx").on(t.notificationId, t.createdAt),
    index("notification_status_user_idx").on(t.userId, t.createdAt),
    // The admin console lists failed deliveries of everyone, newest first.
    index("notification_status_status_idx").on(t.status, t.createdAt),
    check("notification_status_channel_check", sql`${t.channel} IN (${oneOf(CHANNELS)})`),
    check("notification_status_status_check", sql`${t.status} IN (${oneOf(DELIVERY_STATUSES)})`),
  ],
);

export const OUTBOX_DESTINATIONS = ["user-events", "push-delivery"] as const;
export type OutboxDestination = (typeof OUTBOX_DESTINATIONS)[number];

export const outbox = sqliteTable(
  "outbox",
  {
    /** Equal to the event (or job) id, so consumers can deduplicate. */
    id: text("id").primaryKey(),
    /** The queue the row is published to. */
    destination: text("destination", { enum: OUTBOX_DESTINATIONS })
      .notNull()
      .default("user-events"),
    type: text("type").notNull(),
    /** The whole event envelope as JSON, exactly as it will be sent. */
    payload: text("payload").notNull(),
    createdAt: timestamp("created_at").notNull(),
    publishedAt: timestamp("published_at"),
    attempts: integer("attempts").notNull().default(0),
    /** A publisher's lease: while in the future, no other publisher sends this row. */
    lockedUntil: timestamp("locked_until"),
  },
  (t) => [index("outbox_unpublished_idx").on(t.publishedAt, t.createdAt)],
);

/**
 * Push requests taken in over HTTP (POST /api/v1/push/requests/), by notification id: a request
 * posted again is answered `duplicate` instead of being queued twice. Purged after a week.
 */
export const pushIngress = sqliteTable(
  "push_ingress",
  {
    notificationId: text("notification_id").primaryKey(),
    receivedAt: timestamp("received_at").notNull(),
    /** The service that posted it. */
    receivedFrom: text("received_from"),
  },
  (t) => [index("push_ingress_received_at_idx").on(t.receivedAt)],
);

/**
 * Webhook endpoints outside Cloudflare (admin API, src/webhooks/): every event whose type the
 * endpoint subscribes to is delivered to it, signed per Standard Webhooks with its secret.
 */
export const WEBHOOK_DISABLED_REASONS = ["admin", "failing"] as const;

export const webhookEndpoints = sqliteTable("webhook_endpoints", {
  id: text("id").primaryKey(),
  url: text("url").notNull(),
  description: text("description"),
  /** JSON array of event types, or `["*"]` for every event but the ones carrying tokens. */
  eventTypes: text("event_types", { mode: "json" }).$type<string[]>().notNull(),
  /** `whsec_` + base64: shown once, at creation; needed to sign every delivery. */
  secret: text("secret").notNull(),
  enabled: flag("enabled").notNull().default(true),
  disabledReason: text("disabled_reason", { enum: WEBHOOK_DISABLED_REASONS }),
  /** Set at the first failed attempt after a success; the endpoint is disabled when it is old. */
  failingSince: timestamp("failing_since"),
  createdAt: timestamp("created_at").notNull(),
  updatedAt: timestamp("updated_at").notNull(),
});

export const WEBHOOK_DELIVERY_STATUSES = [
  "pending",
  "retrying",
  "succeeded",
  "dead",
  "cancelled",
] as const;
export type WebhookDeliveryStatus = (typeof WEBHOOK_DELIVERY_STATUSES)[number];

/** One event for one endpoint: the delivery log, and what a re-delivery sends again. */
export const webhookDeliveries = sqliteTable(
  "webhook_deliveries",
  {
    /** The `webhook-id` header: the same on every attempt, so receivers can deduplicate. */
    id: text("id").primaryKey(),
    endpointId: text("endpoint_id")
      .notNull()
      .references(() => webhookEndpoints.id, { onDelete: "cascade" }),
    eventId: text("event_id").notNull(),
    eventType: text("event_type").notNull(),
    /** The envelope as sent; token fields are blanked once it has been delivered. */
    payload: text("payload").notNull(),
    status: text("status", { enum: WEBHOOK_DELIVERY_STATUSES }).notNull().default("pending"),
    attempts: integer("attempts").notNull().default(0),
    /** HTTP status of the last attempt, null when it got no answer (timeout, network). */
    lastStatus: integer("last_status"),
    lastError: text("last_error"),
    /** How long the last attempt took, in milliseconds. */
    latencyMs: integer("latency_ms"),
    createdAt: timestamp("created_at").notNull(),
    updatedAt: timestamp("updated_at").notNull(),
    deliveredAt: timestamp("delivered_at"),
  },
  (t) => [
    uniqueIndex("webhook_deliveries_event_unique").on(t.endpointId, t.eventId),
    index("webhook_deliveries_endpoint_idx").on(t.endpointId, t.createdAt),
    check(
      "webhook_deliveries_status_check",
      sql`${t.status} IN (${oneOf(WEBHOOK_DELIVERY_STATUSES)})`,
    ),
  ],
);

export const auditLog = sqliteTable(
  "audit_log",
  {
    id: text("id").primaryKey(),
    /** Null when the action could not be tied to an account (e.g. a login for an unknown email). */
    userId: text("user_id"),
    action: text("action").notNull(),
    ip: text("ip"),
    userAgent: text("user_agent"),
    /** JSON object; never a password, token or hash. */
    metadata: text("metadata", { mode: "json" }).$type<Record<string, unknown>>(),
    createdAt: timestamp("created_at").notNull(),
  },
  (t) => [index("audit_log_user_idx").on(t.userId, t.createdAt)],
);

export type UserRow = typeof users.$inferSelect;
export type PreferencesRow = typeof preferences.$inferSelect;
export type SessionRow = typeof sessions.$inferSelect;
export type PushTokenRow = typeof pushTokens.$inferSelect;
