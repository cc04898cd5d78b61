/**
 * What the app does with the code the callback handed to `redirect_to` (src/oauth/sign-in.ts):
 * a sign-in's code → the session; a link's code → the identity linked, confirmed by the signed-in
 * user who started the link. Each code works once, briefly, and only where it was meant to.
 */
import { and, eq, gt, isNull } from "drizzle-orm";
import type { AccessClaims, Scope } from "../app-env";
import { sha256Hex } from "../auth/tokens";
import { uniqueViolation } from "../db/errors";
import { users } from "../db/schema";
import { oauthStates } from "../db/sign-in-schema";
import { ApiError } from "../errors";
import { commit } from "../events/outbox";
import { claimedBy, committedUnlessLost, guardedAudit, newClaim } from "../mfa/guard";
import { type FirstFactorOutcome, signInByFirstFactor } from "../sessions/first-factor";
import { selectUserForLogin } from "../users/user-object";
import { findIdentity, linkIdentity } from "./identities";
import { pkceChallenge } from "./provider-client";

/** A sign-in's code lives a minute after the callback; a link's, ten (the user may be asked). */
const EXCHANGE_TTL_MS = 60 * 1000;
const LINK_CONFIRM_TTL_MS = 10 * 60 * 1000;

const invalidCode = () => new ApiError("invalid_code", "Invalid or expired code");

async function handedBack(scope: Scope, code: string, ttlMs: number, now: Date) {
  const [row] = await scope.db
    .select()
    .from(oauthStates)
    .where(
      and(
        eq(oauthStates.exchangeHash, await sha256Hex(code)),
        isNull(oauthStates.exchangedAt),
        gt(oauthStates.usedAt, new Date(now.getTime() - ttlMs)),
      ),
    )
    .limit(1);
  return row ?? null;
}

const useUp = (scope: Scope, id: string, claim: string, now: Date) => ({
  statement: scope.db
    .update(oauthStates)
    .set({ exchangedAt: now, claim })
    .where(and(eq(oauthStates.id, id), isNull(oauthStates.exchangedAt))),
  guard: claimedBy(oauthStates, oauthStates.id, id, oauthStates.claim, claim),
});

/**
 * A token-mode sign-in's code → the session (or the second factor's challenge). An app that sent
 * its own PKCE `code_challenge` to authorize must show the verifier: a code that leaked from the
 * redirect is then no use to anyone else.
 */
export async function exchangeSignInCode(
  scope: Scope,
  body: { code: string; code_verifier?: string | undefined },
): Promise<Exclude<FirstFactorOutcome, { kind: "lost" }>> {
  const now = new Date();
  const row = await handedBack(scope, body.code, EXCHANGE_TTL_MS, now);
  if (!row?.userId || row.linkUserId !== null) throw invalidCode();
  if (row.appChallenge !== null) {
    const verifier = body.code_verifier;
    if (!verifier || (await pkceChallenge(verifier)) !== row.appChallenge) throw invalidCode();
  }
  const [found] = await selectUserForLogin(scope.db).where(eq(users.id, row.userId)).limit(1);
  if (!found?.user.isActive) throw invalidCode();
  const use = useUp(scope, row.id, newClaim(), now);
  const outcome = await signInByFirstFactor(
    scope,
    {
      account: found,
      mfa: found.mfa,
      method: "oauth",
      uses: [use.statement],
      guards: [use.guard],
      metadata: { method: "oauth", provider: row.provider },
    },
    now,
  );
  if (outcome.kind === "lost") throw invalidCode();
  return outcome;
}

/**
 * A link's code, confirmed by the signed-in user who started the link: the identity is linked to
 * their account (409 `identity_taken` if another account has it). Someone else's token — a victim
 * who opened an attacker's link URL — gets the 401 of an unknown code, and nothing is linked.
 */
export async function confirmLink(
  scope: Scope,
  session: Pick<AccessClaims, "userId">,
  code: string,
) {
  const { db, meta } = scope;
  const now = new Date();
  const row = await handedBack(scope, code, LINK_CONFIRM_TTL_MS, now);
  if (!row?.profile || row.linkUserId !== session.userId) throw invalidCode();
  const identity = await findIdentity(db, row.provider, row.profile.subject);
  const taken = () => new ApiError("identity_taken", "Another account has this identity");
  if (identity && identity.userId !== session.userId) throw taken();
  const [found] = await selectUserForLogin(db).where(eq(users.id, session.userId)).limit(1);
  if (!found?.user.isActive) throw invalidCode();
  const use = useUp(scope, row.id, newClaim(), now);
  const linking = identity ? [] : linkIdentity(scope, found.user, row.provider, row.profile, now);
  try {
    const committed = await committedUnlessLost(() =>
      commit(db, meta, [
        use.statement,
        ...linking,
        guardedAudit(
          db,
          meta,
          {
            userId: session.userId,
            action: "identity_link_confirmed",
            metadata: { provider: row.provider },
            at: now,
          },
          [use.guard],
        ),
      ]),
    );
    if (!committed) throw invalidCode();
  } catch (err) {
    if (uniqueViolation(err) === "identities.provider") throw taken();
    throw err;
  }
  return { provider: row.provider };
}
