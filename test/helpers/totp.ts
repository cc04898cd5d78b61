/**
 * RFC 6238 TOTP computed here, apart from the service's implementation (WebCrypto HMAC-SHA-1, the
 * RFC's dynamic truncation), so the tests check the service against the standard, not itself.
 */
import { expect } from "vitest";
import { call, type Envelope } from "./api";
import type { TestUser } from "./users";

const BASE32 = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";

export function base32Decode(text: string): Uint8Array {
  let bits = 0;
  let value = 0;
  const out: number[] = [];
  for (const char of text.replace(/=+$/, "").toUpperCase()) {
    value = (value << 5) | BASE32.indexOf(char);
    bits += 5;
    if (bits >= 8) {
      out.push((value >>> (bits - 8)) & 255);
      bits -= 8;
    }
  }
  return new Uint8Array(out);
}

/** The code for `key` at `atMs`, with `digits` digits (RFC 6238 with SHA-1). */
export async function totp(key: Uint8Array, atMs: number, digits = 6): Promise<string> {
  const counter = Math.floor(atMs / 1000 / 30);
  const message = new Uint8Array(8);
  new DataView(message.buffer).setBigUint64(0, BigInt(counter));
  const hmacKey = await crypto.subtle.importKey(
    "raw",
    new Uint8Array(key),
    { name: "HMAC", hash: "SHA-1" },
    false,
    ["sign"],
  );
  const mac = new Uint8Array(await crypto.subtle.sign("HMAC", hmacKey, message));
  const offset = (mac[19] ?? 0) & 15;
  const binary =
    (((mac[offset] ?? 0) & 127) << 24) |
    ((mac[offset + 1] ?? 0) << 16) |
    ((mac[offset + 2] ?? 0) << 8) |
    (mac[offset + 3] ?? 0);
  return String(binary % 10 ** digits).padStart(digits, "0");
}

export const codeFor = (secret: string, atMs = Date.now()) => totp(base32Decode(secret), atMs);

export interface Enrolled {
  secret: string;
  factorId: string;
  recoveryCodes: string[];
  /** The aal2 access token the verification returned. */
  aal2Token: string;
}

/** Adds an authenticator app to a freshly registered user, through the API. */
export async function enrolTotp(user: TestUser): Promise<Enrolled> {
  const enrol = await call<Envelope<{ factor_id: string; secret: string }>>(
    "POST",
    "/auth/mfa/totp/",
    {
      token: user.access_token,
      body: {},
    },
  );
  expect(enrol.status, enrol.text).toBe(201);
  const { factor_id, secret } = enrol.body.data;
  const verify = await call<Envelope<{ recovery_codes: string[]; access_token: string }>>(
    "POST",
    "/auth/mfa/totp/verify/",
    { token: user.access_token, body: { factor_id, code: await codeFor(secret) } },
  );
  expect(verify.status, verify.text).toBe(200);
  return {
    secret,
    factorId: factor_id,
    recoveryCodes: verify.body.data.recovery_codes,
    aal2Token: verify.body.data.access_token,
  };
}
