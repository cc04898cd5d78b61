/**
 * Single-use tokens for email verification and password reset (DESIGN §4, §5): 256 random bits,
 * only the SHA-256 stored, a purpose, an expiry, and one use.
 *
 * A use is one batch: mark the token used, apply the change, and write the use's audit row — whose
 * primary key is the token's id and whose time is read from the token row as this batch marked it.
 * A second use of the same token violates that key; a use of a token that was deleted or used
 * since it was read (a resend, a newer reset, an email change) finds no such row and violates the
 * NOT NULL on the time. Either way the whole batch rolls back: exactly one use commits, and a
 * loser writes nothing.
 *
 * A token also carries the address it was mailed to: it proves control of that address only, so
 * once the account's email differs it is dead.
 */
import { and, eq, isNull, sql } from "drizzle-orm";
import type { RequestMeta } from "../app-env";
import type { AuditAction } from "../audit/audit-log";
import type { Config } from "../config";
import type { Db } from "../db/client";
import { notNullViolation, uniqueViolation } from "../db/errors";
import { auditLog, oneTimeTokens, type TokenPurpose, users } from "../db/schema";
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
  user: { id: string; email: string },
  purpose: TokenPurpose,
  now: Date,
): Promise<IssuedToken> {
  const userId = user.id;
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
        email: user.email,
        tokenHash: await sha256Hex(token),
        expiresAt,
        createdAt: now,
      }),
    ],
  };
}

/** Deletes a user's unused tokens of one purpose, or of every purpose (e.g. on an email change). */
export function invalidateUnusedTokens(db: Db, userId: string, purpose?: TokenPurpose) {
  if (purpose) return deleteUnused(db, userId, purpose);
  return db
    .delete(oneTimeTokens)
    .where(and(eq(oneTimeTokens.userId, userId), isNull(oneTimeTokens.usedAt)));
}

const INVALID_TOKEN_MESSAGE = "This link is invalid or has expired.";

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
 * The audit row of a token's use, and the guard of its batch (see the top of this file): keyed by
 * the token's id, timed by the token row as `markTokenUsed` left it in this same batch.
 */
export function tokenUseAudit(
  db: Db,
  meta: RequestMeta,
  token: { id: string; userId: string },
  action: AuditAction,
  now: Date,
) {
  return db.insert(auditLog).values({
    id: token.id,
    userId: token.userId,
    action,
    ip: meta.ip,
    userAgent: meta.userAgent,
    createdAt: sql`(select ${oneTimeTokens.usedAt} from ${oneTimeTokens} where ${oneTimeTokens.id} = ${token.id} and ${oneTimeTokens.usedAt} = ${now.getTime()})`,
  });
}

/** The active account a token belongs to, still at the address the token was mailed to. */
export async function tokenOwner(db: Db, token: { userId: string; email: string }) {
  const [user] = await db
    .select()
    .from(users)
    .where(and(eq(users.id, token.userId), eq(users.isActive, true), eq(users.email, token.email)))
    .limit(1);
  if (!user) throw fieldError("token", INVALID_TOKEN_MESSAGE);
  return user;
}

/**
 * Runs a token's batch (which must include its `tokenUseAudit`); a use that lost a race — to
 * another use, a resend, a newer token or an email change — turns into the 400 of every
 * unusable token, having written nothing.
 */
export async function applyTokenUse<T>(run: () => Promise<T>): Promise<T> {
  try {
    return await run();
  } catch (err) {
    const lost =
      uniqueViolation(err) === "audit_log.id" || notNullViolation(err) === "audit_log.created_at";
    if (lost) throw fieldError("token", INVALID_TOKEN_MESSAGE);
    throw err;
  }
}
