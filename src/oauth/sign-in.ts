/**
 * The provider's callback and what follows it (README: Sign-in with an identity provider).
 *
 * Which account an identity signs in to:
 * - an identity linked before → its account;
 * - a link started by a signed-in user → linked to that user (unless another account has it);
 * - an email that an account already has → linked and signed in only when the provider is trusted
 *   for its emails (`trust_email`) and says the email is verified; otherwise refused with
 *   `identity_not_linked` (the owner signs in and links it explicitly);
 * - otherwise → a new account, with no password, verified if the provider verified the email.
 *
 * A token-mode sign-in ends at `redirect_to?code=…`, a single-use code (one minute) the app
 * exchanges for the session at `POST /auth/oauth/token/`; a cookie-mode one opens the browser
 * session at once. Failures after the state was honoured go back to `redirect_to?error=…`.
 */
import { and, eq, gt, isNull, sql } from "drizzle-orm";
import { z } from "zod";
import type { Scope } from "../app-env";
import { auditEntry } from "../audit/audit-log";
import { randomToken, sha256Hex } from "../auth/tokens";
import type { OAuthProvider } from "../config-sign-in";
import { users } from "../db/schema";
import { oauthStates } from "../db/sign-in-schema";
import { ApiError } from "../errors";
import { commit, commitAll } from "../events/outbox";
import { newClaim } from "../mfa/guard";
import { type FirstFactorOutcome, signInByFirstFactor } from "../sessions/first-factor";
import type { TokenPair } from "../sessions/token-pair";
import { passwordlessAccount } from "../users/registration";
import { selectUserForLogin } from "../users/user-object";
import { findIdentity, linkIdentity, touchIdentity } from "./identities";
import { exchangeCode, ProviderError, type ProviderProfile } from "./provider-client";
import { type ClaimedState, claimState } from "./states";

const EXCHANGE_TTL_MS = 60 * 1000;

export interface CallbackOutcome {
  /** Where the browser goes next: `redirect_to` with the outcome's parameters. */
  location: string;
  /** Cookie mode: the session to set as cookies. */
  session?: TokenPair;
}

function back(state: ClaimedState, params: Record<string, string>, fragment?: string): string {
  const url = new URL(state.redirectTo);
  for (const [key, value] of Object.entries(params)) url.searchParams.set(key, value);
  if (fragment) url.hash = fragment;
  return url.toString();
}

const email = z.email();

/** Handles the provider's answer: `params` from the query (or the form, for form_post). */
export async function handleCallback(
  scope: Scope,
  provider: OAuthProvider,
  params: URLSearchParams,
  binding: string | undefined,
  callbackUrl: string,
): Promise<CallbackOutcome> {
  const { db, meta } = scope;
  const now = new Date();
  const state = await claimState(scope, provider, params.get("state"), binding, now);
  const failed = async (error: string, reason: string, userId: string | null = null) => {
    await auditEntry(db, meta, {
      userId,
      action: "oauth_failure",
      metadata: { provider: provider.id, reason },
      at: now,
    });
    return { location: back(state, { error }) };
  };
  if (params.has("error")) return failed("access_denied", "provider_refused");
  let profile: ProviderProfile;
  try {
    profile = await exchangeCode(provider, params, {
      state: state.state,
      nonce: state.nonce,
      codeVerifier: state.codeVerifier,
      redirectUri: callbackUrl,
    });
  } catch (err) {
    if (err instanceof ProviderError) return failed("oauth_failed", err.reason);
    throw err;
  }
  if (profile.email !== null && !email.safeParse(profile.email).success) {
    profile = { ...profile, email: null, emailVerified: false };
  }
  const identity = await findIdentity(db, provider.id, profile.subject);

  if (state.linkUserId) {
    if (identity && identity.userId !== state.linkUserId) {
      return failed("identity_taken", "linked_to_another_account", state.linkUserId);
    }
    if (!identity) {
      const [found] = await selectUserForLogin(db).where(eq(users.id, state.linkUserId)).limit(1);
      if (!found?.user.isActive) return failed("access_denied", "inactive", state.linkUserId);
      await commit(db, meta, [...linkIdentity(scope, found.user, provider.id, profile, now)]);
    }
    return { location: back(state, { linked: provider.id }) };
  }

  let found = identity
    ? (await selectUserForLogin(db).where(eq(users.id, identity.userId)).limit(1))[0]
    : undefined;
  const uses = [];
  let created: Awaited<ReturnType<typeof passwordlessAccount>> | null = null;
  if (identity) {
    uses.push(touchIdentity(db, identity.id, now));
  } else {
    if (!profile.email) return failed("email_required", "no_email");
    [found] = await selectUserForLogin(db).where(eq(users.email, profile.email)).limit(1);
    if (found) {
      if (!provider.trustEmail || !profile.emailVerified) {
        const reason = provider.trustEmail ? "email_not_verified" : "provider_not_trusted";
        return failed("identity_not_linked", reason, found.user.id);
      }
      uses.push(...linkIdentity(scope, found.user, provider.id, profile, now));
      if (found.user.emailVerifiedAt === null) {
        // The trusted provider's verified email proves the address.
        uses.push(
          db.update(users).set({ emailVerifiedAt: now }).where(eq(users.id, found.user.id)),
        );
        found = { ...found, user: { ...found.user, emailVerifiedAt: now } };
      }
    } else {
      created = await passwordlessAccount(
        scope,
        {
          email: profile.email,
          name: profile.name ?? undefined,
          emailVerified: profile.emailVerified,
        },
        now,
      );
      uses.push(
        ...created.statements,
        ...linkIdentity(scope, created.account.user, provider.id, profile, now),
      );
    }
  }
  const account = found ?? (created ? { ...created.account, mfa: false } : undefined);
  if (!account) return failed("access_denied", "no_account");
  if (!account.user.isActive) return failed("access_denied", "inactive", account.user.id);
  const unverified = scope.config.requireEmailVerification && account.user.emailVerifiedAt === null;

  // Whatever else happens, the outcome is this state's.
  const mark = db
    .update(oauthStates)
    .set({ userId: account.user.id })
    .where(eq(oauthStates.id, state.id));
  if (state.sessionMode === "token" || unverified) {
    const code = randomToken();
    // The account (a new one) first: the state then refers to it.
    await commitAll(db, meta, [
      ...uses,
      db
        .update(oauthStates)
        .set({ userId: account.user.id, exchangeHash: unverified ? null : await sha256Hex(code) })
        .where(eq(oauthStates.id, state.id)),
    ]);
    if (unverified) return failed("email_not_verified", "email_not_verified", account.user.id);
    return { location: back(state, { code }) };
  }
  const outcome = await signInByFirstFactor(
    scope,
    {
      account,
      mfa: account.mfa,
      method: "oauth",
      uses: [...uses, mark],
      guards: [
        sql`exists (select 1 from ${oauthStates} where ${oauthStates.id} = ${state.id} and ${oauthStates.claim} = ${state.claim})`,
      ],
      metadata: { method: "oauth", provider: provider.id, ...(created ? { created: true } : {}) },
    },
    now,
  );
  if (outcome.kind === "lost") return failed("oauth_failed", "already_used", account.user.id);
  if (outcome.kind === "mfa") {
    return {
      location: back(state, {}, `mfa_token=${encodeURIComponent(outcome.challenge.mfa_token)}`),
    };
  }
  return { location: back(state, {}), session: outcome.pair };
}

const invalidExchange = () => new ApiError("invalid_code", "Invalid or expired code");

/** A token-mode sign-in's code → the session (or the second factor's challenge). */
export async function exchangeSignInCode(
  scope: Scope,
  code: string,
): Promise<Exclude<FirstFactorOutcome, { kind: "lost" }>> {
  const { db } = scope;
  const now = new Date();
  const [row] = await db
    .select()
    .from(oauthStates)
    .where(
      and(
        eq(oauthStates.exchangeHash, await sha256Hex(code)),
        isNull(oauthStates.exchangedAt),
        gt(oauthStates.usedAt, new Date(now.getTime() - EXCHANGE_TTL_MS)),
      ),
    )
    .limit(1);
  if (!row?.userId) throw invalidExchange();
  const [found] = await selectUserForLogin(db).where(eq(users.id, row.userId)).limit(1);
  if (!found?.user.isActive) throw invalidExchange();
  const claim = newClaim();
  const outcome = await signInByFirstFactor(
    scope,
    {
      account: found,
      mfa: found.mfa,
      method: "oauth",
      uses: [
        db
          .update(oauthStates)
          .set({ exchangedAt: now, claim })
          .where(and(eq(oauthStates.id, row.id), isNull(oauthStates.exchangedAt))),
      ],
      guards: [
        sql`exists (select 1 from ${oauthStates} where ${oauthStates.id} = ${row.id} and ${oauthStates.claim} = ${claim})`,
      ],
      metadata: { method: "oauth", provider: row.provider },
    },
    now,
  );
  if (outcome.kind === "lost") throw invalidExchange();
  return outcome;
}
