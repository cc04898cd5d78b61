/**
 * The tables of passwordless and federated sign-in (README: Sign-in by email code, Sign-in with
 * an identity provider), beside schema.ts's (drizzle.config.ts lists every schema file). As
 * elsewhere, secrets the service only needs to recognise are stored as their SHA-256, and a row a
 * request uses up carries that request's `claim` (src/mfa/guard.ts).
 */
import { index, integer, sqliteTable, text, uniqueIndex } from "drizzle-orm/sqlite-core";
import { users } from "./schema";

const timestamp = (name: string) => integer(name, { mode: "timestamp_ms" });
const flag = (name: string) => integer(name, { mode: "boolean" });

/**
 * A six-digit code and a link mailed to an address (`POST /auth/otp/`). `userId` is null when the
 * address had no account and sign-up by code is on: the account is made when the code is used.
 */
export const emailCodes = sqliteTable(
  "email_codes",
  {
    id: text("id").primaryKey(),
    email: text("email").notNull(),
    userId: text("user_id").references(() => users.id, { onDelete: "cascade" }),
    /** SHA-256 of the row's id and the code: a code is only ever compared within its own row. */
    codeHash: text("code_hash").notNull(),
    /** SHA-256 of the link's 256-bit token. */
    linkHash: text("link_hash").notNull(),
    /** Wrong codes typed against this row; at the cap the code is dead. */
    attempts: integer("attempts").notNull().default(0),
    expiresAt: timestamp("expires_at").notNull(),
    usedAt: timestamp("used_at"),
    claim: text("claim"),
    createdAt: timestamp("created_at").notNull(),
  },
  (t) => [
    index("email_codes_email_idx").on(t.email, t.createdAt),
    uniqueIndex("email_codes_link_unique").on(t.linkHash),
    index("email_codes_expires_at_idx").on(t.expiresAt),
  ],
);

/** An account's sign-ins at identity providers: one row per provider and subject. */
export const identities = sqliteTable(
  "identities",
  {
    id: text("id").primaryKey(),
    userId: text("user_id")
      .notNull()
      .references(() => users.id, { onDelete: "cascade" }),
    /** The provider's id in OAUTH_PROVIDERS. */
    provider: text("provider").notNull(),
    /** The provider's stable id of the user (`sub`; GitHub's numeric id). */
    subject: text("subject").notNull(),
    email: text("email"),
    emailVerified: flag("email_verified").notNull().default(false),
    createdAt: timestamp("created_at").notNull(),
    lastSignInAt: timestamp("last_sign_in_at"),
  },
  (t) => [
    uniqueIndex("identities_provider_subject_unique").on(t.provider, t.subject),
    index("identities_user_idx").on(t.userId),
  ],
);

/**
 * One authorization request in flight (`GET /auth/oauth/{provider}/authorize`), keyed by the
 * SHA-256 of its `state`. It holds the PKCE verifier and nonce, where to send the user back, and
 * the hash of the cookie that binds it to the browser that started it. Once the provider's
 * callback is handled, a token-mode flow keeps the outcome here for `POST /auth/oauth/token/`.
 */
export const oauthStates = sqliteTable(
  "oauth_states",
  {
    id: text("id").primaryKey(),
    provider: text("provider").notNull(),
    bindingHash: text("binding_hash").notNull(),
    codeVerifier: text("code_verifier").notNull(),
    nonce: text("nonce").notNull(),
    redirectTo: text("redirect_to").notNull(),
    /** "token": the app exchanges a code for the token pair; "cookie": a browser session. */
    sessionMode: text("session_mode", { enum: ["token", "cookie"] }).notNull(),
    /** Set when a signed-in user links this provider to their account. */
    linkUserId: text("link_user_id").references(() => users.id, { onDelete: "cascade" }),
    expiresAt: timestamp("expires_at").notNull(),
    /** When the callback used the state (once). */
    usedAt: timestamp("used_at"),
    /** Token mode: the account the callback signed in, and the hash of the code handed back. */
    userId: text("user_id").references(() => users.id, { onDelete: "cascade" }),
    exchangeHash: text("exchange_hash"),
    exchangedAt: timestamp("exchanged_at"),
    /**
     * A link: the identity the provider vouched for, kept until the signed-in user confirms it
     * (`POST /auth/identities/confirm/`) — a link is finished only by the user who started it.
     */
    profile: text("profile", { mode: "json" }).$type<{
      subject: string;
      email: string | null;
      emailVerified: boolean;
      name: string | null;
    }>(),
    /** The app's own PKCE challenge (S256), if it sent one: the exchange must then show its verifier. */
    appChallenge: text("app_challenge"),
    claim: text("claim"),
    createdAt: timestamp("created_at").notNull(),
  },
  (t) => [
    uniqueIndex("oauth_states_exchange_unique").on(t.exchangeHash),
    index("oauth_states_expires_at_idx").on(t.expiresAt),
  ],
);
