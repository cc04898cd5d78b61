/**
 * PBKDF2-HMAC-SHA256 and -SHA1 for password hashes imported from Django (`pbkdf2_sha256$…` and
 * `pbkdf2_sha1$…`, parsed in src/auth/django-hashes.ts).
 *
 * Production Workers refuse PBKDF2 above 100,000 iterations (WebCrypto and node:crypto alike) while
 * local workerd does not, so a test could pass locally and every imported user fail to log in on the
 * edge. Up to the limit we use WebCrypto (fast, native); above it our own WebAssembly implementation
 * (src/auth/wasm/pbkdf2-sha256.ts, built by src/auth/wasm/build.ts), measured 4× faster in workerd
 * than @noble/hashes' pbkdf2Async (`npm run bench:pbkdf2`, bench/RESULTS.md).
 * That module is SHA-256 only: SHA-1 above the limit goes through @noble/hashes' pbkdf2Async
 * (Django's PBKDF2SHA1PasswordHasher is rare; not worth a second module).
 * test/passwords.test.ts makes WebCrypto behave like production and fails if any path asks it for more.
 */
import { sha1 } from "@noble/hashes/legacy.js";
import { pbkdf2Async } from "@noble/hashes/pbkdf2.js";
import pbkdf2Module from "./wasm/pbkdf2-sha256.wasm";

export const WEBCRYPTO_PBKDF2_MAX_ITERATIONS = 100_000;
const KEY_BYTES = 32;
const SHA1_KEY_BYTES = 20;
/** The input buffer sizes of the WebAssembly module (src/auth/wasm/pbkdf2-sha256.ts). */
const WASM_MAX_PASSWORD_BYTES = 4096;
export const WASM_MAX_SALT_BYTES = 1024;

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

async function webCryptoPbkdf2(
  password: Uint8Array,
  salt: Uint8Array,
  iterations: number,
  hash: "SHA-256" | "SHA-1",
  keyBytes: number,
) {
  const key = await crypto.subtle.importKey("raw", password, "PBKDF2", false, ["deriveBits"]);
  const bits = await crypto.subtle.deriveBits(
    { name: "PBKDF2", hash, salt, iterations },
    key,
    keyBytes * 8,
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
    return webCryptoPbkdf2(pwd, saltBytes, iterations, "SHA-256", KEY_BYTES);
  }
  return wasmPbkdf2(pwd, saltBytes, iterations);
}

/**
 * PBKDF2-HMAC-SHA1 with a 20-byte output (Django's dklen for SHA-1): WebCrypto up to the production
 * limit, @noble/hashes above it: ~2.2 s per 1,000,000 iterations in local workerd (wrangler dev),
 * ~3× the WebAssembly SHA-256 path (bench/RESULTS.md); the caller bounds the count.
 */
export async function pbkdf2Sha1(
  password: string,
  salt: string,
  iterations: number,
): Promise<Uint8Array> {
  const pwd = encoder.encode(password);
  const saltBytes = encoder.encode(salt);
  if (iterations <= WEBCRYPTO_PBKDF2_MAX_ITERATIONS) {
    return webCryptoPbkdf2(pwd, saltBytes, iterations, "SHA-1", SHA1_KEY_BYTES);
  }
  return pbkdf2Async(sha1, pwd, saltBytes, { c: iterations, dkLen: SHA1_KEY_BYTES });
}
