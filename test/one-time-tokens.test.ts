/**
 * The guard that makes a one-time token's use all-or-nothing, exercised directly: the races it
 * closes (a resend, a newer reset or an email change landing between reading the token and using
 * it) cannot be timed reliably through HTTP, so the batch they would produce is run here.
 */
import { env } from "cloudflare:workers";
import { eq } from "drizzle-orm";
import { afterEach, describe, expect, it, vi } from "vitest";
import {
  applyTokenUse,
  findUsableToken,
  issueOneTimeToken,
  markTokenUsed,
  tokenOwner,
  tokenUseAudit,
} from "../src/auth/one-time-tokens";
import { getConfig } from "../src/config";
import { auditLog, oneTimeTokens, users } from "../src/db/schema";
import { ApiError } from "../src/errors";
import { callWith, expectError, request } from "./helpers/api";
import { tokenFromMail } from "./helpers/mailbox";
import { db, login, PASSWORD, register, userRow } from "./helpers/users";

afterEach(() => {
  vi.restoreAllMocks();
});

/**
 * Lets the request read its token, then — just before its write batch reaches D1 — commits a
 * competing change (what a resend, a newer reset or an email change would do), then runs the
 * request's real batch. The race is the only thing arranged; D1 does the rest.
 */
/**
 * The real D1 binding, but its first batch (through the request's session too) waits for
 * `competing` to finish first: a race made certain.
 */
function raceBeforeNextBatch(competing: () => Promise<unknown>): D1Database {
  let raced = false;
  const intercept = <T extends object>(d1: T): T =>
    new Proxy(d1, {
      get(target, property) {
        const value = Reflect.get(target, property, target);
        if (typeof value !== "function") return value;
        const call = (...args: unknown[]) => Reflect.apply(value, target, args);
        if (property === "batch") {
          return async (...args: unknown[]) => {
            if (!raced) {
              raced = true;
              await competing();
            }
            return call(...args);
          };
        }
        if (property === "withSession")
          return (...args: unknown[]) => intercept(call(...args) as object);
        return call;
      },
    });
  return intercept(env.DB);
}

const killTokens = (userId: string) => () =>
  env.DB.prepare("DELETE FROM one_time_tokens WHERE user_id = ? AND used_at IS NULL")
    .bind(userId)
    .run();

const meta = { ip: null, userAgent: null, correlationId: "test", eventIds: [] };

async function issued(user: { id: string; email: string }) {
  const now = new Date();
  const token = await issueOneTimeToken(db(), getConfig(env), user, "email_verification", now);
  await db().batch(token.statements);
  return {
    token: token.token,
    stored: await findUsableToken(db(), token.token, "email_verification", now),
  };
}

/** The batch verify-email runs: mark used, apply the change, the guard row. */
function useBatch(stored: { id: string; userId: string }, now: Date) {
  return db().batch([
    markTokenUsed(db(), stored.id, now),
    db().update(users).set({ emailVerifiedAt: now }).where(eq(users.id, stored.userId)),
    tokenUseAudit(db(), meta, stored, "email_verified", now),
  ]);
}

async function expectRefusedAndNothingWritten(
  run: () => Promise<unknown>,
  userId: string,
  tokenId: string,
) {
  const failure = await applyTokenUse(run).catch((err: unknown) => err);
  expect(failure).toBeInstanceOf(ApiError);
  expect((failure as ApiError).details).toEqual({
    token: ["This link is invalid or has expired."],
  });
  expect((await userRow(userId))?.emailVerifiedAt).toBeNull();
  expect(await db().select().from(auditLog).where(eq(auditLog.id, tokenId))).toHaveLength(0);
}

describe("one-time token guard", () => {
  it("commits a use of a live token, with its audit row timed by the token", async () => {
    const user = await register();
    const { stored } = await issued(user);
    const now = new Date();
    await applyTokenUse(() => useBatch(stored, now));
    expect((await userRow(user.id))?.emailVerifiedAt).toEqual(now);
    const [audit] = await db().select().from(auditLog).where(eq(auditLog.id, stored.id));
    expect(audit?.createdAt).toEqual(now);
  });

  it("rolls back a use of a token deleted after it was read (a resend won the race)", async () => {
    const user = await register();
    const { stored } = await issued(user);
    await db().delete(oneTimeTokens).where(eq(oneTimeTokens.id, stored.id));
    await expectRefusedAndNothingWritten(() => useBatch(stored, new Date()), user.id, stored.id);
  });

  it("rolls back a use of a token another request used after it was read", async () => {
    const user = await register();
    const { stored } = await issued(user);
    await db()
      .update(oneTimeTokens)
      .set({ usedAt: new Date(Date.now() - 1000) })
      .where(eq(oneTimeTokens.id, stored.id));
    await expectRefusedAndNothingWritten(() => useBatch(stored, new Date()), user.id, stored.id);
  });

  it("refuses a token once the account's email is no longer the one it was mailed to", async () => {
    const user = await register();
    const { token } = await issued(user);
    await db()
      .update(users)
      .set({ email: `moved-${user.email}` })
      .where(eq(users.id, user.id));
    const stored = await findUsableToken(db(), token, "email_verification", new Date());
    await expect(tokenOwner(db(), stored)).rejects.toBeInstanceOf(ApiError);
  });
});

describe("the handlers, racing a token's death", () => {
  it("verify-email writes nothing when a resend kills its token mid-request", async () => {
    const user = await register();
    const token = await tokenFromMail(user.email, "user.email_verification_requested");
    const DB = raceBeforeNextBatch(killTokens(user.id));
    const res = await callWith({ DB }, request("POST", "/auth/verify-email/", { body: { token } }));
    expectError(res, 400, "validation_failed");
    expect((await userRow(user.id))?.emailVerifiedAt).toBeNull();
  });

  it("reset-confirm writes nothing when its link dies mid-request", async () => {
    const user = await register();
    await callWith({}, request("POST", "/auth/password-reset/", { body: { email: user.email } }));
    const token = await tokenFromMail(user.email, "user.password_reset_requested");
    const DB = raceBeforeNextBatch(killTokens(user.id));
    const res = await callWith(
      { DB },
      request("POST", "/auth/password-reset/confirm/", {
        body: { token, password: "late-Comer-77" },
      }),
    );
    expectError(res, 400, "validation_failed");
    expect((await login(user.email, PASSWORD)).status).toBe(200);
    expect((await login(user.email, "late-Comer-77")).status).toBe(401);
  });
});
