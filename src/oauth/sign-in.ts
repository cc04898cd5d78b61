/**
 * The provider's callback (README: Sign-in with an identity provider). The state is honoured once
 * (src/oauth/states.ts), the code exchanged with its PKCE verifier and nonce
 * (provider-client.ts), and the identity's account chosen (account-choice.ts). Then:
 *
 * - a link → `redirect_to?link_code=…`, which the signed-in user's app confirms with their own
 *   token (`POST /auth/identities/confirm/`): a link URL opened by someone else links nothing;
 * - token mode → `redirect_to?code=…`, a single-use code (one minute) the app exchanges for the
 *   session at `POST /auth/oauth/token/` (exchange.ts);
 * - cookie mode → the browser session, set as cookies.
 *
 * Failures after the state was honoured go back to `redirect_to?error=…`.
 */
import { eq } from "drizzle-orm";
import { z } from "zod";
import type { Scope } from "../app-env";
import { auditEntry } from "../audit/audit-log";
import { randomToken, sha256Hex } from "../auth/tokens";
import type { OAuthProvider } from "../config-sign-in";
import { uniqueViolation } from "../db/errors";
import { oauthStates } from "../db/sign-in-schema";
import { commitAll } from "../events/outbox";
import { claimedBy } from "../mfa/guard";
import { signInByFirstFactor } from "../sessions/first-factor";
import type { TokenPair } from "../sessions/token-pair";
import { chooseAccount } from "./account-choice";
import { exchangeCode, ProviderError, type ProviderProfile } from "./provider-client";
import { type ClaimedState, claimState } from "./states";

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

/** A code handed to `redirect_to`, kept as its hash on the state row. */
async function handBack(
  scope: Scope,
  state: ClaimedState,
  values: Partial<typeof oauthStates.$inferInsert>,
  uses: Parameters<typeof commitAll>[2] = [],
) {
  const code = randomToken();
  // What the sign-in changes first: a new account exists before the state refers to it.
  await commitAll(scope.db, scope.meta, [
    ...uses,
    scope.db
      .update(oauthStates)
      .set({ ...values, exchangeHash: await sha256Hex(code) })
      .where(eq(oauthStates.id, state.id)),
  ]);
  return code;
}

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

  if (state.linkUserId) {
    const code = await handBack(scope, state, { userId: state.linkUserId, profile });
    return { location: back(state, { link_code: code }) };
  }

  const choice = await chooseAccount(scope, provider, profile, now);
  if ("error" in choice) return failed(choice.error, choice.reason, choice.userId);
  const { account, uses, created } = choice;
  if (!account.user.isActive) return failed("access_denied", "inactive", account.user.id);
  try {
    if (scope.config.requireEmailVerification && account.user.emailVerifiedAt === null) {
      // Made (and mailed its verification link), but not signed in until it is followed.
      await commitAll(db, meta, uses);
      return failed("email_not_verified", "email_not_verified", account.user.id);
    }
    if (state.sessionMode === "token") {
      const code = await handBack(scope, state, { userId: account.user.id }, uses);
      await choice.afterCommit?.();
      return { location: back(state, { code }) };
    }
    const outcome = await signInByFirstFactor(
      scope,
      {
        account,
        mfa: account.mfa,
        method: "oauth",
        uses: [
          ...uses,
          db
            .update(oauthStates)
            .set({ userId: account.user.id })
            .where(eq(oauthStates.id, state.id)),
        ],
        guards: [claimedBy(oauthStates, oauthStates.id, state.id, oauthStates.claim, state.claim)],
        metadata: { method: "oauth", provider: provider.id, ...(created ? { created: true } : {}) },
        ...(choice.afterCommit ? { afterCommit: choice.afterCommit } : {}),
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
  } catch (err) {
    // Two first sign-ins of one identity (or address) at once: the other made it first.
    const taken = uniqueViolation(err);
    if (taken !== "users.email" && taken !== "identities.provider") throw err;
    return failed("oauth_failed", "already_used", account.user.id);
  }
}
