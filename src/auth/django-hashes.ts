/**
 * Password hashes made by Django's hashers (django.contrib.auth.hashers), for users imported from
 * the replaced service: which ones this Worker can check, and checking them.
 *
 * Every parameter comes from a stored string we did not write, so each is bounded before any work:
 * a string asking for more (iterations, cost, memory) than a login can afford is "must_reset", never
 * computed. What Django would compare, we compare in constant time (bcryptjs and the Argon2
 * reference code do so themselves). A successful check is always followed by a rehash to our
 * Argon2id (src/auth/passwords.ts), so these paths only ever run once per imported user.
 */
import { scrypt } from "@noble/hashes/scrypt.js";
import bcrypt from "bcryptjs";
import { type Argon2Type, argon2Verify } from "./argon2";
import { pbkdf2Sha1, pbkdf2Sha256, WASM_MAX_SALT_BYTES } from "./pbkdf2";

/** What a stored hash is for a login here, as the importer reports it. */
export interface PasswordHashClassification {
  /**
   * verifiable: `verifyPassword` checks it. unusable: no password can match (Django's `!…`, empty).
   * must_reset: a password was set, but this Worker will not check it (unsupported or unaffordable).
   */
  kind: "verifiable" | "unusable" | "must_reset";
  /** Django's algorithm name (`pbkdf2_sha256`, `argon2`, …), `argon2id` for our own, or `unknown`. */
  format: string;
  /** Why it cannot be verified; never contains any part of the hash beyond its algorithm name. */
  reason?: string;
}

export type StoredHash =
  | { kind: "verifiable"; format: string; verify: (password: string) => Promise<boolean> }
  | { kind: "unusable" | "must_reset"; format: string; reason: string };

/** Django 5.2's 1,000,000 with room for later releases; the WebAssembly module does 1M in ~0.7 s. */
const PBKDF2_SHA256_MAX_ITERATIONS = 10_000_000;
/**
 * SHA-1 above 100,000 runs in JavaScript (src/auth/pbkdf2.ts), ~2.2 s of CPU per 1M iterations in
 * workerd: Django's SHA-1 hasher uses the SHA-256 counts, so 2M leaves room and caps a login at ~4.5 s.
 */
const PBKDF2_SHA1_MAX_ITERATIONS = 2_000_000;
/** Django's default is 12; each step doubles the work (bcryptjs in workerd: 0.3 s at 12, 1.2 s at 14). */
const BCRYPT_MAX_COST = 14;
/**
 * Argon2 allocates `m` KiB inside the one WebAssembly memory an isolate has for it, and WebAssembly
 * memory never shrinks: what the largest hash verified needs stays allocated for the isolate's
 * life, out of the 128 MB a Worker isolate has for everything. Measured (test/passwords.test.ts):
 * our own m=19456 already holds 38 MiB (a hash and a verify leave the blocks in two places);
 * Django's default since 4.0, m=102400, would take a warm isolate to 138 MiB, past the limit, so
 * those hashes are "must_reset". Up to 32 MiB fits in the 38 MiB already held, and even in a fresh
 * isolate stays within 2 × 32 MiB; 64 MiB would take it to 102 MiB.
 */
export const ARGON2_MAX_MEMORY_KIB = 32_768;
/** m × t, the Argon2 work: 32 MiB × 4 passes (Django before 4.0: m=512, t=2). */
const ARGON2_MAX_WORK_KIB = 4 * ARGON2_MAX_MEMORY_KIB;
const ARGON2_MAX_PARALLELISM = 64;
/**
 * scrypt's 128·N·r bytes (Django's N=2^14, r=8 is 16 MiB), allocated in JavaScript per check and
 * collected after it (not WebAssembly memory); Django's default takes ~80 ms in workerd.
 */
const SCRYPT_MAX_MEMORY_BYTES = 32 * 1024 * 1024;
/** N·r·p, the scrypt work: twice Django's default. */
const SCRYPT_MAX_WORK = 2 * 2 ** 14 * 8;
/** Longer than any hash Django writes (a 1,024-character salt included). */
const MAX_ENCODED_LENGTH = 4096;

const encoder = new TextEncoder();

function mustReset(format: string, reason: string): StoredHash {
  return { kind: "must_reset", format, reason };
}

function malformed(format: string): StoredHash {
  return mustReset(format, `not a well-formed ${format} hash`);
}

/** Constant-time equality of two ASCII strings (Django's `constant_time_compare`). */
function sameText(a: string, b: string): boolean {
  const x = encoder.encode(a);
  const y = encoder.encode(b);
  return x.byteLength === y.byteLength && crypto.subtle.timingSafeEqual(x, y);
}

// Django: `pbkdf2_<digest>$<iterations>$<salt>$<base64 of the digest-sized key, padded>`.
const PBKDF2 = {
  pbkdf2_sha256: {
    pattern: /^pbkdf2_sha256\$(\d{1,9})\$([^$]{1,1024})\$([A-Za-z0-9+/]{43}=)$/,
    derive: pbkdf2Sha256,
    max: PBKDF2_SHA256_MAX_ITERATIONS,
  },
  pbkdf2_sha1: {
    pattern: /^pbkdf2_sha1\$(\d{1,9})\$([^$]{1,1024})\$([A-Za-z0-9+/]{27}=)$/,
    derive: pbkdf2Sha1,
    max: PBKDF2_SHA1_MAX_ITERATIONS,
  },
} as const;

function readPbkdf2(encoded: string, format: keyof typeof PBKDF2): StoredHash {
  const { pattern, derive, max } = PBKDF2[format];
  const [, rounds = "", salt = "", expected = ""] = pattern.exec(encoded) ?? [];
  const iterations = Number(rounds);
  if (!expected || iterations < 1) return malformed(format);
  if (iterations > max) return mustReset(format, `${iterations} iterations is above ${max}`);
  if (encoder.encode(salt).byteLength > WASM_MAX_SALT_BYTES) {
    return mustReset(format, `salt longer than ${WASM_MAX_SALT_BYTES} bytes`);
  }
  return {
    kind: "verifiable",
    format,
    async verify(password) {
      let derived: Uint8Array;
      try {
        derived = await derive(password, salt, iterations);
      } catch (err) {
        // The WebAssembly module's input limit (a password of over 4 KiB): no match.
        if (err instanceof RangeError) return false;
        throw err;
      }
      // Django stores standard base64 with padding, which is toBase64's default.
      return sameText(derived.toBase64(), expected);
    },
  };
}

// Django: `bcrypt$<bcrypt's own $2b$<cost>$<22 salt><31 hash>>`, and the same after `bcrypt_sha256$`.
const BCRYPT = /^(bcrypt|bcrypt_sha256)\$(\$2[aby]\$(\d\d)\$[./A-Za-z0-9]{53})$/;

/** BCryptSHA256PasswordHasher's input: `hexlify(sha256(password.encode()).digest())`, lower case. */
async function sha256Hex(password: string): Promise<string> {
  return new Uint8Array(await crypto.subtle.digest("SHA-256", encoder.encode(password))).toHex();
}

function readBcrypt(encoded: string, format: "bcrypt" | "bcrypt_sha256"): StoredHash {
  const [, , hash = "", rounds = ""] = BCRYPT.exec(encoded) ?? [];
  const cost = Number(rounds);
  if (!hash || cost < 4 || cost > 31) return malformed(format);
  if (cost > BCRYPT_MAX_COST) return mustReset(format, `cost ${cost} is above ${BCRYPT_MAX_COST}`);
  return {
    kind: "verifiable",
    format,
    // Plain bcrypt uses the first 72 bytes of the UTF-8 password, as Django's did with bcrypt < 5
    // (which made every such hash): a longer password matches on its first 72 bytes.
    async verify(password) {
      const secret = format === "bcrypt_sha256" ? await sha256Hex(password) : password;
      return bcrypt.compare(secret, hash);
    },
  };
}

// Django: `argon2` + argon2-cffi's PHC string, `$argon2id$v=19$m=…,t=…,p=…$<salt>$<hash>` (base64
// without padding); Django before 3.2 wrote argon2i, and Argon2 1.0 strings have no `v=`.
const ARGON2 =
  /^argon2(\$(argon2id|argon2i|argon2d)\$(?:v=(16|19)\$)?m=(\d{1,10}),t=(\d{1,10}),p=(\d{1,3})\$[A-Za-z0-9+/]{11,88}\$[A-Za-z0-9+/]{6,88})$/;

/** Why Argon2 parameters are refused here, or undefined when a login can afford them. */
export function argon2Refusal(m: number, t: number, p: number): string | undefined {
  if (m > ARGON2_MAX_MEMORY_KIB) {
    return `memory ${m} KiB is above the ${ARGON2_MAX_MEMORY_KIB} KiB a Worker isolate can spare`;
  }
  if (m * t > ARGON2_MAX_WORK_KIB) return `m × t = ${m * t} KiB is above ${ARGON2_MAX_WORK_KIB}`;
  if (p > ARGON2_MAX_PARALLELISM) return `parallelism ${p} is above ${ARGON2_MAX_PARALLELISM}`;
  return undefined;
}

function readArgon2(encoded: string): StoredHash {
  const match = ARGON2.exec(encoded);
  const [, phc = "", type = "argon2id"] = match ?? [];
  const [m, t, p] = (match?.slice(4, 7) ?? []).map(Number) as [number, number, number];
  // The reference code's own minimums: t ≥ 1, p ≥ 1, m ≥ 8 KiB per lane.
  if (!match || t < 1 || p < 1 || m < 8 * p) return malformed("argon2");
  const refusal = argon2Refusal(m, t, p);
  if (refusal) return mustReset("argon2", refusal);
  return {
    kind: "verifiable",
    format: "argon2",
    verify: async (password) => argon2Verify(phc, password, type as Argon2Type),
  };
}

// Django 4.0+: `scrypt$<N>$<salt>$<r>$<p>$<base64 of 64 bytes, padded>`.
const SCRYPT = /^scrypt\$(\d{1,9})\$([^$]{1,1024})\$(\d{1,4})\$(\d{1,4})\$([A-Za-z0-9+/]{86}==)$/;

function readScrypt(encoded: string): StoredHash {
  const [, n = "", salt = "", r = "", p = "", expected = ""] = SCRYPT.exec(encoded) ?? [];
  const [N, blockSize, parallelism] = [Number(n), Number(r), Number(p)];
  if (!expected || N < 2 || (N & (N - 1)) !== 0 || blockSize < 1 || parallelism < 1) {
    return malformed("scrypt");
  }
  if (
    128 * N * blockSize > SCRYPT_MAX_MEMORY_BYTES ||
    N * blockSize * parallelism > SCRYPT_MAX_WORK
  ) {
    return mustReset(
      "scrypt",
      `N=${N}, r=${blockSize}, p=${parallelism} is above what a login can afford`,
    );
  }
  return {
    kind: "verifiable",
    format: "scrypt",
    async verify(password) {
      const opts = {
        N,
        r: blockSize,
        p: parallelism,
        dkLen: 64,
        maxmem: 2 * SCRYPT_MAX_MEMORY_BYTES,
      };
      return sameText(scrypt(password, salt, opts).toBase64(), expected);
    },
  };
}

/** Django hashers that exist but are not worth verifying here: the user resets the password. */
const LEGACY = new Set(["md5", "sha1", "unsalted_md5", "unsalted_sha1", "crypt"]);

/**
 * Reads a stored Django hash the way Django's `identify_hasher` does (including its unsalted MD5
 * and SHA-1 shapes). Django treats None, "" and `!…` (set_unusable_password) as unusable; so do we,
 * and also the strings "None"/"null", which is how a null column tends to come out of an export.
 */
export function readDjangoHash(encoded: string | null | undefined): StoredHash {
  if (encoded === null || encoded === undefined || encoded.trim() === "") {
    return { kind: "unusable", format: "unusable", reason: "no password" };
  }
  if (encoded.startsWith("!")) {
    return { kind: "unusable", format: "unusable", reason: "unusable password" };
  }
  if (/^(none|null)$/i.test(encoded.trim())) {
    return { kind: "unusable", format: "unusable", reason: "a null placeholder, not a hash" };
  }
  if (encoded.length > MAX_ENCODED_LENGTH) return mustReset("unknown", "too long to be a hash");
  if (/^[0-9a-f]{32}$/i.test(encoded) || /^md5\$\$[0-9a-f]{32}$/i.test(encoded)) {
    return mustReset("unsalted_md5", "unsalted MD5 is not verified here");
  }
  if (/^sha1\$\$[0-9a-f]{40}$/i.test(encoded)) {
    return mustReset("unsalted_sha1", "unsalted SHA-1 is not verified here");
  }
  const algorithm = encoded.slice(0, Math.max(0, encoded.indexOf("$")));
  switch (algorithm) {
    case "pbkdf2_sha256":
    case "pbkdf2_sha1":
      return readPbkdf2(encoded, algorithm);
    case "bcrypt":
    case "bcrypt_sha256":
      return readBcrypt(encoded, algorithm);
    case "argon2":
      return readArgon2(encoded);
    case "scrypt":
      return readScrypt(encoded);
  }
  if (LEGACY.has(algorithm))
    return mustReset(algorithm, `Django's ${algorithm} hasher is not verified here`);
  return mustReset("unknown", "not a password hash format this service knows");
}
