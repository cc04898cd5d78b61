/**
 * Single-use tokens for email verification and password reset (DESIGN §4, §5): 256 random bits,
 * only the SHA-256 stored, a purpose, an expiry, and one use.
 *
 * A use is one batch: mark the token used, apply the change, and write the audit row whose primary
 * key is the token's id. Two concurrent uses both find the token unused when they read it, but the
 * second batch then violates that primary key and rolls back whole — so exactly one succeeds and
 * the loser writes nothing.
 */
import { and, eq, isNull } from "drizzle-orm";
import type { Config } from "../config";
import type { Db } from "../db/client";
import { uniqueViolation } from "../db/errors";
import { oneTimeTokens, type TokenPurpose } from "../db/schema";
import { fieldError } from "../errors";
import { randomToken, sha256Hex } from "./tokens";

export interface IssuedToken {
  token: string;
  expiresAt: Date;
  /** Kill the user's unused tokens of this purpose, then store the new one: run in one batch. */
  statements: [ReturnType<typeof deleteUnused>, ReturnType<typeof insertToken>];
}

function deleteUnused(db: Db, userId: string, purpose: TokenPurpose) {
  return db
    .delete(oneTimeTokens)
    .where(
      and(
        eq(oneTimeTokens.userId, userId),
        eq(oneTimeTokens.purpose, purpose),
        isNull(oneTimeTokens.usedAt),
      ),
    );
}

function insertToken(db: Db, values: typeof oneTimeTokens.$inferInsert) {
  return db.insert(oneTimeTokens).values(values);
}

/** A new token for `purpose`; any earlier unused one of the same purpose dies with it. */
export async function issueOneTimeToken(
  db: Db,
  config: Config,
  userId: string,
  purpose: TokenPurpose,
  now: Date,
): Promise<IssuedToken> {
  const token = randomToken();
  const expiresAt = new Date(now.getTime() + config.oneTimeTokenTtlMs[purpose]);
  return {
    token,
    expiresAt,
    statements: [
      deleteUnused(db, userId, purpose),
      insertToken(db, {
        id: crypto.randomUUID(),
        userId,
        purpose,
        tokenHash: await sha256Hex(token),
        expiresAt,
        createdAt: now,
      }),
    ],
  };
}

/** Deletes a user's unused tokens of one purpose (e.g. other resets once one succeeded). */
export function invalidateUnusedTokens(db: Db, userId: string, purpose: TokenPurpose) {
  return deleteUnused(db, userId, purpose);
}

export const INVALID_TOKEN_MESSAGE = "This link is invalid or has expired.";

/**
 * The stored token for a presented value, if it has this purpose and is unused and unexpired;
 * otherwise a 400 on `token` — the same message for unknown, used, expired and wrong-purpose
 * tokens, so nothing is learned from it.
 */
export async function findUsableToken(db: Db, token: string, purpose: TokenPurpose, now: Date) {
  const [row] = await db
    .select()
    .from(oneTimeTokens)
    .where(eq(oneTimeTokens.tokenHash, await sha256Hex(token)))
    .limit(1);
  if (!row || row.purpose !== purpose || row.usedAt !== null || row.expiresAt <= now) {
    throw fieldError("token", INVALID_TOKEN_MESSAGE);
  }
  return row;
}

/** Marks the token used; goes first in the batch that applies the token's change. */
export function markTokenUsed(db: Db, tokenId: string, now: Date) {
  return db
    .update(oneTimeTokens)
    .set({ usedAt: now })
    .where(and(eq(oneTimeTokens.id, tokenId), isNull(oneTimeTokens.usedAt)));
}

/**
 * Runs a token's batch (which must include the audit row with `id: token.id`); a concurrent use
 * that committed first turns into the same 400 as any unusable token.
 */
export async function applyTokenUse<T>(run: () => Promise<T>): Promise<T> {
  try {
    return await run();
  } catch (err) {
    if (uniqueViolation(err) === "audit_log.id") throw fieldError("token", INVALID_TOKEN_MESSAGE);
    throw err;
  }
}
