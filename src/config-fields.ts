/**
 * How each kind of setting is read (src/config.ts names the settings): booleans, bounded
 * integers, JSON of a schema, keys, origins, networks, URLs and rate-limit policies — each with the
 * message a misconfiguration log line carries.
 */
import ipaddr from "ipaddr.js";
import { z } from "zod";

export const boolean = (fallback: boolean) =>
  z
    .enum(["true", "false", "1", "0", "yes", "no", "on", "off"], {
      error: "must be true or false",
    })
    .optional()
    .transform((v) => (v === undefined ? fallback : ["true", "1", "yes", "on"].includes(v)));

export const integer = (fallback: number, min: number, max: number) =>
  z
    .string()
    .optional()
    .transform((v, ctx) => {
      if (v === undefined || v.trim() === "") return fallback;
      const n = Number(v);
      if (!Number.isInteger(n) || n < min || n > max) {
        ctx.addIssue({ code: "custom", message: `must be an integer from ${min} to ${max}` });
        return z.NEVER;
      }
      return n;
    });

export const json = <T extends z.ZodType>(schema: T, what: string) =>
  z.string({ error: "is not set" }).transform((v, ctx): z.output<T> => {
    let parsed: unknown;
    try {
      parsed = JSON.parse(v);
    } catch {
      ctx.addIssue({ code: "custom", message: `must be ${what} as JSON` });
      return z.NEVER;
    }
    const result = schema.safeParse(parsed);
    if (!result.success) {
      ctx.addIssue({ code: "custom", message: `must be ${what}` });
      return z.NEVER;
    }
    return result.data;
  });

const publicJwk = z.object({
  kty: z.literal("EC"),
  crv: z.literal("P-256"),
  x: z.string().min(1),
  y: z.string().min(1),
  kid: z.string().min(1),
  alg: z.literal("ES256").optional(),
  use: z.literal("sig").optional(),
});
export const privateJwk = publicJwk.extend({ d: z.string().min(1) });
// A public key set that carries private material would publish the signing key: refuse it.
export const jwks = z.object({ keys: z.array(publicJwk.strict()).min(1) });

export const serviceKeys = z.string({ error: "is not set" }).transform((v, ctx) => {
  const keys: { name: string; key: string }[] = [];
  for (const pair of v
    .split(",")
    .map((p) => p.trim())
    .filter(Boolean)) {
    const at = pair.indexOf(":");
    const name = pair.slice(0, at);
    const key = pair.slice(at + 1);
    if (at <= 0 || !/^[A-Za-z0-9._-]+$/.test(name) || key.length < 12) {
      ctx.addIssue({
        code: "custom",
        message: "must be comma-separated name:key pairs, each key at least 12 characters",
      });
      return z.NEVER;
    }
    keys.push({ name, key });
  }
  return keys;
});

export const origins = z
  .string()
  .optional()
  .transform((v, ctx) => {
    const list = (v ?? "")
      .split(",")
      .map((o) => o.trim())
      .filter(Boolean);
    for (const origin of list) {
      if (origin === "*") continue;
      try {
        if (new URL(origin).origin !== origin) throw new Error();
      } catch {
        ctx.addIssue({
          code: "custom",
          message: `"${origin}" is not an origin like https://app.example.com`,
        });
        return z.NEVER;
      }
    }
    return list;
  });

/** Comma-separated CIDRs (IPv4 or IPv6); a bare address is its own /32 or /128. */
export const networks = z
  .string()
  .optional()
  .transform((v, ctx) => {
    const list: [ipaddr.IPv4 | ipaddr.IPv6, number][] = [];
    for (const entry of (v ?? "")
      .split(",")
      .map((n) => n.trim())
      .filter(Boolean)) {
      try {
        list.push(
          entry.includes("/")
            ? ipaddr.parseCIDR(entry)
            : [ipaddr.parse(entry), ipaddr.parse(entry).kind() === "ipv4" ? 32 : 128],
        );
      } catch {
        ctx.addIssue({ code: "custom", message: `"${entry}" is not a network like 10.0.0.0/8` });
        return z.NEVER;
      }
    }
    return list;
  });

export const url = (fallback: string) =>
  z
    .string()
    .optional()
    .transform((v, ctx) => {
      const value = v?.trim() || fallback;
      try {
        return new URL(value).toString().replace(/\/$/, "");
      } catch {
        ctx.addIssue({ code: "custom", message: "must be an absolute URL" });
        return z.NEVER;
      }
    });

/** A rate-limit policy: "<requests>/<window seconds>", or "off". */
export const limitPolicy = (fallback: string) =>
  z
    .string()
    .optional()
    .transform((v, ctx) => {
      const value = (v?.trim() || fallback).toLowerCase();
      if (value === "off") return null;
      const match = /^(\d+)\/(\d+)$/.exec(value);
      const limit = Number(match?.[1]);
      const windowSeconds = Number(match?.[2]);
      if (!match || limit < 1 || windowSeconds < 1 || windowSeconds > 7 * 24 * 3600) {
        ctx.addIssue({ code: "custom", message: 'must be "<requests>/<window seconds>" or "off"' });
        return z.NEVER;
      }
      return { limit, windowSeconds };
    });

export const text = (fallback: string) =>
  z
    .string()
    .optional()
    .transform((v) => v?.trim() || fallback);

/** A comma-separated list of SERVICE_KEYS names. */
export const names = z
  .string()
  .optional()
  .transform((v) =>
    (v ?? "")
      .split(",")
      .map((name) => name.trim())
      .filter(Boolean),
  );

/**
 * Second factors' settings. The passkeys' relying party defaults to APP_BASE_URL's host and
 * origin: a passkey is bound to its relying-party id for life, so set WEBAUTHN_RP_ID before the
 * first one is registered.
 */
export function mfaSettings(env: {
  APP_BASE_URL: string;
  MFA_ISSUER: string;
  MFA_REQUIRED_FOR_ADMINS: boolean;
  WEBAUTHN_RP_ID?: string | undefined;
  WEBAUTHN_RP_NAME: string;
  WEBAUTHN_ORIGINS: string[];
}) {
  const base = new URL(env.APP_BASE_URL);
  return {
    issuer: env.MFA_ISSUER,
    requiredForAdmins: env.MFA_REQUIRED_FOR_ADMINS,
    rpId: env.WEBAUTHN_RP_ID?.trim() || base.hostname,
    rpName: env.WEBAUTHN_RP_NAME,
    origins: env.WEBAUTHN_ORIGINS.length > 0 ? env.WEBAUTHN_ORIGINS : [base.origin],
  };
}
