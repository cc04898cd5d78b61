/**
 * Password hashing: Argon2id through our own binding, Django PBKDF2 imports, and the production
 * limit of 100,000 PBKDF2 iterations in the runtime's own implementations.
 */
import { env } from "cloudflare:workers";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { argon2idHash, argon2idVerify } from "../src/auth/argon2";
import { passwordPolicyErrors } from "../src/auth/passwords";
import { WEBCRYPTO_PBKDF2_MAX_ITERATIONS } from "../src/auth/pbkdf2";
import { preferences, users } from "../src/db/schema";
import { expectError } from "./helpers/api";
import { db, login, register, uniqueEmail, userRow } from "./helpers/users";

const fixtures = JSON.parse(env.TEST_DJANGO_HASHES) as {
  password: string;
  longPassword: string;
  hashes: Record<
    "django_3_2" | "django_5_1" | "at_limit" | "above_limit" | "long_password",
    string
  >;
};

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
    expect(requested.length).toBeGreaterThan(0);
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
