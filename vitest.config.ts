import { pbkdf2Sync } from "node:crypto";
import { cloudflareTest, readD1Migrations } from "@cloudflare/vitest-plugin";
import { defineConfig } from "vitest/config";
import { generateSigningKeys } from "./scripts/keys.ts";

/**
 * Django `pbkdf2_sha256$…` hashes computed by Node's OpenSSL, an implementation independent of the
 * Worker's, so the tests check our PBKDF2 against it (including above 100,000 iterations).
 */
function djangoHashes() {
  const password = "lètmein-€-imported";
  // Longer than SHA-256's 64-byte block, so HMAC hashes the key first.
  const longPassword = `${"long-imported-passphrase-".repeat(4)}ü`;
  const hash = (iterations: number, salt: string, secret = password) =>
    `pbkdf2_sha256$${iterations}$${salt}$${pbkdf2Sync(secret, salt, iterations, 32, "sha256").toString("base64")}`;
  return JSON.stringify({
    password,
    longPassword,
    hashes: {
      long_password: hash(150_000, "longlonglonglong", longPassword),
      django_3_2: hash(260_000, "seasaltSEASALT12"),
      django_5_1: hash(870_000, "Xk2vB9qLz0pR7sTw"),
      at_limit: hash(100_000, "limitlimitlimit1"),
      above_limit: hash(100_001, "limitlimitlimit2"),
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
            // Tests share one client address; the rate-limit tests set their own small limits.
            ...Object.fromEntries(
              [
                "REGISTER_IP",
                "LOGIN_IP",
                "LOGIN_ACCOUNT",
                "RESET_IP",
                "RESET_EMAIL",
                "VERIFY_RESEND_USER",
                "GLOBAL_IP",
              ].map((name) => [`RATE_LIMIT_${name}`, "100000/60"]),
            ),
          },
          // Deliver queue batches quickly so tests that follow an event to its consumer stay fast.
          queueConsumers: {
            "user-events": { maxBatchTimeout: 0.05 },
            "push-requests": { maxBatchTimeout: 0.05 },
            "push-requests-dlq": { maxBatchTimeout: 0.05 },
            "push-delivery": { maxBatchTimeout: 0.05 },
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
      // Builds the git-ignored PBKDF2 WebAssembly module when missing or stale (src/auth/pbkdf2.ts).
      globalSetup: ["./src/auth/wasm/build.ts"],
      setupFiles: ["./test/setup/apply-migrations.ts"],
      testTimeout: 20_000,
      // The Worker logs a JSON line per request; show logs only for tests that fail.
      silent: "passed-only" as const,
    },
  };
});
