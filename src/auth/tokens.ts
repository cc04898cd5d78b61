/**
 * Opaque secrets (refresh tokens, one-time tokens): 256 bits from the CSPRNG, base64url, and only
 * their SHA-256 is ever stored. A fast hash is right here — unlike passwords these have full
 * entropy, so there is nothing to brute-force. Encoding is the platform's (Uint8Array's
 * `toBase64`/`toHex`).
 */

const encoder = new TextEncoder();

export function randomToken(bytes = 32): string {
  return crypto
    .getRandomValues(new Uint8Array(bytes))
    .toBase64({ alphabet: "base64url", omitPadding: true });
}

export async function sha256Hex(value: string): Promise<string> {
  return new Uint8Array(await crypto.subtle.digest("SHA-256", encoder.encode(value))).toHex();
}

/** Constant-time comparison of two strings (for service keys and similar shared secrets). */
export function timingSafeEqual(a: string, b: string): boolean {
  const left = encoder.encode(a);
  const right = encoder.encode(b);
  // Compare against itself when lengths differ so the time does not depend on where they differ.
  const same = left.byteLength === right.byteLength;
  return same
    ? crypto.subtle.timingSafeEqual(left, right)
    : !crypto.subtle.timingSafeEqual(left, left);
}
