/**
 * The routes `npm run bench` measures against, local only like every stand-in (src/dev/enabled.ts):
 * a baseline that does no work, a hot read's round trips with none of its work (its I/O twin), one
 * Argon2id hash with the configured parameters, and that hash inside login's round trips (login's
 * twin).
 */
import { createRoute, z } from "@hono/zod-openapi";
import { hashPassword, PASSWORD_MAX_LENGTH } from "../../auth/passwords";
import { devToolsOnly } from "../../dev/enabled";
import { readBenchKeys } from "../../dev/store";
import { passwordAttempts } from "../../rate-limit/attempts";
import { createRouter, errorResponses, jsonRequest } from "../openapi";
import { tags } from "../tags";
import { emailField } from "../users/users.schemas";

const noop = createRoute({
  method: "get",
  path: "/_dev/noop",
  tags: tags("Dev tools"),
  summary: "Local only (DEV_TOOLS): does nothing — the benchmarks' baseline",
  description:
    "Passes the middleware every request passes (configuration, headers, the general rate " +
    "limit) and answers 204 with no I/O, so `npm run bench` can state each endpoint's " +
    "throughput relative to the cheapest possible request. Absent (404) unless DEV_TOOLS is on.",
  middleware: [devToolsOnly] as const,
  responses: {
    204: { description: "Nothing done" },
    ...errorResponses("not_found"),
  },
});

const ioTwin = createRoute({
  method: "get",
  path: "/_dev/io",
  tags: tags("Dev tools"),
  summary: "Local only (DEV_TOOLS): a hot route's round trips and nothing else",
  description:
    "The baseline (GET /_dev/noop) plus the I/O of a hot route, with none of its work: `kv` " +
    "keys in one KV read (a bulk read when more than one), of which the first `hits` exist " +
    "(written on first use, the size of a cached preferences entry), and `d1` " +
    "statements `SELECT 1` on the request's D1 session, all at once. `npm run bench` compares " +
    "each read with its twin, so what the local runtime spends simulating D1 and KV in the " +
    "Worker's process is told apart from the Worker's own work. Absent (404) unless DEV_TOOLS " +
    "is on.",
  middleware: [devToolsOnly] as const,
  request: {
    query: z
      .object({
        kv: z.coerce.number().int().min(0).max(8).default(0),
        hits: z.coerce.number().int().min(0).max(8).default(0),
        d1: z.coerce.number().int().min(0).max(8).default(0),
      })
      .refine((q) => q.hits <= q.kv, { path: ["hits"], message: "At most kv." }),
  },
  responses: {
    204: { description: "The round trips made" },
    ...errorResponses("validation_failed", "not_found"),
  },
});

const hash = createRoute({
  method: "post",
  path: "/_dev/hash",
  tags: tags("Dev tools"),
  summary: "Local only (DEV_TOOLS): one Argon2id hash of the posted password",
  description:
    "Hashes the password once with the configured parameters (PASSWORD_HASH_*) and discards " +
    "the result, so `npm run bench` can measure the hash's own cost in the same run as login: " +
    "inside workerd the clock does not advance during CPU work, so the cost is timed from the " +
    "outside. Absent (404) unless DEV_TOOLS is on.",
  middleware: [devToolsOnly] as const,
  request: {
    body: jsonRequest(
      z
        .object({
          password: z.string().min(1).max(PASSWORD_MAX_LENGTH).openapi({ format: "password" }),
        })
        .openapi({ example: { password: "violet-Harbor-42" } }),
    ),
  },
  responses: {
    204: { description: "Hashed (the hash is not returned)" },
    ...errorResponses("validation_failed", "not_found"),
  },
});

/** The statements of login's one write batch: the session, last login, audit entry, outbox row. */
const LOGIN_BATCH = 4;

const loginTwin = createRoute({
  method: "post",
  path: "/_dev/login-io",
  tags: tags("Dev tools"),
  summary: "Local only (DEV_TOOLS): login's round trips around one Argon2id hash, nothing else",
  description:
    "What POST /auth/login/ does for a right password without a device proof, minus its own " +
    "work: the limiter's counts for the posted email (the client network's, and the account's " +
    "per network and ceiling, at once) beside one D1 statement `SELECT 1` (the user lookup), " +
    "one Argon2id hash of the posted password (the check), then the account's settling beside " +
    `a D1 batch of ${LOGIN_BATCH} statements \`SELECT 1\` (login's write batch). No user is read, no ` +
    "session written, no token signed. `npm run bench` compares login with it, so what the " +
    "local runtime spends simulating the limiter and D1 in the Worker's process is told apart " +
    "from login's own work (its statements here are reads, cheaper than login's writes, so the " +
    "difference is an upper bound of that work). Absent (404) unless DEV_TOOLS is on.",
  middleware: [devToolsOnly] as const,
  request: {
    body: jsonRequest(
      z
        .object({
          email: emailField,
          password: z.string().min(1).max(PASSWORD_MAX_LENGTH).openapi({ format: "password" }),
        })
        .openapi({ example: { email: "ada@example.com", password: "violet-Harbor-42" } }),
    ),
  },
  responses: {
    204: { description: "The round trips made and the password hashed" },
    ...errorResponses("validation_failed", "rate_limited", "not_found"),
  },
});

export const benchRouter = createRouter()
  .openapi(noop, (c) => c.body(null, 204))
  .openapi(ioTwin, async (c) => {
    const { kv, hits, d1 } = c.req.valid("query");
    const session = c.get("db").$client;
    await Promise.all([
      kv > 0 ? readBenchKeys(c.env.KV, kv, hits) : null,
      ...Array.from({ length: d1 }, () => session.prepare("SELECT 1").raw()),
    ]);
    return c.body(null, 204);
  })
  .openapi(hash, (c) => {
    hashPassword(c.req.valid("json").password, c.get("config").passwordHash);
    return c.body(null, 204);
  })
  .openapi(loginTwin, async (c) => {
    const { email, password } = c.req.valid("json");
    const session = c.get("db").$client;
    const attempts = passwordAttempts(c, {});
    await Promise.all([
      session.prepare("SELECT 1").raw(),
      attempts.begin(email, Promise.resolve(null)),
    ]);
    hashPassword(password, c.get("config").passwordHash);
    attempts.succeeded();
    await session.batch(Array.from({ length: LOGIN_BATCH }, () => session.prepare("SELECT 1")));
    return c.body(null, 204);
  });
