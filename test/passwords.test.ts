/**
 * Password hashing: Argon2id through our own binding, every Django hasher's format for imported
 * users, and the production limit of 100,000 PBKDF2 iterations in the runtime's own implementations.
 */
import { env } from "cloudflare:workers";
import argon2Module from "@phi-ag/argon2/argon2.wasm";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { argon2idHash, argon2idVerify, argon2MemoryBytes } from "../src/auth/argon2";
import { ARGON2_MAX_MEMORY_KIB } from "../src/auth/django-hashes";
import {
  argon2id,
  classifyPasswordHash,
  passwordPolicyErrors,
  verifyPassword,
} from "../src/auth/passwords";
import { WEBCRYPTO_PBKDF2_MAX_ITERATIONS } from "../src/auth/pbkdf2";
import { preferences, users } from "../src/db/schema";
import { expectError } from "./helpers/api";
import { db, login, register, uniqueEmail, userRow } from "./helpers/users";

const fixtures = JSON.parse(env.TEST_DJANGO_HASHES) as {
  password: string;
  longPassword: string;
  /** 71 ASCII bytes, then "€" (3 bytes) and more: bcrypt keeps its first 72 bytes. */
  bcryptLong: string;
  hashes: Record<
    "django_3_2" | "django_5_1" | "at_limit" | "above_limit" | "long_password",
    string
  >;
  formats: Record<
    | "pbkdf2_sha1_at_limit"
    | "pbkdf2_sha1_above_limit"
    | "pbkdf2_sha1_long_password"
    | "bcrypt_sha256"
    | "bcrypt_sha256_long"
    | "bcrypt"
    | "bcrypt_long"
    | "argon2id"
    | "argon2i"
    | "argon2d"
    | "argon2i_v10"
    | "scrypt",
    string
  >;
};

/** The configured PASSWORD_HASH_* defaults, which the tests run with. */
const PARAMS = { memoryKib: 19456, iterations: 2, parallelism: 1 };
const CONFIGURED = "$argon2id$v=19$m=19456,t=2,p=1$";

/** Inserts a user as the import from the replaced Django service would: only the hash is known. */
async function importUser(passwordHash: string) {
  const id = crypto.randomUUID();
  const email = uniqueEmail("imported");
  const now = new Date();
  await db().batch([
    db().insert(users).values({ id, email, passwordHash, createdAt: now, updatedAt: now }),
    db().insert(preferences).values({ user_id: id, updated_at: now }),
  ]);
  return { id, email };
}

/**
 * Makes this workerd behave like production Workers, which refuse PBKDF2 above 100,000 iterations
 * (local workerd computes any count). Records every count the code asks for.
 */
function refuseLargePbkdf2LikeProduction() {
  const requested: number[] = [];
  const deriveBits = crypto.subtle.deriveBits.bind(crypto.subtle);
  vi.spyOn(crypto.subtle, "deriveBits").mockImplementation(async (algorithm, key, length) => {
    if (typeof algorithm === "object" && algorithm.name === "PBKDF2" && "iterations" in algorithm) {
      const iterations = Number(algorithm.iterations);
      requested.push(iterations);
      if (iterations > WEBCRYPTO_PBKDF2_MAX_ITERATIONS) {
        throw new DOMException(
          `Pbkdf2 failed: iteration counts above 100000 are not supported (requested ${iterations}).`,
          "NotSupportedError",
        );
      }
    }
    return deriveBits(algorithm, key, length);
  });
  return requested;
}

afterEach(() => {
  vi.restoreAllMocks();
});

describe("Argon2id binding", () => {
  const params = { memoryKib: 1024, iterations: 1, parallelism: 1 };

  it("hashes the UTF-8 bytes of the password, not its UTF-16 length", () => {
    // With a length in UTF-16 units, both passwords would be cut to the same first 10 bytes.
    const encoded = argon2idHash("€€€€€€€€a1", params);
    expect(argon2idVerify(encoded, "€€€€€€€€a1")).toBe(true);
    expect(argon2idVerify(encoded, "€€€€€€€€b2")).toBe(false);
    expect(argon2idVerify(encoded, "€€€€€€€€a")).toBe(false);
  });

  it("produces PHC strings with a random salt", () => {
    const a = argon2idHash("same-password", params);
    const b = argon2idHash("same-password", params);
    expect(a).toMatch(/^\$argon2id\$v=19\$m=1024,t=1,p=1\$[A-Za-z0-9+/]{22}\$[A-Za-z0-9+/]{43}$/);
    expect(a).not.toBe(b);
  });

  it("treats a malformed hash as a mismatch", () => {
    expect(argon2idVerify("$argon2id$garbage", "x")).toBe(false);
  });

  it("refuses a non-ASCII password that differs only after the UTF-16 length at login", async () => {
    const user = await register({ password: "€€€€€€€€a1" });
    expectError(await login(user.email, "€€€€€€€€b2"), 401, "invalid_credentials");
    expect((await login(user.email, "€€€€€€€€a1")).status).toBe(200);
  });
});

describe("users imported from Django", () => {
  let requested: number[];
  beforeEach(() => {
    requested = refuseLargePbkdf2LikeProduction();
  });

  for (const [version, key] of [
    ["Django 3.2 (260,000 iterations)", "django_3_2"],
    ["Django 5.1 (870,000 iterations)", "django_5_1"],
    ["exactly 100,000 iterations", "at_limit"],
    ["100,001 iterations", "above_limit"],
  ] as const) {
    it(`log in with a ${version} hash, which is rewritten to Argon2id`, async () => {
      const user = await importUser(fixtures.hashes[key]);
      const res = await login(user.email, fixtures.password);
      expect(res.status, res.text).toBe(200);
      const row = await userRow(user.id);
      expect(row?.passwordHash).toMatch(/^\$argon2id\$v=19\$m=19456,t=2,p=1\$/);

      // The rewritten hash works.
      expect((await login(user.email, fixtures.password)).status).toBe(200);
    });
  }

  it("never asks the runtime's PBKDF2 for more than 100,000 iterations", async () => {
    for (const [key, hash] of Object.entries(fixtures.hashes)) {
      const user = await importUser(hash);
      const password = key === "long_password" ? fixtures.longPassword : fixtures.password;
      expect((await login(user.email, password)).status).toBe(200);
    }
    for (const key of ["pbkdf2_sha1_at_limit", "pbkdf2_sha1_above_limit"] as const) {
      const user = await importUser(fixtures.formats[key]);
      expect((await login(user.email, fixtures.password)).status).toBe(200);
    }
    expect(requested).toContain(WEBCRYPTO_PBKDF2_MAX_ITERATIONS);
    expect(requested.every((n) => n <= WEBCRYPTO_PBKDF2_MAX_ITERATIONS)).toBe(true);
  });

  it("handles a password longer than the HMAC block (hashed key) above the limit", async () => {
    const user = await importUser(fixtures.hashes.long_password);
    expect((await login(user.email, fixtures.longPassword)).status).toBe(200);
  });

  it("treats an imported hash with an oversized salt as a mismatch, not an error", async () => {
    const salt = "é".repeat(1000);
    const user = await importUser(`pbkdf2_sha256$260000$${salt}$${"A".repeat(43)}=`);
    expectError(await login(user.email, fixtures.password), 401, "invalid_credentials");
  });

  it("refuses a wrong password for an imported user and keeps the old hash", async () => {
    const user = await importUser(fixtures.hashes.django_5_1);
    expectError(await login(user.email, "not-the-password"), 401, "invalid_credentials");
    expect((await userRow(user.id))?.passwordHash).toBe(fixtures.hashes.django_5_1);
  });

  it("accepts Django's argon2 format and rewrites it", async () => {
    const phc = argon2idHash(fixtures.password, { memoryKib: 1024, iterations: 1, parallelism: 1 });
    const user = await importUser(`argon2${phc}`);
    expect((await login(user.email, fixtures.password)).status).toBe(200);
    expect((await userRow(user.id))?.passwordHash).toMatch(/^\$argon2id\$v=19\$m=19456,t=2,p=1\$/);
  });
});

/** The Argon2id calls `verifyPassword` makes: the dummy one with the configured parameters only. */
function spyOnArgon2id() {
  const verify = vi.spyOn(argon2id, "verify");
  return () => verify.mock.calls.map(([encoded]) => encoded.slice(0, CONFIGURED.length));
}

/**
 * A fresh instance of our Argon2 WebAssembly module, driven the way src/auth/argon2.ts drives the
 * shared one (inputs freed after each call), so its memory can be measured without growing the
 * shared instance the other tests use.
 */
function freshArgon2() {
  const wasm = new WebAssembly.Instance(argon2Module, {}).exports as unknown as {
    memory: WebAssembly.Memory;
    _initialize(): void;
    malloc(size: number): number;
    free(ptr: number): void;
    argon2_encodedlen(t: number, m: number, p: number, s: number, h: number, y: number): number;
    argon2_hash(...args: number[]): number;
    argon2_verify(encoded: number, pwd: number, pwdLen: number, type: number): number;
  };
  wasm._initialize();
  const place = (text: string | Uint8Array) => {
    const bytes = typeof text === "string" ? new TextEncoder().encode(text) : text;
    const ptr = wasm.malloc(bytes.byteLength + 1);
    new Uint8Array(wasm.memory.buffer).set([...bytes, 0], ptr);
    return { ptr, length: bytes.byteLength };
  };
  return {
    bytes: () => wasm.memory.buffer.byteLength,
    hash({ memoryKib: m, iterations: t, parallelism: p }: typeof PARAMS, secret: string) {
      const len = wasm.argon2_encodedlen(t, m, p, 16, 32, 2);
      const [pwd, salt, out] = [
        place(secret),
        place(crypto.getRandomValues(new Uint8Array(16))),
        wasm.malloc(len),
      ];
      try {
        expect(
          wasm.argon2_hash(t, m, p, pwd.ptr, pwd.length, salt.ptr, 16, 0, 32, out, len, 2, 0x13),
        ).toBe(0);
        const heap = new Uint8Array(wasm.memory.buffer);
        return new TextDecoder().decode(heap.subarray(out, heap.indexOf(0, out)));
      } finally {
        for (const ptr of [pwd.ptr, salt.ptr, out]) wasm.free(ptr);
      }
    },
    verify(encoded: string, secret: string) {
      const [enc, pwd] = [place(encoded), place(secret)];
      try {
        return wasm.argon2_verify(enc.ptr, pwd.ptr, pwd.length, 2) === 0;
      } finally {
        for (const ptr of [pwd.ptr, enc.ptr]) wasm.free(ptr);
      }
    },
  };
}

describe("every password hasher of a Django install", () => {
  let requested: number[];
  beforeEach(() => {
    requested = refuseLargePbkdf2LikeProduction();
  });

  // Right and wrong passwords for each fixture; the wrong ones include the right one with a single
  // non-ASCII character changed, which a wrong byte count or encoding would let through. The slow
  // ones (JavaScript PBKDF2-SHA1 above 100,000 iterations, bcrypt at Django's cost 12, scrypt; all
  // several times slower under the test runner than in workerd proper) try that one guess only.
  const { password, longPassword } = fixtures;
  const wrong = ["not-the-password", "letmein-€-imported", "lètmein-₤-imported", `${password} `];
  for (const [key, format, secret, guesses] of [
    ["pbkdf2_sha1_at_limit", "pbkdf2_sha1", password, wrong],
    ["pbkdf2_sha1_above_limit", "pbkdf2_sha1", password, wrong.slice(2, 3)],
    // Longer than SHA-1's 64-byte block too, so HMAC hashes the key first.
    ["pbkdf2_sha1_long_password", "pbkdf2_sha1", longPassword, [`${longPassword.slice(0, -1)}u`]],
    ["bcrypt_sha256", "bcrypt_sha256", password, wrong.slice(2, 3)],
    ["bcrypt", "bcrypt", password, wrong],
    ["argon2id", "argon2", password, wrong],
    ["argon2i", "argon2", password, wrong],
    ["argon2d", "argon2", password, wrong],
    ["argon2i_v10", "argon2", password, wrong],
    ["scrypt", "scrypt", password, wrong.slice(2, 3)],
  ] as const) {
    it(`verifies ${key} (Django's ${format}), refuses wrong passwords, and rewrites it`, async () => {
      const hash = fixtures.formats[key];
      expect(classifyPasswordHash(hash)).toEqual({ kind: "verifiable", format });
      for (const guess of guesses) {
        expect(await verifyPassword(hash, guess, PARAMS), guess).toEqual({
          ok: false,
          needsRehash: true,
        });
      }

      const user = await importUser(hash);
      expectError(await login(user.email, wrong[0]), 401, "invalid_credentials");
      expect((await userRow(user.id))?.passwordHash).toBe(hash);
      // Right: and every Django format asks for the rehash, which login stores.
      expect((await login(user.email, secret)).status).toBe(200);
      expect((await userRow(user.id))?.passwordHash).toMatch(
        /^\$argon2id\$v=19\$m=19456,t=2,p=1\$/,
      );
      expect((await login(user.email, secret)).status).toBe(200);
      expect(requested.every((n) => n <= WEBCRYPTO_PBKDF2_MAX_ITERATIONS)).toBe(true);
    });
  }

  it("reports needsRehash for every Django format it verifies", async () => {
    for (const key of ["pbkdf2_sha1_at_limit", "bcrypt", "argon2id", "argon2i_v10"] as const) {
      expect(await verifyPassword(fixtures.formats[key], password, PARAMS), key).toEqual({
        ok: true,
        needsRehash: true,
      });
    }
  });

  it("bcrypt keeps the first 72 bytes of the UTF-8 password, as Django's did", async () => {
    const { bcryptLong } = fixtures;
    // Same first 72 bytes: 71 × "a" and 0xE2, the first byte of both "€" (E2 82 AC) and "₤" (E2 82 A4).
    const sameFirst72 = `${"a".repeat(71)}₤`;
    expect(new TextEncoder().encode(bcryptLong).byteLength).toBeGreaterThan(72);
    const plain = fixtures.formats.bcrypt_long;
    expect((await verifyPassword(plain, bcryptLong, PARAMS)).ok).toBe(true);
    expect((await verifyPassword(plain, sameFirst72, PARAMS)).ok).toBe(true);
    expect((await verifyPassword(plain, `${"a".repeat(70)}b€-and-more`, PARAMS)).ok).toBe(false);
    expect((await verifyPassword(plain, "a".repeat(71), PARAMS)).ok).toBe(false);

    // bcrypt_sha256 hashes the whole password first: no truncation.
    const sha256 = fixtures.formats.bcrypt_sha256_long;
    expect((await verifyPassword(sha256, bcryptLong, PARAMS)).ok).toBe(true);
    expect((await verifyPassword(sha256, sameFirst72, PARAMS)).ok).toBe(false);
  });

  it("bcrypt agrees with a published test vector (crypt_blowfish, $2a$)", async () => {
    const vector = "bcrypt$$2a$05$CCCCCCCCCCCCCCCCCCCCC.E5YPO9kmyuRGyh0XouQYb4YMJKvyOeW";
    expect((await verifyPassword(vector, "U*U", PARAMS)).ok).toBe(true);
    expect((await verifyPassword(vector, "U*V", PARAMS)).ok).toBe(false);
  });

  it("argon2 agrees with the reference implementation's test vectors", async () => {
    // argon2/src/test.c (v1.3, "password", "somesalt"), also reproduced by @noble/hashes.
    for (const vector of [
      "argon2$argon2i$v=19$m=256,t=2,p=1$c29tZXNhbHQ$iekCn0Y3spW+sCcFanM2xBT63UP2sghkUoHLIUpWRS8",
      "argon2$argon2id$v=19$m=256,t=2,p=2$c29tZXNhbHQ$bQk8UB/VmZZF4Oo79iDXuL5/0ttZwg2f/5U52iv1cDc",
    ]) {
      expect(classifyPasswordHash(vector)).toEqual({ kind: "verifiable", format: "argon2" });
      expect((await verifyPassword(vector, "password", PARAMS)).ok).toBe(true);
      expect((await verifyPassword(vector, "passwore", PARAMS)).ok).toBe(false);
      // The same string as another variant is another hash, not a match.
      const other = vector.includes("$argon2i$")
        ? vector.replace("$argon2i$", "$argon2d$")
        : vector.replace("$argon2id$", "$argon2i$");
      expect((await verifyPassword(other, "password", PARAMS)).ok).toBe(false);
    }
  });

  it("measures Django's default Argon2 (m=102400, t=2, p=8), then refuses it unattempted", async () => {
    // A fresh instance of our module, as a warm isolate's is: our own hash and verify first.
    const fresh = freshArgon2();
    const initial = fresh.bytes();
    fresh.verify(fresh.hash(PARAMS, "own-password"), "own-password");
    const ownHeld = fresh.bytes();
    const started = performance.now();
    const phc = fresh.hash({ memoryKib: 102_400, iterations: 2, parallelism: 8 }, password);
    const hashed = performance.now();
    const afterHash = fresh.bytes();
    expect(fresh.verify(phc, password)).toBe(true);
    const verified = performance.now();
    const mib = (bytes: number) => (bytes / 2 ** 20).toFixed(1);
    console.log(
      `argon2 m=102400,t=2,p=8 in workerd: WebAssembly memory ${mib(initial)} MiB at start, ` +
        `${mib(ownHeld)} MiB after our own m=19456 hash + verify, ${mib(afterHash)} MiB after ` +
        `hashing, ${mib(fresh.bytes())} MiB after verifying; hash ${Math.round(hashed - started)} ms, ` +
        `verify ${Math.round(verified - hashed)} ms (workerd's clock)`,
    );
    // Past the 128 MB of a Worker isolate, for the wasm memory alone, and never given back.
    expect(fresh.bytes()).toBeGreaterThan(128 * 10 ** 6);

    const django = `argon2${phc}`;
    expect(django).toMatch(/^argon2\$argon2id\$v=19\$m=102400,t=2,p=8\$/);
    const verdict = classifyPasswordHash(django);
    expect(verdict).toMatchObject({ kind: "must_reset", format: "argon2" });
    expect(verdict.reason).toContain("102400 KiB");
    const before = argon2MemoryBytes();
    const calls = spyOnArgon2id();
    // The right password: had it been attempted, it would match.
    expect(await verifyPassword(django, password, PARAMS)).toEqual({
      ok: false,
      needsRehash: true,
    });
    expect(calls()).toEqual([CONFIGURED]);
    expect(argon2MemoryBytes()).toBe(before);
  });

  it("verifies Argon2 at the memory cap within twice the cap of WebAssembly memory", async () => {
    const cap = { memoryKib: ARGON2_MAX_MEMORY_KIB, iterations: 2, parallelism: 8 };
    const django = `argon2${freshArgon2().hash(cap, password)}`;
    expect(classifyPasswordHash(django)).toEqual({ kind: "verifiable", format: "argon2" });
    expect(await verifyPassword(django, password, PARAMS)).toEqual({ ok: true, needsRehash: true });
    expect((await verifyPassword(django, "not-the-password", PARAMS)).ok).toBe(false);
    expect(argon2MemoryBytes()).toBeLessThanOrEqual(
      (2 * ARGON2_MAX_MEMORY_KIB + 16.125 * 1024) * 1024,
    );
    // One KiB more is refused: so is the reference implementation's own m=65536 test vector.
    const above = { ...cap, memoryKib: ARGON2_MAX_MEMORY_KIB + 1 };
    expect(classifyPasswordHash(`argon2${freshArgon2().hash(above, password)}`).kind).toBe(
      "must_reset",
    );
    const vector =
      "argon2$argon2i$v=19$m=65536,t=2,p=1$c29tZXNhbHQ$wWKIMhR9lyDFvRz9YTZweHKfbftvj+qf+YFY4NeBbtA";
    expect(classifyPasswordHash(vector).kind).toBe("must_reset");
    expect((await verifyPassword(vector, "password", PARAMS)).ok).toBe(false);
  });

  it("refuses Argon2 parameters above the caps without computing them", async () => {
    const tail = "c29tZXNhbHRzb21lc2FsdA$AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA";
    for (const [params, reason] of [
      [`m=${ARGON2_MAX_MEMORY_KIB + 1},t=1,p=1`, "memory"],
      [`m=${ARGON2_MAX_MEMORY_KIB},t=5,p=1`, "m × t"],
      ["m=4096,t=1,p=100", "parallelism"],
      ["m=4294967295,t=4294967295,p=1", "memory"],
    ] as const) {
      // Ours too, when they arrive in an import rather than from this service.
      for (const hash of [
        `argon2$argon2id$v=19$${params}$${tail}`,
        `$argon2id$v=19$${params}$${tail}`,
      ]) {
        const verdict = classifyPasswordHash(hash);
        expect(verdict.kind, hash).toBe("must_reset");
        expect(verdict.reason, hash).toContain(reason);
      }
    }
    // At login, an Argon2id string of ours is checked under any parameters PASSWORD_HASH_* allows
    // (here t=1, not the configured t=2: a rehash), and refused beyond them (t=11 is not allowed).
    for (const [iterations, ok] of [
      [1, true],
      [11, false],
    ] as const) {
      const own = argon2idHash(password, { memoryKib: 1024, iterations, parallelism: 1 });
      const calls = spyOnArgon2id();
      expect(await verifyPassword(own, password, PARAMS)).toEqual({ ok, needsRehash: true });
      expect(calls()).toEqual([ok ? own.slice(0, CONFIGURED.length) : CONFIGURED]);
      vi.restoreAllMocks();
    }
    expect(classifyPasswordHash(argon2idHash("x", PARAMS))).toEqual({
      kind: "verifiable",
      format: "argon2id",
    });
    expect(await verifyPassword(argon2idHash("x", PARAMS), "x", PARAMS)).toEqual({
      ok: true,
      needsRehash: false,
    });
  });

  it("refuses other work factors above what a login can afford", async () => {
    const salt = "Xk2vB9qLz0pR7sTw";
    for (const hash of [
      `pbkdf2_sha256$10000001$${salt}$${"A".repeat(43)}=`,
      `pbkdf2_sha1$2000001$${salt}$${"A".repeat(27)}=`,
      `bcrypt$$2b$15$${"a".repeat(53)}`,
      `bcrypt_sha256$$2b$31$${"a".repeat(53)}`,
      `scrypt$1048576$${salt}$8$1$${"A".repeat(86)}==`,
      `scrypt$16384$${salt}$8$4$${"A".repeat(86)}==`,
    ]) {
      expect(classifyPasswordHash(hash).kind, hash).toBe("must_reset");
      const calls = spyOnArgon2id();
      expect(await verifyPassword(hash, password, PARAMS)).toEqual({
        ok: false,
        needsRehash: true,
      });
      expect(calls(), hash).toEqual([CONFIGURED]);
      vi.restoreAllMocks();
    }
  });

  it("never verifies an unusable password, and spends a wrong password's work on it", async () => {
    for (const hash of [
      "",
      "   ",
      "!",
      "!abcdefghijklmnopqrstuvwxyz0123456789ABCD",
      "!must-reset:x",
      "None",
      "NULL",
    ]) {
      expect(classifyPasswordHash(hash), hash).toMatchObject({ kind: "unusable" });
      const calls = spyOnArgon2id();
      expect(await verifyPassword(hash, password, PARAMS)).toEqual({
        ok: false,
        needsRehash: true,
      });
      expect(await verifyPassword(hash, "", PARAMS)).toEqual({ ok: false, needsRehash: true });
      expect(calls(), hash).toEqual([CONFIGURED, CONFIGURED]);
      vi.restoreAllMocks();
    }
    expect(classifyPasswordHash(null)).toMatchObject({ kind: "unusable" });
    expect(classifyPasswordHash(undefined)).toMatchObject({ kind: "unusable" });
    // "!" in front of a real hash is still unusable (Django's set_unusable_password prefix).
    expect(classifyPasswordHash(`!${fixtures.formats.bcrypt}`).kind).toBe("unusable");

    const user = await importUser("!");
    const calls = spyOnArgon2id();
    expectError(await login(user.email, password), 401, "invalid_credentials");
    expect(calls()).toEqual([CONFIGURED]);
  });

  it("never verifies unknown, legacy or malformed formats: the user must reset", async () => {
    const md5 = "5f4dcc3b5aa765d61d8327deb882cf99";
    for (const [hash, format] of [
      [`md5$salt$${md5}`, "md5"],
      [`sha1$salt$${"a".repeat(40)}`, "sha1"],
      [md5, "unsalted_md5"],
      [`md5$$${md5}`, "unsalted_md5"],
      [`sha1$$${"b".repeat(40)}`, "unsalted_sha1"],
      ["crypt$$abN/qM.L/H8EQ", "crypt"],
      [password, "unknown"],
      [`$2b$12$${"a".repeat(53)}`, "unknown"],
      ["pbkdf2_sha256$abc$salt$hash", "pbkdf2_sha256"],
      [`pbkdf2_sha256$0$salt$${"A".repeat(43)}=`, "pbkdf2_sha256"],
      [`pbkdf2_sha1$1000$salt$${"A".repeat(43)}=`, "pbkdf2_sha1"],
      [`bcrypt$$2x$05$${"a".repeat(53)}`, "bcrypt"],
      [`bcrypt$$2b$03$${"a".repeat(53)}`, "bcrypt"],
      ["argon2$argon2id$v=19$m=8,t=1,p=2$c29tZXNhbHQ$aGFzaGhhc2g", "argon2"],
      ["argon2$argon2x$v=19$m=1024,t=1,p=1$c29tZXNhbHQ$aGFzaGhhc2g", "argon2"],
      ["argon2$argon2id$v=18$m=1024,t=1,p=1$c29tZXNhbHQ$aGFzaGhhc2g", "argon2"],
      [`scrypt$1000$salt$8$1$${"A".repeat(86)}==`, "scrypt"],
      ["$argon2id$garbage", "argon2id"],
      [`pbkdf2_sha256$${"9".repeat(5000)}`, "unknown"],
    ] as const) {
      expect(classifyPasswordHash(hash), hash).toMatchObject({ kind: "must_reset", format });
      const calls = spyOnArgon2id();
      expect(await verifyPassword(hash, password, PARAMS), hash).toEqual({
        ok: false,
        needsRehash: true,
      });
      expect(calls(), hash).toEqual([CONFIGURED]);
      vi.restoreAllMocks();
    }
  });

  it("names no part of a hash beyond its algorithm in the reason", () => {
    const secret = "Zq8sEcReTsAlT";
    for (const hash of [
      `pbkdf2_sha256$99999999$${secret}$${"A".repeat(43)}=`,
      `md5$${secret}$x`,
      `${secret}$${secret}`,
    ]) {
      const verdict = classifyPasswordHash(hash);
      expect(JSON.stringify(verdict)).not.toContain(secret);
    }
  });
});

describe("password policy", () => {
  it("accepts a reasonable password", () => {
    expect(passwordPolicyErrors("violet-Harbor-42", { email: "a@example.com" })).toEqual([]);
  });

  it("collects every applicable message", () => {
    expect(passwordPolicyErrors("1234567")).toEqual([
      "This password is too short. It must contain at least 8 characters.",
      "This password is entirely numeric.",
    ]);
  });

  it("refuses the email's local part and the username", () => {
    expect(passwordPolicyErrors("Ada.Lovelace", { email: "ada.lovelace@example.com" })).toContain(
      "The password is too similar to the email address.",
    );
    expect(passwordPolicyErrors("captain-nemo", { username: "Captain-Nemo" })).toContain(
      "The password is too similar to the username.",
    );
  });
});
