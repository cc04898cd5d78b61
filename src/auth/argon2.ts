/**
 * Argon2id (and, for imported Django hashes, Argon2i and Argon2d) through the WebAssembly build
 * shipped by @phi-ag/argon2, imported as a module: Workers forbid compiling WebAssembly from bytes
 * at run time, so the bundler must hand us a compiled `WebAssembly.Module`.
 *
 * We call the C exports ourselves instead of using the package's JavaScript wrapper, because that
 * wrapper passes `password.length` (UTF-16 code units) as the byte length of the UTF-8 password:
 * any non-ASCII password is silently truncated, so e.g. "ab₤" verifies against a hash of "ab€".
 * Here the length is always the UTF-8 byte count (test/passwords.test.ts guards this).
 */
import argon2Module from "@phi-ag/argon2/argon2.wasm";

interface Argon2Exports {
  memory: WebAssembly.Memory;
  _initialize(): void;
  malloc(size: number): number;
  free(ptr: number): void;
  argon2_hash(
    t: number,
    m: number,
    p: number,
    pwd: number,
    pwdLen: number,
    salt: number,
    saltLen: number,
    hash: number,
    hashLen: number,
    encoded: number,
    encodedLen: number,
    type: number,
    version: number,
  ): number;
  argon2_verify(encoded: number, pwd: number, pwdLen: number, type: number): number;
  argon2_encodedlen(
    t: number,
    m: number,
    p: number,
    saltLen: number,
    hashLen: number,
    type: number,
  ): number;
}

/** The reference implementation's `argon2_type`: all three variants are compiled in. */
const ARGON2_TYPES = { argon2d: 0, argon2i: 1, argon2id: 2 } as const;
export type Argon2Type = keyof typeof ARGON2_TYPES;
const ARGON2ID = ARGON2_TYPES.argon2id;
const VERSION_13 = 0x13;
const ARGON2_OK = 0;
const SALT_BYTES = 16;
const HASH_BYTES = 32;

export interface Argon2Params {
  memoryKib: number;
  iterations: number;
  parallelism: number;
}

const encoder = new TextEncoder();
const decoder = new TextDecoder();
let instance: Argon2Exports | undefined;

function wasm(): Argon2Exports {
  if (!instance) {
    // The module's exports are untyped (WebAssembly.Exports); Argon2Exports describes the C API
    // of the build we import, which has no imports of its own.
    instance = new WebAssembly.Instance(argon2Module, {}).exports as unknown as Argon2Exports;
    instance._initialize();
  }
  return instance;
}

/** Copies bytes (NUL-terminated) into wasm memory; `release` wipes them before freeing. */
function place(exports: Argon2Exports, bytes: Uint8Array) {
  const ptr = exports.malloc(bytes.byteLength + 1);
  const heap = new Uint8Array(exports.memory.buffer);
  heap.set(bytes, ptr);
  heap[ptr + bytes.byteLength] = 0;
  return {
    ptr,
    length: bytes.byteLength,
    release() {
      new Uint8Array(exports.memory.buffer).fill(0, ptr, ptr + bytes.byteLength + 1);
      exports.free(ptr);
    },
  };
}

/** Hashes with Argon2id v1.3 and returns the PHC string `$argon2id$v=19$m=…,t=…,p=…$salt$hash`. */
export function argon2idHash(password: string, params: Argon2Params): string {
  const exports = wasm();
  const salt = crypto.getRandomValues(new Uint8Array(SALT_BYTES));
  const { iterations: t, memoryKib: m, parallelism: p } = params;
  const encodedLen = exports.argon2_encodedlen(t, m, p, SALT_BYTES, HASH_BYTES, ARGON2ID);
  const pwd = place(exports, encoder.encode(password));
  const saltPtr = place(exports, salt);
  const hashPtr = exports.malloc(HASH_BYTES);
  const encodedPtr = exports.malloc(encodedLen);
  try {
    const rc = exports.argon2_hash(
      t,
      m,
      p,
      pwd.ptr,
      pwd.length,
      saltPtr.ptr,
      SALT_BYTES,
      hashPtr,
      HASH_BYTES,
      encodedPtr,
      encodedLen,
      ARGON2ID,
      VERSION_13,
    );
    if (rc !== ARGON2_OK) throw new Error(`argon2_hash failed with code ${rc}`);
    const heap = new Uint8Array(exports.memory.buffer);
    const end = heap.indexOf(0, encodedPtr);
    return decoder.decode(heap.subarray(encodedPtr, end));
  } finally {
    pwd.release();
    saltPtr.release();
    exports.free(hashPtr);
    exports.free(encodedPtr);
  }
}

/**
 * True when `password` matches the PHC string of the given variant (`$argon2id$…`, `$argon2i$…`,
 * `$argon2d$…`; with `v=19`, or `v=16`/no version for Argon2 1.0); false for a mismatch, a
 * malformed hash or a string of another variant. The reference code compares in constant time.
 * It allocates the `m=` KiB the string asks for, and WebAssembly memory never shrinks: callers
 * bound `m` for strings they did not write (src/auth/django-hashes.ts).
 */
export function argon2Verify(encoded: string, password: string, type: Argon2Type): boolean {
  const exports = wasm();
  const enc = place(exports, encoder.encode(encoded));
  const pwd = place(exports, encoder.encode(password));
  try {
    return exports.argon2_verify(enc.ptr, pwd.ptr, pwd.length, ARGON2_TYPES[type]) === ARGON2_OK;
  } finally {
    pwd.release();
    enc.release();
  }
}

/** True when `password` matches the Argon2id PHC string; false for a mismatch or a malformed hash. */
export function argon2idVerify(encoded: string, password: string): boolean {
  return argon2Verify(encoded, password, "argon2id");
}

/**
 * Bytes of WebAssembly memory the shared instance holds now: its high-water mark, since WebAssembly
 * memory never shrinks. For the tests that bound what a verification may grow it to.
 */
export function argon2MemoryBytes(): number {
  return wasm().memory.buffer.byteLength;
}

/** The parameters recorded in an Argon2id PHC string, or null if it is not one. */
export function argon2idParams(encoded: string): Argon2Params | null {
  const match = /^\$argon2id\$v=19\$m=(\d+),t=(\d+),p=(\d+)\$[A-Za-z0-9+/]+\$[A-Za-z0-9+/]+$/.exec(
    encoded,
  );
  if (!match) return null;
  return {
    memoryKib: Number(match[1]),
    iterations: Number(match[2]),
    parallelism: Number(match[3]),
  };
}
