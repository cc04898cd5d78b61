/**
 * Short-lived, single-use challenges (auth_challenges): a login's `mfa_token` waiting for its
 * second factor, and the WebAuthn challenges a passkey must sign. Using one is a conditional
 * UPDATE, so of two concurrent uses exactly one wins.
 */
import { and, eq, gt, isNull, lt, sql } from "drizzle-orm";
import { randomToken, sha256Hex } from "../auth/tokens";
import type { Db } from "../db/client";
import { authChallenges, type ChallengePurpose, type ChallengeRow } from "../db/mfa-schema";
import { claimedBy } from "./guard";

/** How long a login waits for its second factor, and a passkey ceremony for its answer. */
export const CHALLENGE_TTL_MS = 5 * 60 * 1000;
/** Wrong codes one `mfa_token` survives; after them the login must start again. */
const MFA_TOKEN_FAILURES = 5;

/** A login's `mfa_token` (returned once) and the INSERT recording its hash. */
export async function newMfaToken(
  db: Db,
  userId: string,
  values: { challenge: string | null; context: Record<string, unknown> },
  now: Date,
) {
  const token = randomToken();
  return {
    token,
    insert: db.insert(authChallenges).values({
      id: await sha256Hex(`mfa-token:${token}`),
      purpose: "mfa_login",
      userId,
      challenge: values.challenge,
      context: values.context,
      expiresAt: new Date(now.getTime() + CHALLENGE_TTL_MS),
      createdAt: now,
    }),
  };
}

/** The INSERT of a WebAuthn ceremony's challenge; its id is handed to the client. */
export function newCeremony(
  db: Db,
  purpose: Exclude<ChallengePurpose, "mfa_login">,
  userId: string | null,
  challenge: string,
  now: Date,
) {
  const id = crypto.randomUUID();
  return {
    id,
    insert: db.insert(authChallenges).values({
      id,
      purpose,
      userId,
      challenge,
      expiresAt: new Date(now.getTime() + CHALLENGE_TTL_MS),
      createdAt: now,
    }),
  };
}

const usable = (now: Date) =>
  and(
    isNull(authChallenges.usedAt),
    gt(authChallenges.expiresAt, now),
    lt(authChallenges.failures, MFA_TOKEN_FAILURES),
  );

/** The live challenge with this id and purpose (and user, when given), or null. */
export async function liveChallenge(
  db: Db,
  id: string,
  purpose: ChallengePurpose,
  now: Date,
  userId?: string,
): Promise<ChallengeRow | null> {
  const [row] = await db
    .select()
    .from(authChallenges)
    .where(
      and(
        eq(authChallenges.id, id),
        eq(authChallenges.purpose, purpose),
        userId === undefined ? undefined : eq(authChallenges.userId, userId),
        usable(now),
      ),
    )
    .limit(1);
  return row ?? null;
}

export const mfaTokenId = (token: string) => sha256Hex(`mfa-token:${token}`);

/** The UPDATE using a challenge up for the request marked `claim` (src/mfa/guard.ts). */
export function claimChallenge(db: Db, id: string, now: Date, claim: string) {
  return db
    .update(authChallenges)
    .set({ usedAt: now, claim })
    .where(and(eq(authChallenges.id, id), usable(now)));
}

/** "This request used the challenge up", for the batch's guard. */
export const challengeClaimed = (id: string, claim: string) =>
  claimedBy(authChallenges, authChallenges.id, id, authChallenges.claim, claim);

/** One more wrong code against a challenge. */
export function countFailure(db: Db, id: string) {
  return db
    .update(authChallenges)
    .set({ failures: sql`${authChallenges.failures} + 1` })
    .where(eq(authChallenges.id, id));
}
