/**
 * Recovery codes: ten single-use codes shown once, for when the authenticator is lost. Each is 50
 * random bits in an alphabet without look-alikes, written `xxxxx-xxxxx`; only a SHA-256 of it
 * (bound to its user) is stored. Full-entropy secrets need no slow hash.
 */
import { and, eq, isNull } from "drizzle-orm";
import { sha256Hex } from "../auth/tokens";
import type { Db } from "../db/client";
import { mfaRecoveryCodes } from "../db/mfa-schema";
import { claimedBy } from "./guard";

const COUNT = 10;
const ALPHABET = "abcdefghjkmnpqrstuvwxyz23456789"; // no i, l, o, 0, 1
const LENGTH = 10;

function newCode(): string {
  const chars: string[] = [];
  // Rejection sampling keeps every character equally likely.
  while (chars.length < LENGTH) {
    for (const byte of crypto.getRandomValues(new Uint8Array(16))) {
      if (byte < 248 && chars.length < LENGTH) chars.push(ALPHABET[byte % 31] as string);
    }
  }
  return `${chars.slice(0, 5).join("")}-${chars.slice(5).join("")}`;
}

/** How a user may type a code: in either case, with or without the dash and spaces. */
const normalized = (code: string) => code.toLowerCase().replace(/[\s-]/g, "");

export const recoveryCodeHash = (userId: string, code: string) =>
  sha256Hex(`recovery-code:${userId}:${normalized(code)}`);

/** A fresh set of codes, and the statements that replace the user's old set with it. */
export async function newRecoveryCodes(db: Db, userId: string, now: Date) {
  const codes = Array.from({ length: COUNT }, newCode);
  const hashes = await Promise.all(codes.map((code) => recoveryCodeHash(userId, code)));
  return {
    codes,
    statements: [
      db.delete(mfaRecoveryCodes).where(eq(mfaRecoveryCodes.userId, userId)),
      db
        .insert(mfaRecoveryCodes)
        .values(hashes.map((codeHash) => ({ codeHash, userId, createdAt: now }))),
    ] as const,
  };
}

/** The UPDATE using a code up for the request marked `claim` (src/mfa/guard.ts), and its test. */
export function claimRecoveryCode(
  db: Db,
  userId: string,
  codeHash: string,
  now: Date,
  claim: string,
) {
  return {
    statement: db
      .update(mfaRecoveryCodes)
      .set({ usedAt: now, claim })
      .where(
        and(
          eq(mfaRecoveryCodes.codeHash, codeHash),
          eq(mfaRecoveryCodes.userId, userId),
          isNull(mfaRecoveryCodes.usedAt),
        ),
      ),
    claimed: claimedBy(
      mfaRecoveryCodes,
      mfaRecoveryCodes.codeHash,
      codeHash,
      mfaRecoveryCodes.claim,
      claim,
    ),
  };
}
