/**
 * Settings of the sign-ins beyond passwords (README: Sign-in by email code, Sign-in with an
 * identity provider, Browser sessions), read like every other setting (src/config.ts).
 *
 * OAUTH_PROVIDERS is a JSON array. Each entry has an `id` (the {provider} of the routes), a
 * `client_id` and `client_secret`, and either a `preset` (google, github, microsoft, apple) or the
 * `issuer` of any OpenID provider, whose discovery document names everything else.
 */
import { z } from "zod";
import { json } from "./config-fields";

const PRESETS = ["google", "github", "microsoft", "apple"] as const;

const providerEntry = z
  .object({
    id: z.string().regex(/^[a-z0-9][a-z0-9_-]{0,31}$/),
    name: z.string().min(1).max(64).optional(),
    preset: z.enum(PRESETS).optional(),
    issuer: z.url().optional(),
    /** Microsoft: the directory (tenant) id, or "consumers" / "organizations" are not accepted. */
    tenant: z
      .string()
      .regex(/^[0-9a-f-]{36}$/i)
      .optional(),
    client_id: z.string().min(1),
    client_secret: z.string().min(1),
    scopes: z
      .array(z.string().regex(/^[\x21-\x7e]+$/))
      .max(20)
      .optional(),
    /**
     * Whether a verified email from this provider may sign in to an existing account with that
     * email (and link to it). Only for providers that own the addresses they verify.
     */
    trust_email: z.boolean().optional(),
    token_auth: z.enum(["client_secret_basic", "client_secret_post"]).optional(),
  })
  .strict();

type ProviderKind = "oidc" | "github";

export interface OAuthProvider {
  id: string;
  name: string;
  kind: ProviderKind;
  /** OpenID providers: the issuer whose discovery document is read. */
  issuer: string | null;
  clientId: string;
  clientSecret: string;
  scopes: string[];
  trustEmail: boolean;
  responseMode: "query" | "form_post";
  tokenAuth: "client_secret_basic" | "client_secret_post";
  /** Plain http is accepted for an issuer on this machine only (local providers, tests). */
  allowInsecure: boolean;
}

const OIDC_SCOPES = ["openid", "email", "profile"];

const LOOPBACK = new Set(["127.0.0.1", "localhost", "[::1]"]);

function provider(entry: z.output<typeof providerEntry>): OAuthProvider | string {
  const base = {
    id: entry.id,
    clientId: entry.client_id,
    clientSecret: entry.client_secret,
    tokenAuth: entry.token_auth ?? ("client_secret_basic" as const),
    responseMode: "query" as const,
    allowInsecure: false,
  };
  switch (entry.preset) {
    case "google":
      return {
        ...base,
        name: entry.name ?? "Google",
        kind: "oidc",
        issuer: "https://accounts.google.com",
        scopes: entry.scopes ?? OIDC_SCOPES,
        trustEmail: entry.trust_email ?? true,
      };
    case "github":
      return {
        ...base,
        name: entry.name ?? "GitHub",
        kind: "github",
        issuer: null,
        scopes: entry.scopes ?? ["read:user", "user:email"],
        trustEmail: entry.trust_email ?? true,
      };
    case "microsoft":
      // The multi-tenant endpoints' issuer names a placeholder, not the tenant that signs: the
      // id_token's issuer cannot be checked against it, so a tenant is required.
      if (!entry.tenant) return `provider "${entry.id}": the microsoft preset needs a tenant id`;
      return {
        ...base,
        name: entry.name ?? "Microsoft",
        kind: "oidc",
        issuer: `https://login.microsoftonline.com/${entry.tenant}/v2.0`,
        scopes: entry.scopes ?? OIDC_SCOPES,
        // Microsoft accounts' email claim is not verified by Microsoft.
        trustEmail: entry.trust_email ?? false,
      };
    case "apple":
      return {
        ...base,
        name: entry.name ?? "Apple",
        kind: "oidc",
        issuer: "https://appleid.apple.com",
        // Apple posts the answer back when name or email is asked for.
        scopes: entry.scopes ?? ["openid", "email", "name"],
        responseMode: "form_post",
        tokenAuth: "client_secret_post",
        trustEmail: entry.trust_email ?? true,
      };
    default: {
      if (!entry.issuer) return `provider "${entry.id}": needs a preset or an issuer`;
      const issuer = new URL(entry.issuer);
      const local = LOOPBACK.has(issuer.hostname);
      if (issuer.protocol !== "https:" && !(issuer.protocol === "http:" && local)) {
        return `provider "${entry.id}": the issuer must be https (http only on this machine)`;
      }
      return {
        ...base,
        name: entry.name ?? entry.id,
        kind: "oidc",
        issuer: entry.issuer.replace(/\/$/, ""),
        scopes: entry.scopes ?? OIDC_SCOPES,
        trustEmail: entry.trust_email ?? false,
        allowInsecure: issuer.protocol === "http:",
      };
    }
  }
}

/** OAUTH_PROVIDERS: unset or empty means no identity providers. */
export const oauthProviders = z
  .string()
  .optional()
  .transform((v, ctx): OAuthProvider[] => {
    if (v === undefined || v.trim() === "") return [];
    const parsed = json(
      z.array(providerEntry).max(20),
      "an array of providers (id, client_id, client_secret, preset or issuer)",
    ).safeParse(v);
    if (!parsed.success) {
      ctx.addIssue({ code: "custom", message: parsed.error.issues[0]?.message ?? "invalid" });
      return z.NEVER;
    }
    const providers: OAuthProvider[] = [];
    for (const entry of parsed.data) {
      const made = provider(entry);
      if (typeof made === "string") {
        ctx.addIssue({ code: "custom", message: made });
        return z.NEVER;
      }
      if (providers.some((p) => p.id === made.id)) {
        ctx.addIssue({ code: "custom", message: `provider "${made.id}" is listed twice` });
        return z.NEVER;
      }
      providers.push(made);
    }
    return providers;
  });

/** The sign-in part of the configuration. */
export function signInSettings(env: {
  EMAIL_CODE_LIFETIME_MINUTES: number;
  EMAIL_CODE_SIGN_UP: boolean;
  OAUTH_PROVIDERS: OAuthProvider[];
  OAUTH_REDIRECT_ORIGINS: string[];
  APP_BASE_URL: string;
  COOKIE_SESSIONS: boolean;
  COOKIE_ORIGINS: string[];
}) {
  const app = new URL(env.APP_BASE_URL).origin;
  return {
    emailCodes: {
      ttlMs: env.EMAIL_CODE_LIFETIME_MINUTES * 60 * 1000,
      signUp: env.EMAIL_CODE_SIGN_UP,
    },
    oauth: {
      providers: env.OAUTH_PROVIDERS,
      /** Where a sign-in may send the user back: these origins, and APP_BASE_URL's. */
      redirectOrigins: [...new Set([app, ...env.OAUTH_REDIRECT_ORIGINS])],
    },
    cookies: {
      enabled: env.COOKIE_SESSIONS,
      /** Origins whose scripts may call with credentials (CORS) and send unsafe requests. */
      origins: env.COOKIE_ORIGINS,
    },
  };
}
