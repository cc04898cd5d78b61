/**
 * Vars and secrets, parsed once per isolate with their defaults. A missing or malformed setting
 * fails the request with a 500 `misconfigured` and a log line naming the setting — never a silent
 * fallback for a secret.
 */
import { z } from "zod";
import {
  boolean,
  integer,
  json,
  jwks,
  limitPolicy,
  mfaSettings,
  names,
  networks,
  origins,
  privateJwk,
  serviceKeys,
  text,
  url,
} from "./config-fields";
import { productionRefusals } from "./config-refusals";
import { oauthProviders, signInSettings } from "./config-sign-in";
import { ApiError } from "./errors";
import { log } from "./logging";

const configSchema = z
  .object({
    /** "production" unless the configuration says otherwise: the strict checks are the default. */
    ENVIRONMENT: z
      .enum(["production", "local"], { error: 'must be "production" or "local"' })
      .optional()
      .transform((v) => v ?? "production"),
    ACCESS_TOKEN_LIFETIME_MINUTES: integer(15, 1, 24 * 60),
    REFRESH_TOKEN_LIFETIME_DAYS: integer(30, 1, 365),
    REFRESH_TOKEN_REUSE_GRACE_SECONDS: integer(10, 0, 300),
    EMAIL_VERIFICATION_TOKEN_LIFETIME_HOURS: integer(24, 1, 24 * 14),
    PASSWORD_RESET_TOKEN_LIFETIME_MINUTES: integer(60, 5, 24 * 60),
    JWT_ISSUER: text("user-service"),
    JWT_AUDIENCE: text("user-service"),
    JWT_PRIVATE_KEY: json(privateJwk, "an EC P-256 private JWK with a kid"),
    JWT_PUBLIC_KEYS: z
      .string()
      .optional()
      .transform((v, ctx) => {
        if (v === undefined || v.trim() === "") return undefined;
        const parsed = json(jwks, "a JWKS of EC P-256 public keys").safeParse(v);
        if (!parsed.success) {
          ctx.addIssue({ code: "custom", message: parsed.error.issues[0]?.message ?? "invalid" });
          return z.NEVER;
        }
        return parsed.data;
      }),
    SERVICE_KEYS: serviceKeys,
    CORS_ORIGINS: origins,
    REQUIRE_EMAIL_VERIFICATION: boolean(false),
    APP_BASE_URL: url("http://localhost:8787"),
    DEV_TOOLS: boolean(false),
    LEGACY_CALLER_NETWORKS: networks,
    LEGACY_CALLER_MTLS: boolean(false),
    IMPORT_SERVICES: names,
    ADMIN_SERVICES: names,
    PASSWORD_HASH_MEMORY_KIB: integer(19_456, 1_024, 131_072),
    PASSWORD_HASH_ITERATIONS: integer(2, 1, 10),
    PASSWORD_HASH_PARALLELISM: integer(1, 1, 4),
    RATE_LIMIT_REGISTER_IP: limitPolicy("5/3600"),
    RATE_LIMIT_LOGIN_IP: limitPolicy("30/300"),
    RATE_LIMIT_LOGIN_ACCOUNT: limitPolicy("10/300"),
    RATE_LIMIT_LOGIN_ACCOUNT_CEILING: limitPolicy("300/3600"),
    RATE_LIMIT_LOGIN_DEVICE: limitPolicy("10/300"),
    RATE_LIMIT_RESET_IP: limitPolicy("5/3600"),
    RATE_LIMIT_RESET_EMAIL: limitPolicy("3/3600"),
    RATE_LIMIT_VERIFY_RESEND_USER: limitPolicy("3/3600"),
    RATE_LIMIT_GLOBAL_IP: limitPolicy("300/60"),
    RATE_LIMIT_MFA_ACCOUNT: limitPolicy("10/900"),
    RATE_LIMIT_MFA_IP: limitPolicy("30/900"),
    MFA_ISSUER: text("User service"),
    MFA_REQUIRED_FOR_ADMINS: boolean(false),
    WEBAUTHN_RP_ID: z.string().optional(),
    WEBAUTHN_RP_NAME: text("User service"),
    WEBAUTHN_ORIGINS: origins,
    EMAIL_CODE_LIFETIME_MINUTES: integer(10, 1, 60),
    EMAIL_CODE_SIGN_UP: boolean(false),
    RATE_LIMIT_OTP_EMAIL: limitPolicy("5/3600"),
    RATE_LIMIT_OTP_IP: limitPolicy("20/3600"),
    RATE_LIMIT_OTP_VERIFY_EMAIL: limitPolicy("10/900"),
    RATE_LIMIT_OTP_VERIFY_IP: limitPolicy("30/900"),
    RATE_LIMIT_OAUTH_IP: limitPolicy("60/300"),
    OAUTH_PROVIDERS: oauthProviders,
    OAUTH_REDIRECT_ORIGINS: origins,
    COOKIE_SESSIONS: boolean(false),
    COOKIE_ORIGINS: origins,
    WEBHOOK_TIMEOUT_SECONDS: integer(10, 1, 30),
    WEBHOOK_DISABLE_AFTER_HOURS: integer(120, 1, 24 * 30),
  })
  .transform((env, ctx) => {
    const refused = productionRefusals(env);
    for (const [setting, message] of refused) {
      ctx.addIssue({ code: "custom", path: [setting], message });
    }
    if (refused.length > 0) return z.NEVER;
    const signing = env.JWT_PRIVATE_KEY;
    const { d: _secret, ...signingPublic } = signing;
    const publicKeys = env.JWT_PUBLIC_KEYS?.keys ?? [signingPublic];
    const listed = publicKeys.find((k) => k.kid === signing.kid);
    if (!listed || listed.x !== signing.x || listed.y !== signing.y) {
      ctx.addIssue({
        code: "custom",
        path: ["JWT_PUBLIC_KEYS"],
        message: `must include the public half of JWT_PRIVATE_KEY (kid "${signing.kid}")`,
      });
      return z.NEVER;
    }
    return {
      environment: env.ENVIRONMENT,
      accessTokenTtlSeconds: env.ACCESS_TOKEN_LIFETIME_MINUTES * 60,
      refreshTokenTtlSeconds: env.REFRESH_TOKEN_LIFETIME_DAYS * 24 * 60 * 60,
      refreshReuseGraceSeconds: env.REFRESH_TOKEN_REUSE_GRACE_SECONDS,
      oneTimeTokenTtlMs: {
        email_verification: env.EMAIL_VERIFICATION_TOKEN_LIFETIME_HOURS * 60 * 60 * 1000,
        password_reset: env.PASSWORD_RESET_TOKEN_LIFETIME_MINUTES * 60 * 1000,
      },
      jwt: {
        issuer: env.JWT_ISSUER,
        audience: env.JWT_AUDIENCE,
        signingKey: signing,
        publicKeys: publicKeys.map((k) => ({ ...k, alg: "ES256" as const, use: "sig" as const })),
      },
      serviceKeys: env.SERVICE_KEYS,
      corsOrigins: env.CORS_ORIGINS,
      requireEmailVerification: env.REQUIRE_EMAIL_VERIFICATION,
      appBaseUrl: env.APP_BASE_URL,
      devTools: env.DEV_TOOLS,
      /** Who may call the legacy read paths without a service key (README: Compatibility). */
      legacyCallers: { networks: env.LEGACY_CALLER_NETWORKS, mtls: env.LEGACY_CALLER_MTLS },
      /** Services (by their SERVICE_KEYS name) whose key may import users. */
      importServices: env.IMPORT_SERVICES,
      /** Services whose key may call the admin routes (operators' tools: `npm run admin`). */
      adminServices: env.ADMIN_SERVICES,
      rateLimits: {
        "register-ip": env.RATE_LIMIT_REGISTER_IP,
        "login-ip": env.RATE_LIMIT_LOGIN_IP,
        /** Password attempts on an account from one client network (login and re-authentication). */
        "login-account": env.RATE_LIMIT_LOGIN_ACCOUNT,
        /** Password attempts on an account from all networks but proven devices. */
        "login-ceiling": env.RATE_LIMIT_LOGIN_ACCOUNT_CEILING,
        /** Password attempts on an account from one device that signed in to it before. */
        "login-device": env.RATE_LIMIT_LOGIN_DEVICE,
        "reset-ip": env.RATE_LIMIT_RESET_IP,
        "reset-email": env.RATE_LIMIT_RESET_EMAIL,
        "resend-user": env.RATE_LIMIT_VERIFY_RESEND_USER,
        "global-ip": env.RATE_LIMIT_GLOBAL_IP,
        /** Second-factor attempts (codes, recovery codes, passkeys) on one account. */
        "mfa-account": env.RATE_LIMIT_MFA_ACCOUNT,
        "mfa-ip": env.RATE_LIMIT_MFA_IP,
        /** Emailed codes sent to one address, and from one client network. */
        "otp-email": env.RATE_LIMIT_OTP_EMAIL,
        "otp-ip": env.RATE_LIMIT_OTP_IP,
        /** Codes typed for one address (every code of it), and from one client network. */
        "otp-verify-email": env.RATE_LIMIT_OTP_VERIFY_EMAIL,
        "otp-verify-ip": env.RATE_LIMIT_OTP_VERIFY_IP,
        /** Sign-ins with an identity provider started or finished from one client network. */
        "oauth-ip": env.RATE_LIMIT_OAUTH_IP,
      },
      ...signInSettings(env),
      mfa: mfaSettings(env),
      webhooks: {
        /** How long one delivery attempt may take before it counts as failed. */
        timeoutMs: env.WEBHOOK_TIMEOUT_SECONDS * 1000,
        /** An endpoint failing this long without a success is disabled. */
        disableAfterMs: env.WEBHOOK_DISABLE_AFTER_HOURS * 60 * 60 * 1000,
      },
      passwordHash: {
        memoryKib: env.PASSWORD_HASH_MEMORY_KIB,
        iterations: env.PASSWORD_HASH_ITERATIONS,
        parallelism: env.PASSWORD_HASH_PARALLELISM,
      },
    };
  });

export type Config = z.output<typeof configSchema>;

const parsed = new WeakMap<object, Config>();

/**
 * The configuration these settings make, or every problem with them, each naming its setting and
 * never its value (some are secrets). `npm start` runs this too before it serves
 * (scripts/check-config.ts, which bundles this file: hence @public).
 * @public
 */
export function readConfig(
  env: Record<string, unknown>,
): { config: Config; problems?: never } | { config?: never; problems: string[] } {
  const result = configSchema.safeParse(env);
  if (result.success) return { config: result.data };
  return {
    problems: result.error.issues.map(
      (issue) => `${issue.path.join(".") || "config"} ${issue.message}`,
    ),
  };
}

/**
 * The parsed configuration for these bindings. Throws ApiError `misconfigured` naming every bad
 * setting in the log.
 */
export function getConfig(env: Env): Config {
  const cached = parsed.get(env);
  if (cached) return cached;
  const { config, problems } = readConfig(env as unknown as Record<string, unknown>);
  if (!config) {
    log("error", "misconfigured", { settings: problems });
    throw new ApiError("misconfigured", "The service is misconfigured");
  }
  parsed.set(env, config);
  return config;
}

/** By key material: configurations with the same keys (vars aside) share one check. */
const keysChecked = new Map<string, Promise<void>>();
/** By parsed configuration (one per env), so a request pays no serialisation to find its check. */
const checkOf = new WeakMap<Config, Promise<void>>();

/**
 * The configuration, with its signing keys tried once per isolate: unusable key material is a
 * `misconfigured` before any request does work, not a 500 halfway through one.
 */
export async function getCheckedConfig(env: Env): Promise<Config> {
  const config = getConfig(env);
  let checked = checkOf.get(config);
  if (!checked) {
    const material = JSON.stringify([config.jwt.signingKey, config.jwt.publicKeys]);
    checked = keysChecked.get(material);
    if (!checked) {
      checked = signingKeyProblems(config).then((problems) => {
        if (problems.length === 0) return;
        log("error", "misconfigured", { settings: problems });
        throw new ApiError("misconfigured", "The service is misconfigured");
      });
      keysChecked.set(material, checked);
    }
    checkOf.set(config, checked);
  }
  await checked;
  return config;
}

/**
 * What is wrong with the signing keys that their JSON shape does not show: coordinates off the
 * curve, a private half that does not match its public one, bad base64. Imports the keys and signs
 * and verifies once, with WebCrypto (the same in workerd and Node). Also run by `npm start`.
 * @public
 */
export async function signingKeyProblems(config: Config): Promise<string[]> {
  const algorithm = { name: "ECDSA", namedCurve: "P-256", hash: "SHA-256" };
  const data = new TextEncoder().encode("user-service key check");
  let signature: ArrayBuffer;
  try {
    const key = await crypto.subtle.importKey("jwk", config.jwt.signingKey, algorithm, false, [
      "sign",
    ]);
    signature = await crypto.subtle.sign(algorithm, key, data);
  } catch {
    return ["JWT_PRIVATE_KEY is not a usable EC P-256 private key"];
  }
  const problems: string[] = [];
  for (const jwk of config.jwt.publicKeys) {
    try {
      const { alg: _alg, use: _use, ...material } = jwk;
      const key = await crypto.subtle.importKey("jwk", material, algorithm, false, ["verify"]);
      const own = jwk.kid === config.jwt.signingKey.kid;
      if (own && !(await crypto.subtle.verify(algorithm, key, signature, data))) {
        problems.push(`JWT_PUBLIC_KEYS kid "${jwk.kid}" is not the public half of JWT_PRIVATE_KEY`);
      }
    } catch {
      problems.push(`JWT_PUBLIC_KEYS kid "${jwk.kid}" is not a usable EC P-256 public key`);
    }
  }
  return problems;
}
