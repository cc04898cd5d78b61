/**
 * PBKDF2-HMAC-SHA256 for password hashes imported from Django (`pbkdf2_sha256$<iterations>$<salt>$<hash>`).
 *
 * Production Workers refuse PBKDF2 above 100,000 iterations (WebCrypto and node:crypto alike) while
 * local workerd does not, so a test could pass locally and every imported user fail to log in on the
 * edge. Up to the limit we use WebCrypto (fast, native); above it our own WebAssembly implementation
 * (src/auth/wasm/pbkdf2-sha256.ts, built by src/auth/wasm/build.ts), measured 4× faster in workerd
 * than @noble/hashes' pbkdf2Async (`npm run bench:pbkdf2`, bench/RESULTS.md).
 * test/passwords.test.ts makes WebCrypto behave like production and fails if any path asks it for more.
 */
import pbkdf2Module from "./wasm/pbkdf2-sha256.wasm";

export const WEBCRYPTO_PBKDF2_MAX_ITERATIONS = 100_000;
/** Refuse absurd counts from a corrupted or hostile stored hash instead of burning CPU on them. */
const MAX_ITERATIONS = 10_000_000;
const KEY_BYTES = 32;
/** The input buffer sizes of the WebAssembly module (src/auth/wasm/pbkdf2-sha256.ts). */
const WASM_MAX_PASSWORD_BYTES = 4096;
const WASM_MAX_SALT_BYTES = 1024;

interface Pbkdf2Exports {
  memory: WebAssembly.Memory;
  inputPointer(): number;
  outputPointer(): number;
  derive(passwordLen: number, saltLen: number, iterations: number, keyLen: number): number;
}

const encoder = new TextEncoder();
let instance: Pbkdf2Exports | undefined;

function wasm(): Pbkdf2Exports {
  // Exports are untyped (WebAssembly.Exports); Pbkdf2Exports is the module's own API.
  instance ??= new WebAssembly.Instance(pbkdf2Module, {}).exports as unknown as Pbkdf2Exports;
  return instance;
}

function wasmPbkdf2(password: Uint8Array, salt: Uint8Array, iterations: number): Uint8Array {
  // Checked before copying: an oversized input would overwrite the module's other data.
  if (password.byteLength > WASM_MAX_PASSWORD_BYTES || salt.byteLength > WASM_MAX_SALT_BYTES) {
    throw new RangeError("pbkdf2 input too long");
  }
  const exports = wasm();
  const input = exports.inputPointer();
  const heap = new Uint8Array(exports.memory.buffer);
  heap.set(password, input);
  heap.set(salt, input + password.byteLength);
  try {
    const rc = exports.derive(password.byteLength, salt.byteLength, iterations, KEY_BYTES);
    if (rc !== 0) throw new Error("pbkdf2 input too long");
    const output = exports.outputPointer();
    return heap.slice(output, output + KEY_BYTES);
  } finally {
    heap.fill(0, input, input + password.byteLength + salt.byteLength);
  }
}

async function webCryptoPbkdf2(password: Uint8Array, salt: Uint8Array, iterations: number) {
  const key = await crypto.subtle.importKey("raw", password, "PBKDF2", false, ["deriveBits"]);
  const bits = await crypto.subtle.deriveBits(
    { name: "PBKDF2", hash: "SHA-256", salt, iterations },
    key,
    KEY_BYTES * 8,
  );
  return new Uint8Array(bits);
}

/** PBKDF2-HMAC-SHA256 with a 32-byte output, choosing the implementation production accepts. */
export async function pbkdf2Sha256(
  password: string,
  salt: string,
  iterations: number,
): Promise<Uint8Array> {
  const pwd = encoder.encode(password);
  const saltBytes = encoder.encode(salt);
  if (iterations <= WEBCRYPTO_PBKDF2_MAX_ITERATIONS) {
    return webCryptoPbkdf2(pwd, saltBytes, iterations);
  }
  return wasmPbkdf2(pwd, saltBytes, iterations);
}

const DJANGO_PBKDF2 = /^pbkdf2_sha256\$(\d{1,8})\$([^$]{1,1024})\$([A-Za-z0-9+/]{43}=)$/;

export function isDjangoPbkdf2(encoded: string): boolean {
  return DJANGO_PBKDF2.test(encoded);
}

/** Verifies a Django `pbkdf2_sha256$…` hash in constant time. */
export async function verifyDjangoPbkdf2(encoded: string, password: string): Promise<boolean> {
  const match = DJANGO_PBKDF2.exec(encoded);
  if (!match) return false;
  const [, rounds, salt, expected] = match;
  const iterations = Number(rounds);
  if (!salt || !expected || iterations < 1 || iterations > MAX_ITERATIONS) return false;
  let derived: Uint8Array;
  try {
    derived = await pbkdf2Sha256(password, salt, iterations);
  } catch (err) {
    if (err instanceof RangeError) return false;
    throw err;
  }
  // Django stores standard base64 with padding, which is toBase64's default.
  const actual = encoder.encode(derived.toBase64());
  const wanted = encoder.encode(expected);
  return actual.byteLength === wanted.byteLength && crypto.subtle.timingSafeEqual(actual, wanted);
}
