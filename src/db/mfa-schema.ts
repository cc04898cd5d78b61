/**
 * The tables of second factors (README: Second factors), beside schema.ts's (drizzle.config.ts
 * lists both). Secrets are stored as their SHA-256 where the service only needs to recognise them
 * (recovery codes, challenge tokens); a TOTP secret must be read back to compute codes, and a
 * passkey's public key is public.
 */
import { sql } from "drizzle-orm";
import { check, index, integer, sqliteTable, text, uniqueIndex } from "drizzle-orm/sqlite-core";
import { users } from "./schema";

const timestamp = (name: string) => integer(name, { mode: "timestamp_ms" });
const oneOf = (values: readonly string[]) => sql.raw(values.map((v) => `'${v}'`).join(", "));
/**
 * The random id of the request that last used the row (a code's step, a challenge, a counter): the
 * rest of that request's batch is guarded on it, so of two concurrent uses exactly one commits
 * anything (src/mfa/guard.ts).
 */
const claimColumn = () => text("claim");

export const FACTOR_TYPES = ["totp", "webauthn"] as const;
export type FactorType = (typeof FACTOR_TYPES)[number];
export const FACTOR_STATUSES = ["pending", "active"] as const;

export const mfaFactors = sqliteTable(
  "mfa_factors",
  {
    id: text("id").primaryKey(),
    userId: text("user_id")
      .notNull()
      .references(() => users.id, { onDelete: "cascade" }),
    type: text("type", { enum: FACTOR_TYPES }).notNull(),
    /** A TOTP factor is pending until a code from it was verified; a passkey is active at once. */
    status: text("status", { enum: FACTOR_STATUSES }).notNull(),
    name: text("name"),
    /** TOTP: the base32 secret, and the last time step accepted (a code is good once). */
    totpSecret: text("totp_secret"),
    totpLastStep: integer("totp_last_step"),
    /** WebAuthn: the credential's id and COSE public key (base64url), and its signature counter. */
    credentialId: text("credential_id"),
    publicKey: text("public_key"),
    signCount: integer("sign_count"),
    transports: text("transports", { mode: "json" }).$type<string[]>(),
    createdAt: timestamp("created_at").notNull(),
    verifiedAt: timestamp("verified_at"),
    lastUsedAt: timestamp("last_used_at"),
    claim: claimColumn(),
  },
  (t) => [
    index("mfa_factors_user_idx").on(t.userId, t.status),
    uniqueIndex("mfa_factors_credential_unique").on(t.credentialId),
    check("mfa_factors_type_check", sql`${t.type} IN (${oneOf(FACTOR_TYPES)})`),
    check("mfa_factors_status_check", sql`${t.status} IN (${oneOf(FACTOR_STATUSES)})`),
  ],
);

/** Ten single-use codes per user, replaced as a set; only their SHA-256 is kept. */
export const mfaRecoveryCodes = sqliteTable(
  "mfa_recovery_codes",
  {
    codeHash: text("code_hash").primaryKey(),
    userId: text("user_id")
      .notNull()
      .references(() => users.id, { onDelete: "cascade" }),
    usedAt: timestamp("used_at"),
    createdAt: timestamp("created_at").notNull(),
    claim: claimColumn(),
  },
  (t) => [index("mfa_recovery_codes_user_idx").on(t.userId)],
);

export const CHALLENGE_PURPOSES = [
  "mfa_login",
  "webauthn_registration",
  "passkey_login",
  "step_up",
] as const;
export type ChallengePurpose = (typeof CHALLENGE_PURPOSES)[number];

/**
 * Short-lived, single-use challenges: the `mfa_token` of a login waiting for its second factor
 * (its id is the token's SHA-256), and the WebAuthn challenges of a passkey registration, a step-up or a
 * passwordless sign-in.
 */
export const authChallenges = sqliteTable(
  "auth_challenges",
  {
    id: text("id").primaryKey(),
    purpose: text("purpose", { enum: CHALLENGE_PURPOSES }).notNull(),
    userId: text("user_id").references(() => users.id, { onDelete: "cascade" }),
    /** The WebAuthn challenge (base64url) an authenticator must sign. */
    challenge: text("challenge"),
    /** An `mfa_login`'s context: the login's device id, so its device proof is renewed. */
    context: text("context", { mode: "json" }).$type<Record<string, unknown>>(),
    /** Wrong codes shown against it; at MFA_CODE_ATTEMPTS it is dead. */
    failures: integer("failures").notNull().default(0),
    expiresAt: timestamp("expires_at").notNull(),
    usedAt: timestamp("used_at"),
    createdAt: timestamp("created_at").notNull(),
    claim: claimColumn(),
  },
  (t) => [
    index("auth_challenges_expires_at_idx").on(t.expiresAt),
    check("auth_challenges_purpose_check", sql`${t.purpose} IN (${oneOf(CHALLENGE_PURPOSES)})`),
  ],
);

export type FactorRow = typeof mfaFactors.$inferSelect;
export type ChallengeRow = typeof authChallenges.$inferSelect;
