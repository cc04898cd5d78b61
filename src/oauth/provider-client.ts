/**
 * Talking to identity providers, through `oauth4webapi` (a certified, runtime-agnostic OAuth 2.0 /
 * OpenID Connect client): discovery, the authorization URL (code flow, PKCE S256, `state`,
 * `nonce`), and the code exchange, whose ID Token is checked for issuer, audience, expiry and
 * nonce. GitHub speaks OAuth 2.0 without OpenID Connect, so its profile comes from its REST API.
 */
import * as oauth from "oauth4webapi";
import type { OAuthProvider } from "../config-sign-in";
import { normalizeEmail } from "../users/identity";

/** Who the provider says signed in. */
export interface ProviderProfile {
  subject: string;
  email: string | null;
  emailVerified: boolean;
  name: string | null;
}

const GITHUB: oauth.AuthorizationServer = {
  issuer: "https://github.com",
  authorization_endpoint: "https://github.com/login/oauth/authorize",
  token_endpoint: "https://github.com/login/oauth/access_token",
};

/** Discovery documents, per isolate for an hour: a sign-in should not wait on one each time. */
const DISCOVERY_TTL_MS = 60 * 60 * 1000;
const discovered = new Map<string, { server: oauth.AuthorizationServer; at: number }>();

const options = (provider: OAuthProvider) =>
  provider.allowInsecure ? { [oauth.allowInsecureRequests]: true } : {};

async function authorizationServer(provider: OAuthProvider): Promise<oauth.AuthorizationServer> {
  if (provider.kind === "github" || !provider.issuer) return GITHUB;
  const cached = discovered.get(provider.issuer);
  if (cached && Date.now() - cached.at < DISCOVERY_TTL_MS) return cached.server;
  const issuer = new URL(provider.issuer);
  let server: oauth.AuthorizationServer;
  try {
    const response = await oauth.discoveryRequest(issuer, {
      algorithm: "oidc",
      ...options(provider),
    });
    server = await oauth.processDiscoveryResponse(issuer, response);
  } catch (err) {
    throw new ProviderError("discovery_failed", err);
  }
  discovered.set(provider.issuer, { server, at: Date.now() });
  return server;
}

const clientOf = (provider: OAuthProvider): oauth.Client => ({ client_id: provider.clientId });

function clientAuth(provider: OAuthProvider) {
  return provider.tokenAuth === "client_secret_post"
    ? oauth.ClientSecretPost(provider.clientSecret)
    : oauth.ClientSecretBasic(provider.clientSecret);
}

/** The S256 challenge of a PKCE verifier (an app's own, at the exchange). */
export const pkceChallenge = (verifier: string) => oauth.calculatePKCECodeChallenge(verifier);

/** A new request's secrets: kept by the service, only the challenge and state go out. */
export async function newAuthorizationRequest() {
  const codeVerifier = oauth.generateRandomCodeVerifier();
  return {
    state: oauth.generateRandomState(),
    nonce: oauth.generateRandomNonce(),
    codeVerifier,
    codeChallenge: await oauth.calculatePKCECodeChallenge(codeVerifier),
  };
}

/** Where to send the user to sign in at the provider. */
export async function authorizationUrl(
  provider: OAuthProvider,
  request: { state: string; nonce: string; codeChallenge: string },
  redirectUri: string,
): Promise<string> {
  const server = await authorizationServer(provider);
  if (!server.authorization_endpoint) throw new ProviderError("no_authorization_endpoint");
  const url = new URL(server.authorization_endpoint);
  const params = url.searchParams;
  params.set("client_id", provider.clientId);
  params.set("redirect_uri", redirectUri);
  params.set("response_type", "code");
  params.set("scope", provider.scopes.join(" "));
  params.set("state", request.state);
  params.set("code_challenge", request.codeChallenge);
  params.set("code_challenge_method", "S256");
  if (provider.kind === "oidc") params.set("nonce", request.nonce);
  if (provider.responseMode === "form_post") params.set("response_mode", "form_post");
  return url.toString();
}

/** Why a callback failed, for the audit log (never shown beyond its code). */
export class ProviderError extends Error {
  constructor(
    readonly reason: string,
    cause?: unknown,
  ) {
    super(reason, { cause });
    this.name = "ProviderError";
  }
}

/**
 * The provider's answer (the callback's parameters) → the profile it vouches for. Exchanges the
 * code with the PKCE verifier; for OpenID providers the ID Token must carry this request's nonce.
 */
export async function exchangeCode(
  provider: OAuthProvider,
  params: URLSearchParams,
  expected: { state: string; nonce: string; codeVerifier: string; redirectUri: string },
): Promise<ProviderProfile> {
  const server = await authorizationServer(provider);
  const client = clientOf(provider);
  let callback: URLSearchParams;
  try {
    callback = oauth.validateAuthResponse(server, client, params, expected.state);
  } catch (err) {
    throw new ProviderError("invalid_authorization_response", err);
  }
  let result: oauth.TokenEndpointResponse;
  try {
    const response = await oauth.authorizationCodeGrantRequest(
      server,
      client,
      clientAuth(provider),
      callback,
      expected.redirectUri,
      expected.codeVerifier,
      options(provider),
    );
    result = await oauth.processAuthorizationCodeResponse(server, client, response, {
      ...(provider.kind === "oidc" ? { expectedNonce: expected.nonce, requireIdToken: true } : {}),
    });
  } catch (err) {
    const nonce = err instanceof oauth.OperationProcessingError && /nonce/i.test(err.message);
    throw new ProviderError(nonce ? "nonce_mismatch" : "code_exchange_failed", err);
  }
  if (provider.kind === "github") return githubProfile(result.access_token);
  const claims = oauth.getValidatedIdTokenClaims(result);
  if (!claims) throw new ProviderError("no_id_token");
  const email = typeof claims.email === "string" ? normalizeEmail(claims.email) : null;
  return {
    subject: claims.sub,
    email,
    emailVerified: email !== null && claims.email_verified === true,
    name: typeof claims.name === "string" ? claims.name.slice(0, 150) : null,
  };
}

/** GitHub's user and its primary, verified email (`user:email` scope). */
async function githubProfile(accessToken: string): Promise<ProviderProfile> {
  const headers = {
    Authorization: `Bearer ${accessToken}`,
    Accept: "application/vnd.github+json",
    "User-Agent": "user-service",
  };
  const [userRes, emailsRes] = await Promise.all([
    fetch("https://api.github.com/user", { headers }),
    fetch("https://api.github.com/user/emails", { headers }),
  ]);
  if (!userRes.ok) throw new ProviderError("profile_unavailable");
  const user = (await userRes.json()) as { id?: unknown; name?: unknown };
  if (typeof user.id !== "number") throw new ProviderError("profile_unavailable");
  const emails = emailsRes.ok
    ? ((await emailsRes.json()) as { email?: unknown; primary?: unknown; verified?: unknown }[])
    : [];
  const primary = Array.isArray(emails)
    ? emails.find((e) => e.primary === true && typeof e.email === "string")
    : undefined;
  const email = typeof primary?.email === "string" ? normalizeEmail(primary.email) : null;
  return {
    subject: String(user.id),
    email,
    emailVerified: email !== null && primary?.verified === true,
    name: typeof user.name === "string" ? user.name.slice(0, 150) : null,
  };
}
