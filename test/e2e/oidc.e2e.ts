/**
 * Sign-in with an OpenID provider, end to end: the locally served Worker (`wrangler dev`, local D1,
 * KV, Queues) against a real, certified OpenID provider (`oidc-provider`) on 127.0.0.1
 * (test/e2e/support/oidc-provider.ts). Nothing talks to the internet.
 *
 * Covers a new account, the linking rules (verified or unverified email, trusted or untrusted
 * provider, explicit linking, an identity another account has), a tampered `state`, a replayed
 * callback and code, a wrong `nonce`, another browser's callback, a disallowed `redirect_to`,
 * unlinking — and a real headless Chromium signing in through the flow in cookie mode and reading
 * the profile with its cookies only.
 *
 * Run by `npm run test:oidc` (part of `npm test`), with Node's test runner.
 */
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { rmSync } from "node:fs";
import { after, before, describe, test } from "node:test";
import puppeteer, { type Browser } from "puppeteer-core";
import { type LocalServer, startServer } from "../../bench/local-server.ts";
import { buildWasm } from "../../src/auth/wasm/build.ts";
import { type LocalProvider, startProvider } from "./support/oidc-provider.ts";

const CHROMIUM = "/usr/bin/chromium";
const PORT = Number(process.env.E2E_PORT ?? 8797);
const PROVIDER_PORT = Number(process.env.E2E_PROVIDER_PORT ?? 8801);
const STATE = ".wrangler/e2e-oidc-state";
// The browser uses localhost (a secure context to Chromium, so __Host- cookies are kept); Node
// uses 127.0.0.1. Each is a redirect URI the provider knows.
const NODE_BASE = `http://127.0.0.1:${PORT}`;
const BROWSER_BASE = `http://localhost:${PORT}`;
const APP = "http://localhost:3000";
const PASSWORD = "violet-Harbor-42-lantern";

const clients = [
  { id: "trusted", client_id: "trusted-app", client_secret: "trusted-secret-0123456789" },
  { id: "untrusted", client_id: "untrusted-app", client_secret: "untrusted-secret-0123456789" },
];

let server: LocalServer | undefined;
let provider: LocalProvider | undefined;
let browser: Browser | undefined;

before(async () => {
  await buildWasm();
  provider = await startProvider({
    port: PROVIDER_PORT,
    clients: clients.map((c) => ({
      client_id: c.client_id,
      client_secret: c.client_secret,
      redirect_uris: [NODE_BASE, BROWSER_BASE].map(
        (b) => `${b}/api/v1/auth/oauth/${c.id}/callback`,
      ),
    })),
  });
  const issuer = provider.issuer;
  server = await startServer(PORT, STATE, {
    OAUTH_PROVIDERS: JSON.stringify(
      clients.map((c) => ({
        id: c.id,
        issuer,
        client_id: c.client_id,
        client_secret: c.client_secret,
        trust_email: c.id === "trusted",
      })),
    ),
    OAUTH_REDIRECT_ORIGINS: BROWSER_BASE,
    // Every request comes from this machine: the limits this file is not about stay out of the
    // way (test/rate-limits.test.ts and test/email-codes.test.ts test them).
    RATE_LIMIT_REGISTER_IP: "1000/60",
    RATE_LIMIT_OAUTH_IP: "1000/60",
    RATE_LIMIT_LOGIN_IP: "1000/60",
  });
});

after(async () => {
  await browser?.close();
  await server?.stop();
  await provider?.stop();
  rmSync(STATE, { recursive: true, force: true });
});

const req = () => {
  if (!provider) throw new Error("provider not started");
  return provider;
};

let counter = 0;
function newAccount(emailVerified = true) {
  counter += 1;
  const sub = `sub-${Date.now()}-${counter}`;
  const email = `oidc.${Date.now()}.${counter}@example.com`;
  req().setAccount({ sub, email, email_verified: emailVerified, name: "Ada Provider" });
  return { sub, email };
}

/** The cookie values a response sets (name → value). */
function cookiesOf(res: Response): Map<string, string> {
  const jar = new Map<string, string>();
  for (const line of res.headers.getSetCookie()) {
    const [pair = ""] = line.split(";");
    const at = pair.indexOf("=");
    jar.set(pair.slice(0, at), pair.slice(at + 1));
  }
  return jar;
}

async function api(method: string, path: string, options: { body?: unknown; token?: string } = {}) {
  const res = await fetch(`${NODE_BASE}/api/v1${path}`, {
    method,
    headers: {
      ...(options.body === undefined ? {} : { "Content-Type": "application/json" }),
      ...(options.token ? { Authorization: `Bearer ${options.token}` } : {}),
    },
    body: options.body === undefined ? undefined : JSON.stringify(options.body),
  });
  const text = await res.text();
  return { status: res.status, body: text ? JSON.parse(text) : null, text };
}

interface Started {
  location: string;
  binding: string;
}

/** GET …/authorize → the provider's URL and the browser-binding cookie. */
async function authorize(providerId: string, query: Record<string, string> = {}): Promise<Started> {
  const url = new URL(`${NODE_BASE}/api/v1/auth/oauth/${providerId}/authorize`);
  for (const [k, v] of Object.entries({ redirect_to: `${APP}/signed-in`, ...query })) {
    url.searchParams.set(k, v);
  }
  const res = await fetch(url, { redirect: "manual" });
  assert.equal(res.status, 302, await res.text());
  const binding = cookiesOf(res).get("__Host-oauth-binding");
  assert.ok(binding, "the binding cookie is set");
  return { location: res.headers.get("location") ?? "", binding };
}

/** The provider's redirect back, requested with (or without) the binding cookie. */
async function callback(url: string, binding?: string) {
  const res = await fetch(url, {
    redirect: "manual",
    headers: binding ? { Cookie: `__Host-oauth-binding=${binding}` } : {},
  });
  return { res, location: res.headers.get("location"), text: await res.text() };
}

/** A whole token-mode sign-in as `sub`: where the browser lands (redirect_to with its params). */
async function signIn(providerId: string, sub: string, query: Record<string, string> = {}) {
  const started = await authorize(providerId, query);
  const back = await req().authorize(started.location, sub);
  const done = await callback(back, started.binding);
  assert.equal(done.res.status, 302, done.text);
  return new URL(done.location ?? "");
}

async function exchange(code: string) {
  return api("POST", "/auth/oauth/token/", { body: { code } });
}

async function register(email: string) {
  const res = await api("POST", "/auth/register/", { body: { email, password: PASSWORD } });
  assert.equal(res.status, 201, res.text);
  return res.body.data as { user: { id: string }; access_token: string };
}

describe("signing in with an OpenID provider", () => {
  test("a new identity makes a new account, verified, and signs in", async () => {
    const { sub, email } = newAccount();
    const landed = await signIn("trusted", sub);
    assert.equal(landed.origin + landed.pathname, `${APP}/signed-in`);
    const code = landed.searchParams.get("code");
    assert.ok(code, landed.href);
    const res = await exchange(code);
    assert.equal(res.status, 200, res.text);
    const data = res.body.data;
    assert.equal(data.user.email, email);
    assert.equal(data.user.email_verified, true);
    const claims = JSON.parse(Buffer.from(data.access_token.split(".")[1], "base64url").toString());
    assert.deepEqual(claims.amr, ["oauth"]);
    const identities = await api("GET", "/auth/identities/", { token: data.access_token });
    assert.equal(identities.body.data.length, 1);
    assert.equal(identities.body.data[0].provider, "trusted");
    // The events went out: user.created and identity.linked, both to the dev mailbox.
    const mail = await waitForMail(email, ["user.created", "identity.linked"]);
    assert.ok(mail);
    // Signing in again finds the same account.
    const again = await exchange((await signIn("trusted", sub)).searchParams.get("code") ?? "");
    assert.equal(again.body.data.user.id, data.user.id);
  });

  test("the code given to redirect_to works once", async () => {
    const { sub } = newAccount();
    const code = (await signIn("trusted", sub)).searchParams.get("code") ?? "";
    assert.equal((await exchange(code)).status, 200);
    const replay = await exchange(code);
    assert.equal(replay.status, 401);
    assert.equal(replay.body.error, "invalid_code");
  });

  test("with the app's own PKCE challenge, the code is useless without its verifier", async () => {
    const { sub } = newAccount();
    const verifier = "app-verifier-0123456789-0123456789-0123456789-abc";
    const challenge = createHash("sha256").update(verifier).digest("base64url");
    const code =
      (
        await signIn("trusted", sub, { code_challenge: challenge, code_challenge_method: "S256" })
      ).searchParams.get("code") ?? "";
    assert.equal((await exchange(code)).status, 401, "no verifier");
    assert.equal(
      (await api("POST", "/auth/oauth/token/", { body: { code, code_verifier: `${verifier}x` } }))
        .status,
      401,
      "a wrong verifier",
    );
    const res = await api("POST", "/auth/oauth/token/", {
      body: { code, code_verifier: verifier },
    });
    assert.equal(res.status, 200, res.text);
  });

  test("a replayed callback is refused and signs nobody in", async () => {
    const { sub } = newAccount();
    const started = await authorize("trusted");
    const back = await req().authorize(started.location, sub);
    const first = await callback(back, started.binding);
    assert.equal(first.res.status, 302);
    const replay = await callback(back, started.binding);
    assert.equal(replay.res.status, 400, replay.text);
    assert.equal(JSON.parse(replay.text).error, "oauth_failed");
    assert.equal(replay.location, null);
  });

  test("a code issued for another authorization request is refused (PKCE: code injection)", async () => {
    const { sub, email } = newAccount();
    // The victim's request, and the attacker's own, whose code they would inject.
    const victim = await authorize("trusted");
    const attacker = await authorize("trusted");
    const attackerBack = new URL(await req().authorize(attacker.location, sub));
    const victimBack = new URL(await req().authorize(victim.location, sub));
    victimBack.searchParams.set("code", attackerBack.searchParams.get("code") ?? "");
    const done = await callback(victimBack.href, victim.binding);
    assert.equal(done.res.status, 302, done.text);
    const landed = new URL(done.location ?? "");
    assert.equal(landed.searchParams.get("error"), "oauth_failed");
    assert.equal(landed.searchParams.get("code"), null);
    assert.equal(await lookupUser(email), 404);
  });

  test("a tampered state is refused", async () => {
    const { sub, email } = newAccount();
    const started = await authorize("trusted");
    const back = new URL(await req().authorize(started.location, sub));
    back.searchParams.set("state", `${back.searchParams.get("state")}x`);
    const done = await callback(back.href, started.binding);
    assert.equal(done.res.status, 400, done.text);
    assert.equal(JSON.parse(done.text).error, "oauth_failed");
    // No account was made for it.
    const lookup = await lookupUser(email);
    assert.equal(lookup, 404);
  });

  test("another browser's callback (no binding cookie, or a wrong one) is refused", async () => {
    const { sub } = newAccount();
    const started = await authorize("trusted");
    const back = await req().authorize(started.location, sub);
    assert.equal((await callback(back)).res.status, 400);
    assert.equal((await callback(back, "not-the-binding")).res.status, 400);
  });

  test("an ID Token with another nonce is refused", async () => {
    const { sub, email } = newAccount();
    const started = await authorize("trusted");
    const back = await req().authorizeWithNonce(started.location, sub, "attacker-chosen-nonce");
    const done = await callback(back, started.binding);
    assert.equal(done.res.status, 302);
    const landed = new URL(done.location ?? "");
    assert.equal(landed.searchParams.get("error"), "oauth_failed");
    assert.equal(landed.searchParams.get("code"), null);
    assert.equal(await lookupUser(email), 404);
  });

  test("a redirect_to on an origin not allowed is refused before anything starts", async () => {
    for (const to of [
      "https://evil.example/cb",
      "http://localhost:3000.evil.example/",
      "javascript:alert(1)",
    ]) {
      const url = new URL(`${NODE_BASE}/api/v1/auth/oauth/trusted/authorize`);
      url.searchParams.set("redirect_to", to);
      const res = await fetch(url, { redirect: "manual" });
      assert.equal(res.status, 400, to);
      assert.equal(res.headers.get("location"), null);
      assert.equal(cookiesOf(res).size, 0);
    }
  });

  test("the provider's refusal goes back to redirect_to as access_denied", async () => {
    const started = await authorize("trusted");
    const back = await req().authorize(started.location, "no-such-account");
    const done = await callback(back, started.binding);
    assert.equal(new URL(done.location ?? "").searchParams.get("error"), "access_denied");
  });
});

/** Follows the verification mail the registration sent (through the dev mailbox). */
async function verifyEmail(email: string) {
  for (let i = 0; i < 80; i++) {
    const res = await fetch(`${NODE_BASE}/_dev/mailbox?to=${encodeURIComponent(email)}`);
    const body = (await res.json()) as { data: { type: string; data: { token?: string } }[] };
    const mail = body.data.find((m) => m.type === "user.email_verification_requested");
    if (mail?.data.token) {
      const done = await api("POST", "/auth/verify-email/", { body: { token: mail.data.token } });
      assert.equal(done.status, 200, done.text);
      return;
    }
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
  throw new Error(`no verification mail for ${email}`);
}

const passwordLogin = (email: string) =>
  api("POST", "/auth/login/", { body: { email, password: PASSWORD } });

/** Starts a link as `token`'s user: the provider's URL and the binding cookie. */
async function startLink(providerId: string, token: string) {
  const start = await api("POST", `/auth/oauth/${providerId}/link/`, {
    token,
    body: { redirect_to: `${APP}/settings` },
  });
  assert.equal(start.status, 201, start.text);
  const authorizeUrl = new URL(start.body.data.authorize_url);
  const path = `${NODE_BASE}${authorizeUrl.pathname}${authorizeUrl.search}`;
  // Opened in the browser: the service redirects to the provider as for a sign-in.
  const res = await fetch(path, { redirect: "manual" });
  assert.equal(res.status, 302);
  return {
    path,
    location: res.headers.get("location") ?? "",
    binding: cookiesOf(res).get("__Host-oauth-binding") ?? "",
  };
}

describe("linking", () => {
  test("a trusted provider's verified email signs in to the existing (verified) account and links it", async () => {
    const { sub, email } = newAccount(true);
    const existing = await register(email);
    await verifyEmail(email);
    const res = await exchange((await signIn("trusted", sub)).searchParams.get("code") ?? "");
    assert.equal(res.status, 200, res.text);
    assert.equal(res.body.data.user.id, existing.user.id);
    // Its password still works: the account had proved its address.
    assert.equal((await passwordLogin(email)).status, 200);
  });

  test("an account a stranger registered with the address is claimed: their password and sessions end", async () => {
    const { sub, email } = newAccount(true);
    // The stranger registers the victim's address (never verified) and keeps a session.
    const squatter = await register(email);
    const res = await exchange((await signIn("trusted", sub)).searchParams.get("code") ?? "");
    assert.equal(res.status, 200, res.text);
    assert.equal(res.body.data.user.id, squatter.user.id);
    assert.equal(res.body.data.user.email_verified, true);
    assert.equal((await passwordLogin(email)).status, 401, "the stranger's password is gone");
    const old = await api("GET", "/users/me/", { token: squatter.access_token });
    assert.equal(old.status, 401, "the stranger's session ended");
    const mine = await api("GET", "/users/me/", { token: res.body.data.access_token });
    assert.equal(mine.status, 200);
  });

  test("an unverified email neither links nor makes an account, even at a trusted provider", async () => {
    for (const existing of [true, false]) {
      const { sub, email } = newAccount(false);
      if (existing) await register(email);
      const landed = await signIn("trusted", sub);
      // The same answer whether or not the address has an account.
      assert.equal(landed.searchParams.get("error"), "email_not_verified");
      assert.equal(landed.searchParams.get("code"), null);
      if (!existing) assert.equal(await lookupUser(email), 404);
    }
  });

  test("an untrusted provider's verified email does not link; a new account from it is unverified", async () => {
    const { sub, email } = newAccount(true);
    await register(email);
    const landed = await signIn("untrusted", sub);
    assert.equal(landed.searchParams.get("error"), "identity_not_linked");
    const fresh = newAccount(true);
    const res = await exchange(
      (await signIn("untrusted", fresh.sub)).searchParams.get("code") ?? "",
    );
    assert.equal(res.status, 200, res.text);
    assert.equal(res.body.data.user.email_verified, false);
  });

  test("a signed-in user links explicitly and confirms; then the identity signs in to them; unlinking ends it", async () => {
    const { sub, email } = newAccount(true);
    const user = await register(email);
    const link = await startLink("untrusted", user.access_token);
    const back = await req().authorize(link.location, sub);
    const landed = new URL((await callback(back, link.binding)).location ?? "");
    assert.equal(landed.pathname, "/settings");
    const linkCode = landed.searchParams.get("link_code") ?? "";
    assert.ok(linkCode, landed.href);
    // Nothing is linked until the user's app confirms it with their own token.
    assert.equal(
      (await api("GET", "/auth/identities/", { token: user.access_token })).body.data.length,
      0,
    );
    const confirmed = await api("POST", "/auth/identities/confirm/", {
      token: user.access_token,
      body: { code: linkCode },
    });
    assert.equal(confirmed.status, 200, confirmed.text);
    assert.equal(confirmed.body.data.provider, "untrusted");
    // The link token and the link code were single use.
    assert.equal((await fetch(link.path, { redirect: "manual" })).status, 400);
    const again = await api("POST", "/auth/identities/confirm/", {
      token: user.access_token,
      body: { code: linkCode },
    });
    assert.equal(again.status, 401);

    const signedIn = await exchange(
      (await signIn("untrusted", sub)).searchParams.get("code") ?? "",
    );
    assert.equal(signedIn.body.data.user.id, user.user.id);

    const [identity] = (await api("GET", "/auth/identities/", { token: user.access_token })).body
      .data;
    const unlinked = await api("DELETE", `/auth/identities/${identity.id}/`, {
      token: user.access_token,
    });
    assert.equal(unlinked.status, 200, unlinked.text);
    // An identity that is no longer linked does not sign in to the account.
    const landed2 = await signIn("untrusted", sub);
    assert.equal(landed2.searchParams.get("error"), "identity_not_linked");
  });

  test("an attacker's link URL opened by a victim links nothing (login CSRF)", async () => {
    const attacker = await register(`attacker.${Date.now()}@example.com`);
    const victimIdentity = newAccount(true);
    const victim = await register(`victim.${Date.now()}@example.com`);
    // The attacker starts a link to their own account and gets the victim to open the URL; the
    // victim signs in at the provider with their own identity.
    const link = await startLink("untrusted", attacker.access_token);
    const back = await req().authorize(link.location, victimIdentity.sub);
    const landed = new URL((await callback(back, link.binding)).location ?? "");
    const linkCode = landed.searchParams.get("link_code") ?? "";
    // The victim's app confirms with the victim's token: refused.
    const refused = await api("POST", "/auth/identities/confirm/", {
      token: victim.access_token,
      body: { code: linkCode },
    });
    assert.equal(refused.status, 401, refused.text);
    for (const who of [attacker, victim]) {
      const listed = await api("GET", "/auth/identities/", { token: who.access_token });
      assert.equal(listed.body.data.length, 0);
    }
  });

  test("an identity another account has cannot be linked", async () => {
    const { sub } = newAccount(true);
    await exchange((await signIn("trusted", sub)).searchParams.get("code") ?? "");
    const other = await register(`other.${Date.now()}@example.com`);
    const link = await startLink("trusted", other.access_token);
    const back = await req().authorize(link.location, sub);
    const landed = new URL((await callback(back, link.binding)).location ?? "");
    const taken = await api("POST", "/auth/identities/confirm/", {
      token: other.access_token,
      body: { code: landed.searchParams.get("link_code") ?? "" },
    });
    assert.equal(taken.status, 409, taken.text);
    assert.equal(taken.body.error, "identity_taken");
  });

  test("the last way to sign in cannot be unlinked", async () => {
    const { sub } = newAccount(true);
    const res = await exchange((await signIn("trusted", sub)).searchParams.get("code") ?? "");
    const token = res.body.data.access_token;
    const [identity] = (await api("GET", "/auth/identities/", { token })).body.data;
    const refused = await api("DELETE", `/auth/identities/${identity.id}/`, { token });
    assert.equal(refused.status, 409, refused.text);
    assert.equal(refused.body.error, "last_sign_in_method");
    assert.equal((await api("GET", "/auth/identities/", { token })).body.data.length, 1);
  });
});

describe("in a real browser, with cookies only", () => {
  test("Chromium signs in through the provider and reads the profile with its cookies", async () => {
    const { sub, email } = newAccount(true);
    browser = await puppeteer.launch({
      executablePath: CHROMIUM,
      headless: true,
      args: process.getuid?.() === 0 ? ["--no-sandbox"] : [],
    });
    const page = await browser.newPage();
    // The provider's login step: the test account logs in (as a user would by typing).
    await page.setRequestInterception(true);
    page.on("request", (request) => {
      const url = new URL(request.url());
      if (url.origin === req().issuer && url.pathname.startsWith("/interaction/")) {
        void request.continue({ headers: { ...request.headers(), "x-test-account": sub } });
      } else {
        void request.continue();
      }
    });
    const start = new URL(`${BROWSER_BASE}/api/v1/auth/oauth/trusted/authorize`);
    start.searchParams.set("session", "cookie");
    start.searchParams.set("redirect_to", `${BROWSER_BASE}/api/v1/users/me/`);
    const landed = await page.goto(start.href, { waitUntil: "load" });
    assert.equal(new URL(page.url()).pathname, "/api/v1/users/me/");
    // The CSRF value also came in the fragment, for an app on another origin.
    assert.match(new URL(page.url()).hash, /^#csrf_token=[\w-]+$/);
    assert.equal(landed?.status(), 200, await landed?.text());
    const profile = JSON.parse((await landed?.text()) ?? "{}");
    assert.equal(profile.data.email, email);

    const cookies = await browser.cookies();
    const access = cookies.find((c) => c.name === "__Host-access");
    assert.ok(access, "the access cookie");
    assert.equal(access.httpOnly, true);
    assert.equal(access.secure, true);
    assert.equal(access.sameSite, "Lax");
    const csrf = cookies.find((c) => c.name === "__Host-csrf");
    assert.ok(csrf && !csrf.httpOnly, "the CSRF cookie is readable by the page");

    // The page's scripts cannot read the tokens, but can call with the cookies and the CSRF value.
    // From a page of the service that may call it (the JSON answer's CSP allows no script to):
    // the admin console's page, same origin, `connect-src 'self'`.
    await page.goto(`${BROWSER_BASE}/admin/`, { waitUntil: "load" });
    const outcome = await page.evaluate(async () => {
      // Runs in the page: its `document`, which Node's types do not know.
      const { document } = globalThis as unknown as { document: { cookie: string } };
      const csrf = () => document.cookie.match(/__Host-csrf=([^;]+)/)?.[1] ?? "";
      const csrfValue = csrf();
      const patch = (headers: Record<string, string>) =>
        fetch("/api/v1/users/me/", {
          method: "PATCH",
          headers: { "Content-Type": "application/json", ...headers },
          body: JSON.stringify({ name: "Ada in a browser" }),
        }).then((r) => r.status);
      return {
        tokensVisible: document.cookie.includes("__Host-access"),
        withoutCsrf: await patch({}),
        withCsrf: await patch({ "X-CSRF-Token": csrfValue }),
        refresh: await fetch("/api/v1/auth/session/refresh/", {
          method: "POST",
          headers: { "X-CSRF-Token": csrfValue },
        }).then((r) => r.status),
        csrfRotated: csrf() !== csrfValue,
        // With the refreshed cookies and their new CSRF value.
        logout: await fetch("/api/v1/auth/logout/", {
          method: "POST",
          headers: { "X-CSRF-Token": csrf() },
        }).then((r) => r.status),
        afterLogout: await fetch("/api/v1/users/me/").then((r) => r.status),
      };
    });
    assert.deepEqual(outcome, {
      tokensVisible: false,
      withoutCsrf: 403,
      withCsrf: 200,
      refresh: 200,
      csrfRotated: true,
      logout: 200,
      afterLogout: 401,
    });
    const left = (await browser.cookies()).map((c) => c.name);
    assert.ok(!left.includes("__Host-access") && !left.includes("__Host-refresh"), left.join());
  });
});

async function lookupUser(email: string): Promise<number> {
  const res = await fetch(
    `${NODE_BASE}/api/v1/users/by-email/?email=${encodeURIComponent(email)}`,
    {
      headers: { "X-Service-Key": "dev-service-key" },
    },
  );
  return res.status;
}

async function waitForMail(email: string, types: string[]) {
  for (let i = 0; i < 80; i++) {
    const res = await fetch(`${NODE_BASE}/_dev/mailbox?to=${encodeURIComponent(email)}`);
    const body = (await res.json()) as { data: { type: string }[] };
    const got = body.data.map((m) => m.type);
    if (types.every((t) => got.includes(t))) return got;
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
  throw new Error(`no ${types.join(", ")} for ${email}`);
}
