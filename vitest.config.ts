import { createHash, pbkdf2Sync, scryptSync } from "node:crypto";
import { cloudflareTest, readD1Migrations } from "@cloudflare/vitest-plugin";
import { argon2d, argon2i, argon2id } from "@noble/hashes/argon2.js";
import bcrypt from "bcryptjs";
import { defineConfig } from "vitest/config";
import { generateSigningKeys } from "./scripts/keys.ts";

/**
 * Django password hashes computed here in Node, by implementations independent of the Worker's
 * where there is one: OpenSSL for PBKDF2 (including above 100,000 iterations) and scrypt, and
 * @noble/hashes for Argon2 (the Worker uses the reference C code). bcryptjs is the only bcrypt
 * installed, so bcrypt is checked against it plus a published test vector (test/passwords.test.ts).
 * Each hash is encoded exactly as Django's hasher does.
 */
function djangoHashes() {
  const password = "lètmein-€-imported";
  // Longer than SHA-256's 64-byte block, so HMAC hashes the key first.
  const longPassword = `${"long-imported-passphrase-".repeat(4)}ü`;
  const b64 = (bytes: Uint8Array) => Buffer.from(bytes).toString("base64");
  const hash = (iterations: number, salt: string, secret = password) =>
    `pbkdf2_sha256$${iterations}$${salt}$${b64(pbkdf2Sync(secret, salt, iterations, 32, "sha256"))}`;
  // PBKDF2SHA1PasswordHasher: dklen is SHA-1's 20 bytes.
  const sha1 = (iterations: number, salt: string, secret = password) =>
    `pbkdf2_sha1$${iterations}$${salt}$${b64(pbkdf2Sync(secret, salt, iterations, 20, "sha1"))}`;
  // BCryptPasswordHasher: bcrypt of the UTF-8 password. BCryptSHA256PasswordHasher: bcrypt of
  // `hexlify(sha256(password.encode()).digest())`, the 64 lower-case hex digits.
  const bcryptOf = (secret: string, cost: number) => `bcrypt$${bcrypt.hashSync(secret, cost)}`;
  const bcryptSha256 = (secret: string, cost: number) =>
    `bcrypt_sha256$${bcrypt.hashSync(createHash("sha256").update(secret).digest("hex"), cost)}`;
  // Argon2PasswordHasher: "argon2" + argon2-cffi's PHC string, whose salt is the bytes of
  // Django's 22-character salt string; base64 without padding.
  const argon2 = (
    variant: "argon2id" | "argon2i" | "argon2d",
    {
      m,
      t,
      p,
      version = 0x13,
      dkLen = 32,
    }: { m: number; t: number; p: number; version?: number; dkLen?: number },
    salt = "Xk2vB9qLz0pR7sTwQ4mN8c",
  ) => {
    const fn = { argon2id, argon2i, argon2d }[variant];
    const bytes = fn(password, salt, { m, t, p, version, dkLen });
    const nopad = (v: Uint8Array | string) => Buffer.from(v).toString("base64").replace(/=+$/, "");
    // argon2-cffi omits `v=` for version 1.0 (0x10), as the reference encoder does.
    const v = version === 0x13 ? "v=19$" : "";
    return `argon2$${variant}$${v}m=${m},t=${t},p=${p}$${nopad(salt)}$${nopad(bytes)}`;
  };
  // ScryptPasswordHasher: scrypt$N$salt$r$p$base64(64 bytes).
  const scrypt = (N: number, r: number, p: number, salt: string) =>
    `scrypt$${N}$${salt}$${r}$${p}$${b64(scryptSync(password, salt, 64, { N, r, p }))}`;
  // bcrypt keeps 72 bytes: 71 ASCII bytes, then the first byte of a 3-byte character.
  const bcryptLong = `${"a".repeat(71)}€-and-more`;
  return JSON.stringify({
    password,
    longPassword,
    bcryptLong,
    hashes: {
      long_password: hash(150_000, "longlonglonglong", longPassword),
      django_3_2: hash(260_000, "seasaltSEASALT12"),
      django_5_1: hash(870_000, "Xk2vB9qLz0pR7sTw"),
      at_limit: hash(100_000, "limitlimitlimit1"),
      above_limit: hash(100_001, "limitlimitlimit2"),
    },
    formats: {
      pbkdf2_sha1_at_limit: sha1(100_000, "sha1sha1sha1sha1"),
      pbkdf2_sha1_above_limit: sha1(100_001, "sha1sha1sha1sha2"),
      pbkdf2_sha1_long_password: sha1(150_000, "Yb3wC0rMa1qS8tUx", longPassword),
      bcrypt_sha256: bcryptSha256(password, 12),
      bcrypt_sha256_long: bcryptSha256(bcryptLong, 5),
      bcrypt: bcryptOf(password, 5),
      bcrypt_long: bcryptOf(bcryptLong, 5),
      // Django 4.0+'s argon2id with t and p of its defaults, at a memory a test can afford.
      argon2id: argon2("argon2id", { m: 1024, t: 2, p: 8 }),
      // Django before 3.2: argon2i, m=512, t=2, p=2, argon2-cffi's 16-byte hashes of the time.
      argon2i: argon2("argon2i", { m: 512, t: 2, p: 2, dkLen: 16 }),
      argon2d: argon2("argon2d", { m: 256, t: 1, p: 1 }),
      argon2i_v10: argon2("argon2i", { m: 256, t: 2, p: 1, version: 0x10 }),
      scrypt: scrypt(2 ** 14, 8, 1, "scryptSaltScryptSalt22"),
    },
  });
}

const PROJECT = "user-service";

// Tests run inside workerd with the bindings of wrangler.toml: real local D1, KV, Queues and the
// Durable Object. Secrets are generated here, fresh for every run.
export default defineConfig(async () => {
  const migrations = await readD1Migrations("./migrations");
  const keys = await generateSigningKeys("test-key");
  const secrets = {
    JWT_PRIVATE_KEY: keys.privateJwk,
    JWT_PUBLIC_KEYS: keys.publicJwks,
    SERVICE_KEYS: "dev-service:dev-service-key,other-service:other-service-key",
  };
  // Wrangler checks `[secrets] required` against process.env (or .dev.vars) and warns otherwise;
  // the bindings below are what the tests actually use, whatever .dev.vars holds.
  Object.assign(process.env, secrets);
  return {
    plugins: [
      cloudflareTest({
        wrangler: { configPath: "./wrangler.toml" },
        miniflare: {
          bindings: {
            TEST_MIGRATIONS: migrations,
            TEST_DJANGO_HASHES: djangoHashes(),
            ...secrets,
            // The webhook tests' slow receiver answers after 3 s: a delivery gives up after 1.
            WEBHOOK_TIMEOUT_SECONDS: "1",
            // Tests share one client address; the rate-limit tests set their own small limits.
            ...Object.fromEntries(
              [
                "REGISTER_IP",
                "LOGIN_IP",
                "LOGIN_ACCOUNT",
                "LOGIN_ACCOUNT_CEILING",
                "LOGIN_DEVICE",
                "RESET_IP",
                "RESET_EMAIL",
                "VERIFY_RESEND_USER",
                "GLOBAL_IP",
                "MFA_ACCOUNT",
                "MFA_IP",
                "OTP_EMAIL",
                "OTP_IP",
                "OTP_VERIFY_EMAIL",
                "OTP_VERIFY_IP",
                "OAUTH_IP",
              ].map((name) => [`RATE_LIMIT_${name}`, "100000/60"]),
            ),
          },
          // The general ceiling's binding, out of the way of tests that share one address; and small
          // ones for the tests of that ceiling (test/helpers/api.ts `globalCeiling`). Each is the
          // real Workers rate-limiting binding as Miniflare runs it.
          ratelimits: {
            GLOBAL_LIMITER: { namespace_id: "1001", simple: { limit: 1_000_000, period: 60 } },
            ...Object.fromEntries(
              [1, 2, 3].map((n) => [
                `TEST_GLOBAL_LIMITER_${n}`,
                { namespace_id: `900${n}`, simple: { limit: n, period: 60 } },
              ]),
            ),
          },
          // Deliver queue batches quickly so tests that follow an event to its consumer stay fast.
          queueConsumers: {
            "user-events": { maxBatchTimeout: 0.05 },
            "push-requests": { maxBatchTimeout: 0.05 },
            "push-requests-dlq": { maxBatchTimeout: 0.05 },
            "push-delivery": { maxBatchTimeout: 0.05 },
            "webhook-events": { maxBatchTimeout: 0.05 },
            "webhook-deliveries": { maxBatchTimeout: 0.05 },
            "webhook-deliveries-dlq": { maxBatchTimeout: 0.05 },
          },
          // A second Worker that calls this one over Workers RPC, the way other Workers will.
          workers: [
            {
              name: "rpc-caller",
              modules: true,
              scriptPath: "./test/rpc-caller/index.js",
              compatibilityDate: "2026-11-01",
              // The Worker under test runs as "vitest-plugin-runner-<project name>" (the plugin
              // renames it); the project is named below so this binding can find it.
              serviceBindings: {
                USERS: { name: `vitest-plugin-runner-${PROJECT}`, entrypoint: "UserService" },
              },
            },
          ],
          serviceBindings: { RPC_CALLER: "rpc-caller" },
          // A real D1 database without migrations, to exercise genuine database failures.
          d1Databases: { EMPTY_DB: "empty-db" },
        },
      }),
    ],
    test: {
      name: PROJECT,
      // Builds the git-ignored PBKDF2 WebAssembly module when missing or stale (src/auth/pbkdf2.ts),
      // and starts the webhook tests' HTTP receiver (test/setup/webhook-receiver.ts).
      globalSetup: ["./src/auth/wasm/build.ts", "./test/setup/webhook-receiver.ts"],
      setupFiles: ["./test/setup/apply-migrations.ts"],
      testTimeout: 20_000,
      // Not one runtime per file, for `npm test`'s time budget: the tests are order-independent.
      isolate: false,
      // The Worker logs a JSON line per request; show logs only for tests that fail.
      silent: "passed-only" as const,
    },
  };
});
