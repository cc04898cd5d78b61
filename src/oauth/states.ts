/**
 * Authorization requests in flight (README: Sign-in with an identity provider). Starting one
 * stores its PKCE verifier and nonce under the hash of its `state`, bound to the browser by a
 * cookie whose hash the row keeps: a callback is honoured once, within 10 minutes, from the browser
 * that started it — a `state` alone (leaked, or planted by someone else) signs nobody in.
 *
 * Linking a provider to a signed-in account starts the same way, from a single-use link token the
 * signed-in user's client got from `POST /auth/oauth/{provider}/link/`.
 */
import { and, eq, isNull } from "drizzle-orm";
import type { AccessClaims, Scope } from "../app-env";
import { auditEntry } from "../audit/audit-log";
import { randomToken, sha256Hex } from "../auth/tokens";
import type { Config } from "../config";
import type { OAuthProvider } from "../config-sign-in";
import { oauthStates } from "../db/sign-in-schema";
import { ApiError, fieldError } from "../errors";
import { putPendingLink, takePendingLink } from "../kv";
import { errorDetail, log } from "../logging";
import { newClaim } from "../mfa/guard";
import { requireStepUp } from "../mfa/step-up";
import { authorizationUrl, newAuthorizationRequest, ProviderError } from "./provider-client";

export const STATE_TTL_MS = 10 * 60 * 1000;
const LINK_TTL_SECONDS = 10 * 60;

export type SessionMode = "token" | "cookie";

export function providerById(config: Config, id: string): OAuthProvider {
  const provider = config.oauth.providers.find((p) => p.id === id);
  if (!provider) throw new ApiError("not_found", "Unknown identity provider");
  return provider;
}

/** `redirect_to`, if its origin is allowed (APP_BASE_URL's, OAUTH_REDIRECT_ORIGINS). */
export function allowedRedirect(config: Config, redirectTo: string): string {
  let url: URL;
  try {
    url = new URL(redirectTo);
  } catch {
    throw fieldError("redirect_to", "Enter an absolute URL.");
  }
  const web = url.protocol === "https:" || url.protocol === "http:";
  if (!web || !config.oauth.redirectOrigins.includes(url.origin) || url.username || url.password) {
    throw fieldError("redirect_to", "This address is not allowed to receive sign-ins.");
  }
  return url.toString();
}

const stateId = (state: string) => sha256Hex(`oauth-state:${state}`);

/** Starts a sign-in (or a link): the provider's URL, and the binding cookie's value. */
export async function startAuthorization(
  { db }: Scope,
  provider: OAuthProvider,
  request: {
    redirectTo: string;
    sessionMode: SessionMode;
    linkUserId: string | null;
    callbackUrl: string;
    /** The app's own PKCE challenge (S256) for the exchange, if it sent one. */
    appChallenge: string | null;
  },
) {
  const now = new Date();
  const secrets = await newAuthorizationRequest();
  const binding = randomToken();
  // The URL first: an unreachable provider fails here, before anything is stored.
  let url: string;
  try {
    url = await authorizationUrl(provider, secrets, request.callbackUrl);
  } catch (err) {
    if (!(err instanceof ProviderError)) throw err;
    log("error", "oauth_provider_unreachable", {
      provider: provider.id,
      detail: errorDetail(err.cause),
    });
    throw new ApiError("service_unavailable", "The identity provider cannot be reached; try again");
  }
  await db.insert(oauthStates).values({
    id: await stateId(secrets.state),
    provider: provider.id,
    bindingHash: await sha256Hex(binding),
    codeVerifier: secrets.codeVerifier,
    nonce: secrets.nonce,
    redirectTo: request.redirectTo,
    sessionMode: request.sessionMode,
    linkUserId: request.linkUserId,
    appChallenge: request.appChallenge,
    expiresAt: new Date(now.getTime() + STATE_TTL_MS),
    createdAt: now,
  });
  return { url, binding };
}

const invalidState = () =>
  new ApiError("oauth_failed", "This sign-in is invalid or has expired: start it again");

/**
 * The request a callback answers, used up by this call: refused (400 `oauth_failed`, audited) when
 * the state is unknown, expired, already used, for another provider, or presented without the
 * binding cookie of the browser that started it.
 */
export async function claimState(
  scope: Scope,
  provider: OAuthProvider,
  state: string | null,
  binding: string | undefined,
  now: Date,
) {
  const { db, meta } = scope;
  const fail = async (reason: string) => {
    await auditEntry(db, meta, {
      userId: null,
      action: "oauth_failure",
      metadata: { provider: provider.id, reason },
      at: now,
    });
    return invalidState();
  };
  if (!state || state.length > 512) throw await fail("no_state");
  const id = await stateId(state);
  const [row] = await db.select().from(oauthStates).where(eq(oauthStates.id, id)).limit(1);
  if (!row || row.provider !== provider.id) throw await fail("unknown_state");
  if (row.usedAt !== null) throw await fail("state_replayed");
  if (row.expiresAt <= now) throw await fail("state_expired");
  if (!binding || (await sha256Hex(binding)) !== row.bindingHash) {
    throw await fail("browser_mismatch");
  }
  const claim = newClaim();
  const claimed = await db
    .update(oauthStates)
    .set({ usedAt: now, claim })
    .where(and(eq(oauthStates.id, id), isNull(oauthStates.usedAt)))
    .returning({ id: oauthStates.id });
  if (claimed.length === 0) throw await fail("state_replayed");
  return { ...row, state, claim };
}

export type ClaimedState = Awaited<ReturnType<typeof claimState>>;

const linkHash = (token: string) => sha256Hex(`oauth-link:${token}`);

/**
 * A link token for the signed-in user: `GET /auth/oauth/{provider}/authorize?link_token=` starts
 * linking that provider to their account. Adding a way to sign in is sensitive: a sign-in within
 * 10 minutes (and `aal2` with a second factor).
 */
export async function newLinkToken(
  { db, kv }: Scope,
  session: Pick<AccessClaims, "userId" | "aal" | "authTime">,
  provider: OAuthProvider,
  redirectTo: string,
) {
  await requireStepUp(db, session, { recent: true });
  const token = randomToken();
  await putPendingLink(
    kv,
    await linkHash(token),
    { userId: session.userId, provider: provider.id, redirectTo },
    LINK_TTL_SECONDS,
  );
  return token;
}

/** Uses a link token up: the user and where to send them back, or a 400. */
export async function redeemLinkToken({ kv }: Scope, provider: OAuthProvider, token: string) {
  const stored = await takePendingLink(kv, await linkHash(token));
  if (!stored || stored.provider !== provider.id) {
    throw fieldError("link_token", "This link is invalid or has expired.");
  }
  return stored;
}
