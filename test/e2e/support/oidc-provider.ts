/**
 * A real OpenID Connect provider (the `oidc-provider` package) on 127.0.0.1, for the end-to-end
 * tests of "sign in with an OpenID provider": our service talks to a genuine authorization
 * server — discovery, PKCE, nonce, client authentication, signed ID Tokens — and nothing leaves
 * the machine.
 *
 * No browser plays the user: `authorize()` walks the provider's redirects with a cookie jar and
 * answers its login interaction itself (see handleInteraction), then hands back the redirect to
 * the client's callback without requesting it, so the test decides what reaches our service.
 */
import { randomUUID } from "node:crypto";
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { exportJWK, generateKeyPair } from "jose";
// @ts-expect-error -- oidc-provider ships no type declarations; the part used is typed below.
import { Provider } from "oidc-provider";
// @ts-expect-error -- the package's own in-memory store, imported directly because passing nothing
// prints a "development-only adapter" warning on every start (same pinned version, same code).
import { createMemoryAdapter } from "oidc-provider/lib/adapters/memory_adapter.js";

export interface TestAccount {
  sub: string;
  email: string;
  email_verified: boolean;
  name?: string;
}

/** Confidential clients: oidc-provider takes client_secret_basic and client_secret_post alike. */
interface TestClient {
  client_id: string;
  client_secret: string;
  redirect_uris: string[];
}

export interface LocalProvider {
  /** e.g. "http://127.0.0.1:8801" (no trailing slash). */
  issuer: string;
  /** Adds or replaces (by sub) an account; later authorizations and tokens see the new claims. */
  setAccount(account: TestAccount): void;
  /**
   * Drives the provider's side of an authorization request without a browser: given the URL our
   * service redirected to (the provider's authorization endpoint with client_id, redirect_uri,
   * state, nonce, code_challenge...), logs in as account `sub` (consent is granted up front for
   * openid, email and profile), following redirects and carrying the provider's cookies, and
   * returns the final redirect Location back to the client's redirect_uri (the callback URL with
   * code, state and iss, or with error), WITHOUT requesting it.
   *
   * Every call starts with an empty cookie jar, so there is never a provider session to reuse
   * (prompt=none answers login_required). A `sub` with no account is refused at the login step:
   * the callback carries error=access_denied. Errors the provider may redirect with (e.g. no
   * code_challenge: invalid_request) come back the same way; it throws when the provider shows
   * its error page instead (unknown client_id, unregistered redirect_uri).
   */
  authorize(authorizationUrl: string, sub: string): Promise<string>;
  /** The same, with the request's `nonce` replaced, so the ID Token carries `nonce` instead. */
  authorizeWithNonce(authorizationUrl: string, sub: string, nonce: string): Promise<string>;
  /** Closes the server (and its open connections); resolves once closed. */
  stop(): Promise<void>;
}

/** The part of oidc-provider's API used here (it has no type declarations of its own). */
interface OidcGrant {
  addOIDCScope(scope: string): void;
  addOIDCClaims(claims: string[]): void;
  addResourceScope(indicator: string, scope: string): void;
  save(): Promise<string>;
}
interface OidcGrantClass {
  new (properties: { accountId: string; clientId: string }): OidcGrant;
  find(id: string): Promise<OidcGrant | undefined>;
}
interface OidcInteraction {
  prompt: {
    name: string;
    details: {
      missingOIDCScope?: string[];
      missingOIDCClaims?: string[];
      missingResourceScopes?: Record<string, string[]>;
    };
  };
  params: Record<string, unknown>;
  session?: { accountId?: string };
  grantId?: string;
}
interface OidcProvider {
  Grant: OidcGrantClass;
  callback(): (req: IncomingMessage, res: ServerResponse) => void;
  interactionDetails(req: IncomingMessage, res: ServerResponse): Promise<OidcInteraction>;
  interactionFinished(
    req: IncomingMessage,
    res: ServerResponse,
    result: Record<string, unknown>,
    options?: { mergeWithLastSubmission?: boolean },
  ): Promise<void>;
}
type OidcProviderClass = new (issuer: string, configuration: object) => OidcProvider;
/** What the configuration's callbacks read of oidc-provider's Koa context. */
interface OidcContext {
  type: string;
  body: unknown;
  oidc: {
    client: { clientId: string };
    account?: { accountId: string };
    result?: { consent?: { grantId?: string } };
    session: { grantIdFor(clientId: string): string | undefined };
  };
}

const ProviderClass = Provider as OidcProviderClass;
const memoryAdapter = createMemoryAdapter as (clockTolerance: number) => unknown;

/** The provider's default interactions.url is /interaction/:uid; those requests are ours. */
const INTERACTION_PATH = "/interaction/";
/** How authorize() tells handleInteraction which account logs in. */
const ACCOUNT_HEADER = "x-test-account";
/** Consent given up front, so that no consent interaction is needed for what our service asks. */
const GRANTED_SCOPE = "openid email profile";
/** A login plus a possible consent is ~5 redirects; more means the provider is looping. */
const MAX_HOPS = 20;

export async function startProvider(options: {
  port: number;
  clients: TestClient[];
  accounts?: TestAccount[];
}): Promise<LocalProvider> {
  const accounts = new Map<string, TestAccount>();
  for (const account of options.accounts ?? []) accounts.set(account.sub, account);
  const redirectUris = options.clients.flatMap((client) => client.redirect_uris);

  // Our own signing key: the provider otherwise signs with a built-in development key, and warns.
  const { privateKey } = await generateKeyPair("RS256", { extractable: true });
  const signingKey = {
    ...(await exportJWK(privateKey)),
    kid: randomUUID(),
    alg: "RS256",
    use: "sig",
  };

  // Listening comes first so that port 0 works: the issuer needs the port actually bound.
  let handle: (req: IncomingMessage, res: ServerResponse) => void = (_req, res) => {
    res.statusCode = 503;
    res.end();
  };
  const server = createServer((req, res) => handle(req, res));
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(options.port, "127.0.0.1", () => {
      server.off("error", reject);
      resolve();
    });
  });
  const issuer = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

  const provider = new ProviderClass(issuer, {
    adapter: memoryAdapter(0),
    clients: options.clients.map((client) => ({
      client_id: client.client_id,
      client_secret: client.client_secret,
      redirect_uris: client.redirect_uris,
      grant_types: ["authorization_code"],
      response_types: ["code"],
    })),
    jwks: { keys: [signingKey] },
    claims: { openid: ["sub"], email: ["email", "email_verified"], profile: ["name"] },
    // By default, when an access token is issued too (the code flow), claims requested by scope
    // are served by UserInfo only; our service reads them from the ID Token.
    conformIdTokenClaims: false,
    // oidc-provider requires PKCE only of public clients by default; the tests want it always.
    pkce: { required: () => true },
    // The defaults' values, given as numbers so that the provider prints no notice about each.
    ttl: {
      AccessToken: 3600,
      AuthorizationCode: 60,
      Grant: 3600,
      IdToken: 3600,
      Interaction: 3600,
      Session: 3600,
    },
    // The built-in login and consent pages are HTML forms; handleInteraction answers instead.
    features: { devInteractions: { enabled: false } },
    async findAccount(_ctx: unknown, sub: string) {
      if (!accounts.has(sub)) return undefined;
      return {
        accountId: sub,
        // Read at claim time, so that setAccount() after a login still shows in the tokens.
        async claims() {
          const account = accounts.get(sub);
          if (account === undefined) return { sub };
          const { email, email_verified, name } = account;
          return name === undefined
            ? { sub, email, email_verified }
            : { sub, email, email_verified, name };
        },
      };
    },
    // Every test client is first party: consent to openid/email/profile is given without asking.
    async loadExistingGrant(ctx: OidcContext) {
      const { client, account, result, session } = ctx.oidc;
      const grantId = result?.consent?.grantId ?? session.grantIdFor(client.clientId);
      if (grantId !== undefined) return provider.Grant.find(grantId);
      if (account === undefined) return undefined;
      const grant = new provider.Grant({ accountId: account.accountId, clientId: client.clientId });
      grant.addOIDCScope(GRANTED_SCOPE);
      await grant.save();
      return grant;
    },
    // A JSON error page instead of HTML, so that authorize() can throw with the reason in it.
    async renderError(ctx: OidcContext, out: Record<string, unknown>) {
      ctx.type = "json";
      ctx.body = out;
    },
  });

  async function handleInteraction(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const interaction = await provider.interactionDetails(req, res);
    const { name, details } = interaction.prompt;
    if (name === "login") {
      const sub = req.headers[ACCOUNT_HEADER];
      const result =
        typeof sub === "string" && accounts.has(sub)
          ? { login: { accountId: sub } }
          : {
              error: "access_denied",
              error_description: `no test account with sub ${String(sub)}`,
            };
      await provider.interactionFinished(req, res, result, { mergeWithLastSubmission: false });
      return;
    }
    if (name === "consent") {
      // Reached with prompt=consent, or when more than GRANTED_SCOPE is asked: grant it all.
      const clientId = interaction.params.client_id;
      const accountId = interaction.session?.accountId;
      if (typeof clientId !== "string" || accountId === undefined) {
        throw new Error("consent interaction without a client or an account");
      }
      const grant =
        (interaction.grantId === undefined
          ? undefined
          : await provider.Grant.find(interaction.grantId)) ??
        new provider.Grant({ accountId, clientId });
      if (details.missingOIDCScope) grant.addOIDCScope(details.missingOIDCScope.join(" "));
      if (details.missingOIDCClaims) grant.addOIDCClaims(details.missingOIDCClaims);
      for (const [indicator, scopes] of Object.entries(details.missingResourceScopes ?? {})) {
        grant.addResourceScope(indicator, scopes.join(" "));
      }
      const result = { consent: { grantId: await grant.save() } };
      await provider.interactionFinished(req, res, result, { mergeWithLastSubmission: true });
      return;
    }
    throw new Error(`unexpected interaction prompt ${name}`);
  }

  const callback = provider.callback();
  handle = (req, res) => {
    if (!(req.url ?? "").startsWith(INTERACTION_PATH)) {
      callback(req, res);
      return;
    }
    handleInteraction(req, res).catch((error: unknown) => {
      res.statusCode = 500;
      res.end(`interaction failed: ${error instanceof Error ? error.message : String(error)}`);
    });
  };

  function isRedirectUri(url: string): boolean {
    return redirectUris.some(
      (uri) => url === uri || url.startsWith(`${uri}?`) || url.startsWith(`${uri}#`),
    );
  }

  async function authorize(authorizationUrl: string, sub: string): Promise<string> {
    const cookies = new Map<string, string>();
    let url = new URL(authorizationUrl);
    for (let hop = 0; hop < MAX_HOPS; hop++) {
      // Only the provider itself is ever requested: nothing else may be reached from a test.
      if (url.origin !== issuer) throw new Error(`refusing to request ${url.href}: not ${issuer}`);
      const headers = new Headers();
      if (cookies.size > 0) {
        headers.set("cookie", [...cookies].map(([key, value]) => `${key}=${value}`).join("; "));
      }
      if (url.pathname.startsWith(INTERACTION_PATH)) headers.set(ACCOUNT_HEADER, sub);
      const response = await fetch(url, { headers, redirect: "manual" });
      for (const setCookie of response.headers.getSetCookie()) {
        // Paths and expiry are ignored: one jar serves one authorization, a few seconds long.
        const pair = setCookie.split(";", 1)[0] ?? "";
        const equals = pair.indexOf("=");
        if (equals < 0) continue;
        const key = pair.slice(0, equals).trim();
        const value = pair.slice(equals + 1).trim();
        if (value === "") cookies.delete(key);
        else cookies.set(key, value);
      }
      const location = response.headers.get("location");
      if (response.status < 300 || response.status > 399 || location === null) {
        const body = await response.text();
        throw new Error(`provider answered ${url.pathname} with ${response.status}: ${body}`);
      }
      await response.body?.cancel();
      const next = new URL(location, url);
      if (isRedirectUri(next.href)) return next.href;
      url = next;
    }
    throw new Error(`more than ${MAX_HOPS} redirects authorizing ${authorizationUrl}`);
  }

  return {
    issuer,
    setAccount(account) {
      accounts.set(account.sub, account);
    },
    authorize,
    authorizeWithNonce(authorizationUrl, sub, nonce) {
      const url = new URL(authorizationUrl);
      url.searchParams.set("nonce", nonce);
      return authorize(url.href, sub);
    },
    stop() {
      return new Promise<void>((resolve, reject) => {
        server.close((error) => (error ? reject(error) : resolve()));
        // close() waits for keep-alive connections (fetch keeps them) to go idle; do not wait.
        server.closeAllConnections();
      });
    },
  };
}
