/**
 * Authenticator-app codes (RFC 6238 TOTP with the parameters every app reads: HMAC-SHA-1, six
 * digits, 30-second steps), computed by the `otpauth` library; the QR code of the enrolment URI by
 * `uqr` (pure JavaScript, renders SVG). A code is accepted within one step either side of now, for
 * clocks that drift; which step it matched is returned so a code is never accepted twice.
 */
import { Secret, TOTP } from "otpauth";
import { renderSVG } from "uqr";

const TOTP_PERIOD_SECONDS = 30;
const TOTP_DIGITS = 6;
const CODE = /^\d{6}$/;

function totp(secret: string, label = "account", issuer = "") {
  return new TOTP({
    issuer,
    label,
    algorithm: "SHA1",
    digits: TOTP_DIGITS,
    period: TOTP_PERIOD_SECONDS,
    secret: Secret.fromBase32(secret),
  });
}

/** A new secret: 160 bits from the CSPRNG (RFC 4226's recommended length), base32. */
export function newTotpSecret(): string {
  return new Secret({ size: 20 }).base32;
}

/** What an authenticator app scans: the otpauth:// URI, and its QR code as SVG. */
export function totpEnrolment(secret: string, account: string, issuer: string) {
  const uri = totp(secret, account, issuer).toString();
  return { otpauth_uri: uri, qr_svg: renderSVG(uri) };
}

/** The time step `code` is right for, within one step of `now` (ms), or null. */
export function totpStep(secret: string, code: string, now: number): number | null {
  if (!CODE.test(code)) return null;
  const delta = totp(secret).validate({ token: code, timestamp: now, window: 1 });
  return delta === null ? null : Math.floor(now / 1000 / TOTP_PERIOD_SECONDS) + delta;
}
