/**
 * Attacks on the sign-ins beyond passwords (emailed codes, identity providers, browser cookie
 * sessions), none of which needs an identity provider running: provider-facing paths are driven
 * with planted `oauth_states` rows (what the callback stores: a state, a sign-in's code, a link's
 * code, an app's PKCE challenge) or with an issuer nobody listens on (http://127.0.0.1:9). Real
 * parts only: no mocked fetch, no stub provider. Flows through a real OpenID provider (including
 * pre-hijacking by a provider's email, link CSRF and the app's PKCE) are test/e2e/oidc.e2e.ts's.
 *
 * Each test tries an attack and asserts it fails without side effects: no session row, no token,
 * no user row, no code or state used up, nothing leaked.
 */
import { createExecutionContext, waitOnExecutionContext } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { eq } from "drizzle-orm";
import fc from "fast-check";
import { afterEach, describe, expect, it, vi } from "vitest";
import { randomToken, sha256Hex } from "../src/auth/tokens";
import type { Config } from "../src/config";
import { auditLog, users } from "../src/db/schema";
import { emailCodes, identities, oauthStates } from "../src/db/sign-in-schema";
import worker from "../src/dev/local";
import { allowedRedirect } from "../src/oauth/states";
import { subscribes } from "../src/webhooks/endpoints";
import {
  type ApiResponse,
  call,
  callWith,
  type Envelope,
  expectError,
  request,
} from "./helpers/api";
import { waitForMail } from "./helpers/mailbox";
import {
  auditFor,
  db,
  outboxFor,
  PASSWORD,
  register,
  sessionsFor,
  type TokenPair,
  uniqueEmail,
  userRow,
} from "./helpers/users";

// ---------------------------------------------------------------------------------------------
// Helpers

type Vars = Record<string, string>;
type Headers_ = Record<string, string>;

let nextNetwork = 0;
/** A client network of this file's own (an IPv6 /64 of 2001:db8:a77a::/48). */
const freshIp = () => `2001:db8:a77a:${(++nextNetwork).toString(16)}::1`;

/** One request with some vars replaced, from a network of its own unless `ip` is given. */
function send<T = Envelope>(
  method: string,
  path: string,
  options: { body?: Record<string, unknown> | string; headers?: Headers_; vars?: Vars } = {},
  ip = freshIp(),
) {
  const { body, headers = {}, vars = {} } = options;
  return callWith<T>(
    vars,
    request(method, path, { body, headers: { "CF-Connecting-IP": ip, ...headers } }),
  );
}

/**
 * The same, without the contract check of test/helpers/api.ts: for answers the OpenAPI document
 * does not list — a 403 `csrf_failed` to a cookie-authenticated write on a route that documents
 * only bearer tokens (PATCH /users/me/, POST /auth/logout/, …), a method name in lower case.
 */
async function sendRaw(
  method: string,
  path: string,
  options: { body?: Record<string, unknown> | string; headers?: Headers_; vars?: Vars } = {},
): Promise<ApiResponse> {
  const { body, headers = {}, vars = {} } = options;
  const req = request(method, path, {
    body,
    headers: { "CF-Connecting-IP": freshIp(), ...headers },
  });
  const ctx = createExecutionContext();
  const res = await worker.fetch(req, { ...env, ...vars } as Env, ctx);
  await waitOnExecutionContext(ctx);
  const text = await res.text();
  let parsed: unknown = text;
  try {
    parsed = JSON.parse(text);
  } catch {}
  return { status: res.status, headers: res.headers, body: parsed, text };
}

/** An error answer of any 4xx status, in the documented envelope. */
function expectClientError(res: ApiResponse) {
  expect(res.status, res.text).toBeGreaterThanOrEqual(400);
  expect(res.status, res.text).toBeLessThan(500);
  const body = res.body as Envelope;
  expect(body.success).toBe(false);
  expect(typeof body.error).toBe("string");
  for (const key of Object.keys(body)) {
    expect(["success", "message", "error", "details"]).toContain(key);
  }
}

/** Set-Cookie lines by cookie name. */
function setCookies(res: ApiResponse): Map<string, string> {
  const lines = new Map<string, string>();
  for (const line of res.headers.getSetCookie()) lines.set(line.slice(0, line.indexOf("=")), line);
  return lines;
}

const cookieValue = (line: string | undefined) =>
  line?.split(";")[0]?.split("=").slice(1).join("=") ?? "";

const SESSION_COOKIES = ["__Host-access", "__Host-refresh", "__Host-csrf"];

const noSessionCookies = (res: ApiResponse) => {
  for (const name of SESSION_COOKIES) expect(setCookies(res).has(name)).toBe(false);
};

const sessionCount = async (userId: string) => (await sessionsFor(userId)).length;

// ---- identity providers

/** A provider id of its own (audit rows and states are told apart by it). */
const newProviderId = () => `p${crypto.randomUUID().slice(0, 8)}`;

/** An issuer nobody listens on: discovery fails with a refused connection. */
const DEAD_ISSUER = "http://127.0.0.1:9";

/** OAUTH_PROVIDERS naming these providers, all at the unreachable issuer. */
function providersVar(...entries: { id: string }[]): Vars {
  return {
    OAUTH_PROVIDERS: JSON.stringify(
      entries.map((e) => ({
        id: e.id,
        issuer: DEAD_ISSUER,
        client_id: "client-x",
        client_secret: "secret-y",
      })),
    ),
  };
}

async function oauthFailures(provider: string) {
  const rows = await db().select().from(auditLog).where(eq(auditLog.action, "oauth_failure"));
  return rows
    .filter((r) => r.metadata?.provider === provider)
    .map((r) => String(r.metadata?.reason));
}

async function statesOf(provider: string) {
  return db().select().from(oauthStates).where(eq(oauthStates.provider, provider));
}

/** The row of states.ts's startAuthorization, written directly (the id is the state's hash). */
async function plantState(
  provider: string,
  overrides: Partial<typeof oauthStates.$inferInsert> = {},
) {
  const state = randomToken();
  const binding = randomToken();
  const id = await sha256Hex(`oauth-state:${state}`);
  const now = Date.now();
  await db()
    .insert(oauthStates)
    .values({
      id,
      provider,
      bindingHash: await sha256Hex(binding),
      codeVerifier: randomToken(),
      nonce: randomToken(),
      redirectTo: "http://localhost:3000/after",
      sessionMode: "token",
      linkUserId: null,
      expiresAt: new Date(now + 10 * 60 * 1000),
      createdAt: new Date(now),
      ...overrides,
    });
  const row = async () => (await db().select().from(oauthStates).where(eq(oauthStates.id, id)))[0];
  return { state, binding, id, row };
}

/** A token-mode callback's outcome, as sign-in.ts stores it: the code for POST /auth/oauth/token/. */
async function plantOutcome(userId: string, provider: string, callbackAgoMs = 0) {
  const code = randomToken();
  const usedAt = new Date(Date.now() - callbackAgoMs);
  const planted = await plantState(provider, {
    usedAt,
    userId,
    exchangeHash: await sha256Hex(code),
  });
  return { code, ...planted };
}

/** A link's callback as sign-in.ts stores it: the profile kept, a code for the confirmation. */
async function plantLinkCode(
  linkUserId: string,
  provider: string,
  { callbackAgoMs = 0, subject = `s-${crypto.randomUUID()}` } = {},
) {
  const code = randomToken();
  const planted = await plantState(provider, {
    usedAt: new Date(Date.now() - callbackAgoMs),
    userId: linkUserId,
    linkUserId,
    exchangeHash: await sha256Hex(code),
    profile: { subject, email: uniqueEmail("linked"), emailVerified: true, name: null },
  });
  return { code, subject, ...planted };
}

const exchange = (body: Record<string, unknown>) =>
  send<Envelope<TokenPair>>("POST", "/auth/oauth/token/", { body });

const confirmLink = (accessToken: string, code: string) =>
  send<Envelope<{ provider: string }>>("POST", "/auth/identities/confirm/", {
    body: { code },
    headers: { Authorization: `Bearer ${accessToken}` },
  });

const identitiesOf = (userId: string) =>
  db().select().from(identities).where(eq(identities.userId, userId));

/** RFC 7636 S256, computed here rather than by the service's own code. */
async function s256(verifier: string) {
  const digest = await crypto.subtle.digest("SHA-256", new TextEncoder().encode(verifier));
  return new Uint8Array(digest).toBase64({ alphabet: "base64url", omitPadding: true });
}

const callback = (provider: string, query: string, vars: Vars, cookie?: string) =>
  send("GET", `/auth/oauth/${provider}/callback/?${query}`, {
    vars,
    headers: cookie ? { Cookie: cookie } : {},
  });

const bindingCookie = (binding: string) => `__Host-oauth-binding=${binding}`;

afterEach(() => {
  vi.useRealTimers();
});

// ---- emailed codes

const CODE_MAIL = "user.sign_in_code_requested";
const SIGN_UP_OFF = { EMAIL_CODE_SIGN_UP: "false" };

const requestCode = (email: string, vars: Vars = {}) =>
  send("POST", "/auth/otp/", { body: { email }, vars });
const verifyCode = (body: Record<string, unknown>, vars: Vars = {}) =>
  send<Envelope<TokenPair>>("POST", "/auth/otp/verify/", { body, vars });

async function mailedCode(email: string, count = 1) {
  const [newest] = await waitForMail(email, CODE_MAIL, count);
  return { code: String(newest?.data.code), token: String(newest?.data.token) };
}

const otherCode = (code: string, by = 1) =>
  String((Number(code) + by) % 1_000_000).padStart(6, "0");

async function codeRows(email: string) {
  return db().select().from(emailCodes).where(eq(emailCodes.email, email));
}

// ---- browser sessions

interface Browser {
  userId: string;
  cookie: string;
  csrf: string;
}

async function cookieLogin(): Promise<Browser> {
  const user = await register();
  const res = await call("POST", "/auth/login/?session=cookie", {
    body: { email: user.email, password: PASSWORD },
  });
  expect(res.status, res.text).toBe(200);
  const cookies = setCookies(res);
  return {
    userId: user.id,
    cookie: SESSION_COOKIES.map((name) => `${name}=${cookieValue(cookies.get(name))}`).join("; "),
    csrf: (res.body as Envelope<{ csrf_token: string }>).data.csrf_token,
  };
}

const profileBy = (headers: Headers_) => send("GET", "/users/me/", { headers });

// ---------------------------------------------------------------------------------------------

describe("emailed codes", () => {
  it("a code mailed to one address signs in neither another address nor its own after being misused", async () => {
    const [alice, bob] = [await register(), await register()];
    await requestCode(alice.email);
    const { code } = await mailedCode(alice.email);
    // Bob has no code: Alice's is refused for him, the same way as any wrong code.
    expectError(await verifyCode({ email: bob.email, code }), 401, "invalid_code");
    // Bob with a code of his own: Alice's code is a wrong try against his, not a sign-in.
    await requestCode(bob.email);
    const bobs = await mailedCode(bob.email);
    if (bobs.code !== code) {
      expectError(await verifyCode({ email: bob.email, code }), 401, "invalid_code");
    }
    expect(await sessionCount(bob.id)).toBe(1); // the registration's
    expect(await auditFor(bob.id, "login_success")).toHaveLength(0);
    // A link token names its own row: it cannot be paired with another address.
    expectError(
      await verifyCode({ email: bob.email, token: (await mailedCode(alice.email)).token }),
      400,
      "validation_failed",
    );
    // Alice's code was not touched by any of that.
    const [row] = await codeRows(alice.email);
    expect(row?.attempts).toBe(0);
    expect(row?.usedAt).toBeNull();
  });

  it("a deactivated account gets no code, and a code mailed before deactivation signs nobody in", async () => {
    const user = await register();
    await requestCode(user.email);
    const { code, token } = await mailedCode(user.email);
    expect(
      (await callWith({}, request("DELETE", "/users/me/", { token: user.access_token }))).status,
    ).toBe(200);
    expectError(await verifyCode({ email: user.email, code }), 401, "invalid_code");
    expectError(await verifyCode({ token }), 401, "invalid_code");
    expect((await sessionsFor(user.id)).every((s) => s.revokedAt !== null)).toBe(true);
    expect(await auditFor(user.id, "login_success")).toHaveLength(0);
    expect((await userRow(user.id))?.isActive).toBe(false);
    // A new request writes no code for it (with sign-up on or off) and answers as for anyone.
    const before = (await codeRows(user.email)).length;
    for (const vars of [{}, SIGN_UP_OFF]) {
      expect((await requestCode(user.email, vars)).status).toBe(202);
    }
    expect(await codeRows(user.email)).toHaveLength(before);
  });

  it("verify answers alike for an unknown address, one with no code, a deactivated one and a wrong code", async () => {
    const known = await register();
    const withCode = await register();
    await requestCode(withCode.email);
    const { code } = await mailedCode(withCode.email);
    const gone = await register();
    await callWith({}, request("DELETE", "/users/me/", { token: gone.access_token }));
    const answers = [
      await verifyCode({ email: uniqueEmail("nobody"), code: "123456" }, SIGN_UP_OFF),
      await verifyCode({ email: known.email, code: "123456" }, SIGN_UP_OFF),
      await verifyCode({ email: gone.email, code: "123456" }, SIGN_UP_OFF),
      await verifyCode({ email: withCode.email, code: otherCode(code) }, SIGN_UP_OFF),
    ];
    const seen = answers.map((res) => ({
      status: res.status,
      body: res.text,
      headers: [...res.headers.keys()]
        .filter((k) => !["x-correlation-id", "ratelimit", "x-d1-bookmark"].includes(k))
        .sort()
        .join(),
    }));
    expect(new Set(seen.map((s) => JSON.stringify(s))).size).toBe(1);
    expectError(answers[0] as ApiResponse, 401, "invalid_code");
  });

  it("nothing secret is left behind: no code or token in D1 rows, audit or the redacted outbox; '*' webhooks never get it", async () => {
    const user = await register();
    await requestCode(user.email);
    const { code, token } = await mailedCode(user.email);
    const [row] = await codeRows(user.email);
    expect(JSON.stringify(row)).not.toContain(token);
    expect(row?.codeHash).not.toBe(await sha256Hex(code));
    expect(JSON.stringify(await auditFor(user.id))).not.toContain(token);
    const redacted = await vi.waitUntil(
      async () => {
        const [event] = await outboxFor(user.id, CODE_MAIL);
        return event?.publishedAt && !event.payload.includes(token) ? event : false;
      },
      { timeout: 5_000, interval: 50 },
    );
    expect(redacted.event.data.code).not.toBe(code);
    expect(redacted.payload).not.toContain(`"${code}"`);
    expect(subscribes(["*"], CODE_MAIL)).toBe(false);
  });

  it("of three concurrent uses of a sign-up code exactly one makes an account and a session", async () => {
    const email = uniqueEmail("signup-race");
    await requestCode(email);
    const { code } = await mailedCode(email);
    const answers = await Promise.all([1, 2, 3].map(() => verifyCode({ email, code })));
    expect(answers.filter((r) => r.status === 200)).toHaveLength(1);
    const accounts = await db().select().from(users).where(eq(users.email, email));
    expect(accounts).toHaveLength(1);
    const id = accounts[0]?.id ?? "";
    expect(await sessionCount(id)).toBe(1);
    expect(await auditFor(id, "login_success")).toHaveLength(1);
    expect(await auditFor(id, "register")).toHaveLength(1);
  });

  // Two concurrent uses of one sign-up code: the losers meet the winner's new account.
  it("the losers of a sign-up code race answer 401 invalid_code, not 500", async () => {
    const email = uniqueEmail("signup-race-500");
    await requestCode(email);
    const { code } = await mailedCode(email);
    const answers = await Promise.all([1, 2, 3].map(() => verifyCode({ email, code })));
    expect(answers.map((r) => r.status).sort()).toEqual([200, 401, 401]);
    for (const res of answers.filter((r) => r.status !== 200)) {
      expectError(res, 401, "invalid_code");
    }
  });

  // Racing the five-tries cap: concurrent wrong guesses at one code.
  it("concurrent wrong guesses get no more than five checks of one code", async () => {
    const user = await register();
    await requestCode(user.email);
    const { code } = await mailedCode(user.email);
    const guesses = Array.from({ length: 10 }, (_, i) => otherCode(code, i + 1));
    const answers = await Promise.all(
      guesses.map((guess) => verifyCode({ email: user.email, code: guess })),
    );
    for (const res of answers) expectError(res, 401, "invalid_code");
    expect(await sessionCount(user.id)).toBe(1);
    const checked = (await auditFor(user.id, "email_code_failure")).filter(
      (r) => r.metadata?.reason === "wrong_code",
    );
    expect(checked.length).toBeLessThanOrEqual(5);
  });

  // Account pre-hijacking: a stranger registers the victim's address with a password of their
  // own and waits for the victim to sign in by emailed code.
  it("an emailed code makes a pre-registered account the owner's alone: the stranger's password and sessions end", async () => {
    const stranger = await register(); // the address is the victim's; the password the stranger's
    const strangersSecond = await send<Envelope<TokenPair>>("POST", "/auth/login/", {
      body: { email: stranger.email, password: PASSWORD },
    });
    expect(strangersSecond.status).toBe(200);
    expect((await userRow(stranger.id))?.emailVerifiedAt).toBeNull();
    await requestCode(stranger.email);
    const { code } = await mailedCode(stranger.email); // only the owner reads this mailbox
    const owner = await verifyCode({ email: stranger.email, code });
    expect(owner.status, owner.text).toBe(200);
    expect(owner.body.data.user.id).toBe(stranger.id);
    const row = await userRow(stranger.id);
    expect(row?.emailVerifiedAt).not.toBeNull();
    expect(row?.passwordHash.startsWith("!")).toBe(true);
    // Every session the stranger had is revoked, and their access tokens stop at once.
    const sessions = await sessionsFor(stranger.id);
    const ended = sessions.filter((s) => s.revokedAt !== null);
    expect(ended).toHaveLength(2);
    for (const s of ended) expect(s.revokedReason).toBe("address_claimed");
    expect(sessions.filter((s) => s.revokedAt === null)).toHaveLength(1); // the owner's
    for (const token of [stranger.access_token, strangersSecond.body.data.access_token]) {
      expectError(await profileBy({ Authorization: `Bearer ${token}` }), 401, "invalid_token");
    }
    const refreshed = await send("POST", "/auth/refresh/", {
      body: { refresh_token: stranger.refresh_token },
    });
    expect(refreshed.status).toBe(401);
    expectError(
      await send("POST", "/auth/login/", { body: { email: stranger.email, password: PASSWORD } }),
      401,
      "invalid_credentials",
    );
    expect(await auditFor(stranger.id, "address_claimed")).toHaveLength(1);
    // The owner's session works.
    const mine = await profileBy({ Authorization: `Bearer ${owner.body.data.access_token}` });
    expect(mine.status, mine.text).toBe(200);
  });

  it("with REQUIRE_EMAIL_VERIFICATION the owner's code never activates a stranger's password", async () => {
    const vars = { REQUIRE_EMAIL_VERIFICATION: "true" };
    const email = uniqueEmail("squatted");
    expect(
      (await send("POST", "/users/", { body: { email, password: PASSWORD }, vars })).status,
    ).toBe(202);
    const loginAs = () =>
      send("POST", "/auth/login/", { body: { email, password: PASSWORD }, vars });
    expectError(await loginAs(), 403, "email_not_verified");
    await requestCode(email, vars);
    const { code } = await mailedCode(email);
    const owner = await verifyCode({ email, code }, vars);
    expect(owner.status, owner.text).toBe(200);
    expectError(await loginAs(), 401, "invalid_credentials");
    expect(await auditFor(owner.body.data.user.id, "address_claimed")).toHaveLength(1);
  });

  it("fuzzed bodies of POST /auth/otp/ and /auth/otp/verify/ never answer 5xx, and errors keep the envelope", async () => {
    const value = fc.oneof(
      fc.jsonValue({ maxDepth: 2 }),
      fc.string({ unit: "binary", maxLength: 300 }),
      fc.stringMatching(/^\d{6}$/),
      fc.constantFrom("a@b.co", " A@B.CO ", "a@b", "x".repeat(300), "123456 ", "０１２３４５"),
    );
    const body = fc.oneof(
      fc.jsonValue({ maxDepth: 3 }).map((v) => JSON.stringify(v)),
      fc
        .record({ email: value, code: value, token: value, extra: value }, { requiredKeys: [] })
        .map((v) => JSON.stringify(v)),
      fc.string({ maxLength: 200 }),
    );
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom("/auth/otp/", "/auth/otp/verify/"),
        body,
        async (path, text) => {
          const res = await send("POST", path, {
            body: text,
            headers: { "Content-Type": "application/json" },
            vars: SIGN_UP_OFF,
          });
          if (res.status < 400) {
            expect([200, 202]).toContain(res.status);
            expect(
              path === "/auth/otp/" || res.status !== 200 || !res.text.includes("access_token"),
            ).toBe(true);
          } else {
            expectClientError(res);
          }
        },
      ),
      { seed: 20261201, numRuns: 60 },
    );
  });
});

describe("identity providers: redirect_to", () => {
  const config = {
    oauth: { redirectOrigins: ["http://localhost:3000", "http://localhost:5173"] },
  } as unknown as Config;

  const refused = [
    "http://localhost:3000@evil.example",
    "http://localhost:3000@evil.example/",
    "http://evil.example\\@localhost:3000",
    "http://evil.example#@localhost:3000",
    "http://evil.example?@localhost:3000",
    "//evil.example",
    "/relative/path",
    "http://localhost:3000:443",
    "http://localhost:3000.evil.example",
    "http://localhost:3001/",
    "https://localhost:3000/",
    "http://127.0.0.1:3000/",
    "http://user:pw@localhost:3000/",
    "http://user@localhost:3000/",
    "data:text/html,<script>alert(1)</script>",
    "javascript:alert(document.domain)//http://localhost:3000",
    "ws://localhost:3000/",
    "file:///etc/passwd",
  ];

  it("every trick is refused with 400 before anything is stored, any cookie set or any provider asked", async () => {
    const id = newProviderId();
    const vars = providersVar({ id });
    for (const redirectTo of refused) {
      const res = await send(
        "GET",
        `/auth/oauth/${id}/authorize/?${new URLSearchParams({ redirect_to: redirectTo })}`,
        { vars },
      );
      expectError(res, 400, "validation_failed");
      expect((res.body as Envelope).details, redirectTo).toHaveProperty("redirect_to");
      expect(res.headers.get("Location")).toBeNull();
      expect(res.headers.getSetCookie()).toEqual([]);
    }
    // The redirect_to check comes before discovery: the unreachable provider, had it been asked,
    // would have answered 503.
    expect(await statesOf(id)).toEqual([]);
  });

  it("what only looks odd is normalised onto the allowed origin (backslash, case, tabs, dots in the path)", () => {
    const cases: [string, string][] = [
      ["http://localhost:3000\\@evil.example", "http://localhost:3000/@evil.example"],
      ["http://LOCALHOST:3000/Signed-In", "http://localhost:3000/Signed-In"],
      ["http://local\thost:3000/\n", "http://localhost:3000/"],
      ["http://localhost:03000/x", "http://localhost:3000/x"],
      ["http://localhost:3000/..//evil.example", "http://localhost:3000//evil.example"],
      ["http://localhost:5173/%2F%2Fevil.example", "http://localhost:5173/%2F%2Fevil.example"],
    ];
    for (const [given, stored] of cases) {
      const result = allowedRedirect(config, given);
      expect(result).toBe(stored);
      expect(["http://localhost:3000", "http://localhost:5173"]).toContain(new URL(result).origin);
    }
    for (const redirectTo of refused) expect(() => allowedRedirect(config, redirectTo)).toThrow();
  });

  it("the callback sends the browser to the stored (normalised) redirect only, whatever the query says", async () => {
    const id = newProviderId();
    const planted = await plantState(id, {
      redirectTo: allowedRedirect(config, "http://localhost:3000\\@evil.example"),
    });
    expect((await planted.row())?.redirectTo).toBe("http://localhost:3000/@evil.example");
    const res = await callback(
      id,
      new URLSearchParams({
        state: planted.state,
        error: "access_denied",
        redirect_to: "https://evil.example/",
      }).toString(),
      providersVar({ id }),
      bindingCookie(planted.binding),
    );
    expect(res.status, res.text).toBe(302);
    const landed = new URL(res.headers.get("Location") ?? "");
    expect(landed.origin).toBe("http://localhost:3000");
    expect(landed.pathname).toBe("/@evil.example");
  });

  // A blob: URL's origin is its inner URL's: it would pass an origin-only check.
  it("a blob: URL on an allowed origin is not accepted as redirect_to", async () => {
    expect(() => allowedRedirect(config, "blob:http://localhost:3000/0f7b")).toThrow();
    const id = newProviderId();
    const res = await send(
      "GET",
      `/auth/oauth/${id}/authorize/?${new URLSearchParams({ redirect_to: "blob:http://localhost:3000/0f7b" })}`,
      { vars: providersVar({ id }) },
    );
    expectError(res, 400, "validation_failed");
    expect(await statesOf(id)).toEqual([]);
  });
});

describe("identity providers: authorize and link tokens", () => {
  // A provider that is down must not turn into a 500, nor leave half a sign-in behind.
  it("an unreachable provider answers 503: no state stored, no binding cookie, no redirect", async () => {
    const id = newProviderId();
    const res = await send("GET", `/auth/oauth/${id}/authorize/`, { vars: providersVar({ id }) });
    expectError(res, 503, "service_unavailable");
    expect(res.headers.get("Location")).toBeNull();
    expect(res.headers.getSetCookie()).toEqual([]);
    expect(await statesOf(id)).toEqual([]);
  });

  it("an unknown provider is a 404 and a cookie session is refused when cookie sessions are off", async () => {
    const id = newProviderId();
    const vars = providersVar({ id });
    expectError(await send("GET", "/auth/oauth/nope/authorize/", { vars }), 404, "not_found");
    expectError(
      await send("GET", "/auth/oauth/nope/callback/?state=x", { vars }),
      404,
      "not_found",
    );
    const off = await send("GET", `/auth/oauth/${id}/authorize/?session=cookie`, {
      vars: { ...vars, COOKIE_SESSIONS: "false" },
    });
    expectError(off, 400, "validation_failed");
    expect(await statesOf(id)).toEqual([]);
  });

  it("a link token works at its own provider only, once; a refused request leaves it; a stale sign-in or a foreign redirect_to gets none", async () => {
    const [id, other] = [newProviderId(), newProviderId()];
    const vars = providersVar({ id }, { id: other });
    const user = await register();
    const bearer = { Authorization: `Bearer ${user.access_token}` };
    const linkToken = async () => {
      const made = await send<Envelope<{ authorize_url: string }>>(
        "POST",
        `/auth/oauth/${id}/link/`,
        { body: {}, headers: bearer, vars },
      );
      expect(made.status, made.text).toBe(201);
      return new URL(made.body.data.authorize_url).searchParams.get("link_token") ?? "";
    };
    const authorize = (provider: string, query: string, with_: Vars = vars) =>
      send("GET", `/auth/oauth/${provider}/authorize/?${query}`, { vars: with_ });
    const foreign = await send("POST", `/auth/oauth/${id}/link/`, {
      body: { redirect_to: "https://evil.example/" },
      headers: bearer,
      vars,
    });
    expectError(foreign, 400, "validation_failed");
    // At another provider: refused, and nothing starts there.
    expectError(
      await authorize(other, `link_token=${await linkToken()}`),
      400,
      "validation_failed",
    );
    expect(await statesOf(other)).toEqual([]);
    // Requests refused for another reason do not use it up: it still gets through to the provider
    // (here unreachable: 503, nothing stored)…
    const token = await linkToken();
    const refusedFirst = [
      await authorize(id, `link_token=${token}&redirect_to=https://evil.example/`),
      await authorize(id, `link_token=${token}&session=cookie`, {
        ...vars,
        COOKIE_SESSIONS: "false",
      }),
    ];
    for (const res of refusedFirst) expectError(res, 400, "validation_failed");
    expectError(await authorize(id, `link_token=${token}`), 503, "service_unavailable");
    // …once: then it is gone, like a guessed one.
    expectError(await authorize(id, `link_token=${token}`), 400, "validation_failed");
    expectError(await authorize(id, `link_token=${randomToken()}`), 400, "validation_failed");
    expect(await statesOf(id)).toEqual([]);
    // Eleven minutes after the sign-in, its still valid access token gets no link token.
    vi.useFakeTimers({ toFake: ["Date"] });
    vi.setSystemTime(Date.now() + 11 * 60 * 1000);
    const stale = await send("POST", `/auth/oauth/${id}/link/`, {
      body: {},
      headers: bearer,
      vars,
    });
    expectError(stale, 401, "reauthentication_required");
  });
});

describe("identity providers: the callback", () => {
  it("no state, an unknown one, another provider's: 400 oauth_failed, audited, no redirect, nothing used", async () => {
    const [id, other] = [newProviderId(), newProviderId()];
    const vars = providersVar({ id }, { id: other });
    const planted = await plantState(other);
    const queries = [
      "",
      "code=abc",
      `state=${randomToken()}&code=abc`,
      `state=${planted.state}&code=abc`,
    ];
    for (const query of queries) {
      const res = await callback(id, query, vars, bindingCookie(planted.binding));
      expectError(res, 400, "oauth_failed");
      expect(res.headers.get("Location")).toBeNull();
      noSessionCookies(res);
    }
    expect((await oauthFailures(id)).sort()).toEqual(
      ["no_state", "no_state", "unknown_state", "unknown_state"].sort(),
    );
    expect((await planted.row())?.usedAt).toBeNull();
  });

  it("an over-long or repeated state is refused by validation (400, no redirect, nothing stored)", async () => {
    const id = newProviderId();
    const vars = providersVar({ id });
    for (const query of [
      `state=${"a".repeat(513)}`,
      "state=a&state=b",
      `code=${"c".repeat(5000)}`,
    ]) {
      const res = await callback(id, query, vars);
      expectError(res, 400, "validation_failed");
      expect(res.headers.get("Location")).toBeNull();
    }
    // Refused before claimState: the 512-character check there (with its audit row) is not reached.
    expect(await oauthFailures(id)).toEqual([]);
  });

  it("another browser's callback (login CSRF) is refused and does not burn the state; the right browser still finishes", async () => {
    const id = newProviderId();
    const vars = providersVar({ id });
    const planted = await plantState(id, { sessionMode: "cookie" });
    const query = `state=${planted.state}&error=access_denied`;
    for (const cookie of [
      undefined,
      bindingCookie(randomToken()),
      bindingCookie(""),
      "oauth-binding=x",
    ]) {
      const res = await callback(id, query, vars, cookie);
      expectError(res, 400, "oauth_failed");
      expect(res.headers.get("Location")).toBeNull();
      noSessionCookies(res);
    }
    expect((await planted.row())?.usedAt).toBeNull();
    expect(await oauthFailures(id)).toEqual(Array(4).fill("browser_mismatch"));
    // The browser that started it: the provider's refusal goes back to redirect_to, once.
    const res = await callback(id, query, vars, bindingCookie(planted.binding));
    expect(res.status).toBe(302);
    const landed = new URL(res.headers.get("Location") ?? "");
    expect(landed.origin + landed.pathname).toBe("http://localhost:3000/after");
    expect(landed.searchParams.get("error")).toBe("access_denied");
    noSessionCookies(res);
    expect((await planted.row())?.usedAt).not.toBeNull();
    expectError(
      await callback(id, query, vars, bindingCookie(planted.binding)),
      400,
      "oauth_failed",
    );
    expect(await oauthFailures(id)).toContain("state_replayed");
  });

  it("an expired state is refused even from the right browser", async () => {
    const id = newProviderId();
    const planted = await plantState(id, { expiresAt: new Date(Date.now() - 1000) });
    const res = await callback(
      id,
      `state=${planted.state}&code=x`,
      providersVar({ id }),
      bindingCookie(planted.binding),
    );
    expectError(res, 400, "oauth_failed");
    expect(await oauthFailures(id)).toEqual(["state_expired"]);
    expect((await planted.row())?.usedAt).toBeNull();
  });

  // A provider that goes down after the state was honoured: no 500, no silent dead end.
  it("a provider failing after the state was honoured sends the browser back with ?error=oauth_failed", async () => {
    const id = newProviderId();
    const planted = await plantState(id);
    const res = await callback(
      id,
      `state=${planted.state}&code=x`,
      providersVar({ id }),
      bindingCookie(planted.binding),
    );
    expect(res.status, res.text).toBe(302);
    const landed = new URL(res.headers.get("Location") ?? "");
    expect(landed.origin + landed.pathname).toBe("http://localhost:3000/after");
    expect([...landed.searchParams.keys()]).toEqual(["error"]);
    expect(landed.searchParams.get("error")).toBe("oauth_failed");
    noSessionCookies(res);
    const row = await planted.row();
    expect(row?.usedAt).not.toBeNull();
    expect(row?.exchangeHash).toBeNull();
    expect(await oauthFailures(id)).toEqual(["discovery_failed"]);
  });

  it("fuzzed callback query strings never answer 5xx nor redirect", async () => {
    const id = newProviderId();
    const vars = providersVar({ id });
    const key = fc.constantFrom(
      "state",
      "code",
      "error",
      "error_description",
      "iss",
      "session",
      "x",
    );
    const value = fc.oneof(
      fc.string({ maxLength: 80 }),
      fc.string({ unit: "grapheme", maxLength: 40 }),
      fc.constantFrom("", "%", "\u0000", "a".repeat(600), "access_denied"),
    );
    await fc.assert(
      fc.asyncProperty(fc.array(fc.tuple(key, value), { maxLength: 6 }), async (pairs) => {
        const query = new URLSearchParams(pairs).toString();
        const res = await send("GET", `/auth/oauth/${id}/callback/?${query}`, { vars });
        expectClientError(res);
        expect(res.headers.get("Location")).toBeNull();
      }),
      { seed: 424242, numRuns: 40 },
    );
  });

  const formPost = (id: string, body: string, vars: Vars, cookie?: string) =>
    send("POST", `/auth/oauth/${id}/callback/`, {
      body,
      headers: {
        "Content-Type": "application/x-www-form-urlencoded",
        ...(cookie ? { Cookie: cookie } : {}),
      },
      vars,
    });

  it("a form_post callback is held to the same checks as the query one: another browser's is refused, the right one's honoured once", async () => {
    const id = newProviderId();
    const vars = providersVar({ id });
    const planted = await plantState(id);
    const body = `state=${planted.state}&error=access_denied`;
    for (const cookie of [undefined, bindingCookie(randomToken())]) {
      const res = await formPost(id, body, vars, cookie);
      expectError(res, 400, "oauth_failed");
      expect(res.headers.get("Location")).toBeNull();
    }
    expect((await planted.row())?.usedAt).toBeNull();
    const res = await formPost(id, body, vars, bindingCookie(planted.binding));
    expect(res.status, res.text).toBe(302);
    const landed = new URL(res.headers.get("Location") ?? "");
    expect(landed.origin + landed.pathname).toBe("http://localhost:3000/after");
    expect(landed.searchParams.get("error")).toBe("access_denied");
    noSessionCookies(res);
    expectError(
      await formPost(id, body, vars, bindingCookie(planted.binding)),
      400,
      "oauth_failed",
    );
    expect((await oauthFailures(id)).sort()).toEqual([
      "browser_mismatch",
      "browser_mismatch",
      "provider_refused",
      "state_replayed",
    ]);
  });

  // Junk bodies at the form_post callback (where Apple posts its answer).
  it("fuzzed form_post callback bodies never answer 5xx", async () => {
    const id = newProviderId();
    const vars = providersVar({ id });
    await fc.assert(
      fc.asyncProperty(
        fc.oneof(
          fc.constantFrom(
            "state=unknown&code=x",
            "%%%&&==",
            "state=&state=",
            "error=access_denied",
          ),
          fc.string({ maxLength: 200 }),
        ),
        async (body) => {
          const res = await formPost(id, body, vars);
          expect(res.status, `${body} → ${res.text}`).toBeLessThan(500);
          expectClientError(res);
          expect(res.headers.get("Location")).toBeNull();
        },
      ),
      { seed: 7, numRuns: 20 },
    );
  });

  // Two callbacks with one state (a double-submitted form_post, a replayed redirect) at once.
  it("two callbacks racing with one state: exactly one is honoured", async () => {
    const id = newProviderId();
    const vars = providersVar({ id });
    const planted = await plantState(id);
    const answers = await Promise.all(
      [1, 2].map(() =>
        callback(
          id,
          `state=${planted.state}&error=access_denied`,
          vars,
          bindingCookie(planted.binding),
        ),
      ),
    );
    expect(answers.map((r) => r.status).sort()).toEqual([302, 400]);
    expect((await oauthFailures(id)).sort()).toEqual(["provider_refused", "state_replayed"]);
  });
});

describe("identity providers: the code exchange", () => {
  it("random or malformed codes: 401 invalid_code or 400, never a session; fuzzed bodies never 5xx", async () => {
    for (const code of [randomToken(), "", "a".repeat(257), "' OR 1=1 --"]) {
      const res = await send("POST", "/auth/oauth/token/", { body: { code } });
      expectClientError(res);
      expect(res.text).not.toContain("access_token");
    }
    expectError(
      await send("POST", "/auth/oauth/token/", { body: { code: randomToken() } }),
      401,
      "invalid_code",
    );
    await fc.assert(
      fc.asyncProperty(
        fc.oneof(
          fc.jsonValue({ maxDepth: 3 }),
          fc.record({ code: fc.jsonValue({ maxDepth: 1 }) }),
          fc.record({ code: fc.string({ unit: "binary", maxLength: 300 }) }),
        ),
        async (body) => {
          const res = await send("POST", "/auth/oauth/token/", {
            body: JSON.stringify(body),
            headers: { "Content-Type": "application/json" },
          });
          expectClientError(res);
        },
      ),
      { seed: 99, numRuns: 40 },
    );
  });

  it("a code works once, even raced; one older than a minute or for a deactivated account signs nobody in", async () => {
    const id = newProviderId();
    const user = await register();
    const fresh = await plantOutcome(user.id, id);
    const raced = await Promise.all(
      [1, 2].map(() => send("POST", "/auth/oauth/token/", { body: { code: fresh.code } })),
    );
    expect(raced.map((r) => r.status).sort()).toEqual([200, 401]);
    expectError(
      await send("POST", "/auth/oauth/token/", { body: { code: fresh.code } }),
      401,
      "invalid_code",
    );
    expect(await sessionCount(user.id)).toBe(2); // the registration's and the exchange's
    const stale = await plantOutcome(user.id, id, 61 * 1000);
    expectError(
      await send("POST", "/auth/oauth/token/", { body: { code: stale.code } }),
      401,
      "invalid_code",
    );
    expect((await stale.row())?.exchangedAt).toBeNull();

    const gone = await register();
    const pending = await plantOutcome(gone.id, id);
    await callWith({}, request("DELETE", "/users/me/", { token: gone.access_token }));
    expectError(
      await send("POST", "/auth/oauth/token/", { body: { code: pending.code } }),
      401,
      "invalid_code",
    );
    expect((await sessionsFor(gone.id)).every((s) => s.revokedAt !== null)).toBe(true);
    expect(await auditFor(gone.id, "login_success")).toHaveLength(0);
  });

  it("asking for cookies from a foreign origin is refused before the code is used (login CSRF)", async () => {
    const user = await register();
    const planted = await plantOutcome(user.id, newProviderId());
    const res = await send("POST", "/auth/oauth/token/?session=cookie", {
      body: { code: planted.code },
      headers: { Origin: "https://evil.example" },
    });
    expectError(res, 403, "csrf_failed");
    noSessionCookies(res);
    expect((await planted.row())?.exchangedAt).toBeNull();
    expect(await sessionCount(user.id)).toBe(1);
  });
});

describe("identity providers: the app's PKCE at the exchange", () => {
  // A sign-in's code leaked from the redirect (a log, a Referer, another app on the device)
  // when the app that started the sign-in sent its own code_challenge.
  it("a code whose app sent a code_challenge is refused without its verifier or with another, and works with it", async () => {
    const user = await register();
    const verifier = randomToken();
    const code = randomToken();
    const planted = await plantState(newProviderId(), {
      usedAt: new Date(),
      userId: user.id,
      exchangeHash: await sha256Hex(code),
      appChallenge: await s256(verifier),
    });
    for (const body of [
      { code },
      { code, code_verifier: randomToken() },
      { code, code_verifier: `${verifier.slice(0, -1)}${verifier.endsWith("A") ? "B" : "A"}` },
    ]) {
      expectError(await exchange(body), 401, "invalid_code");
    }
    // A malformed verifier is a validation error, not a try.
    expectError(await exchange({ code, code_verifier: "short" }), 400, "validation_failed");
    expect((await planted.row())?.exchangedAt).toBeNull();
    expect(await sessionCount(user.id)).toBe(1);
    expect(await auditFor(user.id, "login_success")).toHaveLength(0);
    // The app that holds the verifier signs in, once.
    const ok = await exchange({ code, code_verifier: verifier });
    expect(ok.status, ok.text).toBe(200);
    expect(ok.body.data.user.id).toBe(user.id);
    expectError(await exchange({ code, code_verifier: verifier }), 401, "invalid_code");
    expect(await sessionCount(user.id)).toBe(2);
  });

  it("authorize refuses a code_challenge that is no S256 value (nothing stored)", async () => {
    const id = newProviderId();
    const vars = providersVar({ id });
    for (const query of [
      "code_challenge=short",
      `code_challenge=${"a".repeat(44)}`,
      `code_challenge=${"+".repeat(43)}`,
      `code_challenge=${randomToken()}&code_challenge_method=plain`,
    ]) {
      const res = await send("GET", `/auth/oauth/${id}/authorize/?${query}`, { vars });
      expectError(res, 400, "validation_failed");
    }
    expect(await statesOf(id)).toEqual([]);
  });
});

describe("identity providers: confirming a link", () => {
  // Login CSRF on linking: an attacker gets a link URL for their own account and has a victim
  // open it; the victim signs in at the provider and the callback hands back a link code.
  it("a link code confirmed with another user's token links nothing, and the right user can still confirm it", async () => {
    const [attacker, victim] = [await register(), await register()];
    const provider = newProviderId();
    const link = await plantLinkCode(attacker.id, provider);
    // The victim's app (or the victim, tricked) confirms it with the victim's token.
    expectError(await confirmLink(victim.access_token, link.code), 401, "invalid_code");
    expect(await identitiesOf(attacker.id)).toEqual([]);
    expect(await identitiesOf(victim.id)).toEqual([]);
    expect((await link.row())?.exchangedAt).toBeNull();
    expect(await auditFor(victim.id, "identity_link_confirmed")).toHaveLength(0);
    // Without any token: refused before the code is looked at.
    expectError(
      await send("POST", "/auth/identities/confirm/", { body: { code: link.code } }),
      401,
      "authentication_required",
    );
    // Only the user who started it links it, once.
    const ok = await confirmLink(attacker.access_token, link.code);
    expect(ok.status, ok.text).toBe(200);
    expect(ok.body.data).toEqual({ provider });
    const linked = await identitiesOf(attacker.id);
    expect(linked.map((i) => [i.provider, i.subject])).toEqual([[provider, link.subject]]);
    expectError(await confirmLink(attacker.access_token, link.code), 401, "invalid_code");
    expect(await identitiesOf(attacker.id)).toHaveLength(1);
  });

  it("a link code is no sign-in code, nor the reverse; an old one or a guessed one links nothing", async () => {
    const user = await register();
    const provider = newProviderId();
    const link = await plantLinkCode(user.id, provider);
    // A link code exchanged for a session: refused, and still confirmable.
    expectError(await exchange({ code: link.code }), 401, "invalid_code");
    expect(await sessionCount(user.id)).toBe(1);
    // A sign-in code presented as a link code: refused, and still exchangeable.
    const signIn = await plantOutcome(user.id, provider);
    expectError(await confirmLink(user.access_token, signIn.code), 401, "invalid_code");
    expect((await signIn.row())?.exchangedAt).toBeNull();
    // Eleven minutes after the callback, or never handed out.
    const old = await plantLinkCode(user.id, provider, { callbackAgoMs: 11 * 60 * 1000 });
    expectError(await confirmLink(user.access_token, old.code), 401, "invalid_code");
    expectError(await confirmLink(user.access_token, randomToken()), 401, "invalid_code");
    expect(await identitiesOf(user.id)).toEqual([]);
    expect((await confirmLink(user.access_token, link.code)).status).toBe(200);
  });

  it("an identity another account holds is not moved by a link: 409 identity_taken", async () => {
    const [holder, other] = [await register(), await register()];
    const provider = newProviderId();
    const first = await plantLinkCode(holder.id, provider);
    expect((await confirmLink(holder.access_token, first.code)).status).toBe(200);
    const second = await plantLinkCode(other.id, provider, { subject: first.subject });
    expectError(await confirmLink(other.access_token, second.code), 409, "identity_taken");
    expect(await identitiesOf(other.id)).toEqual([]);
    expect((await identitiesOf(holder.id)).map((i) => i.subject)).toEqual([first.subject]);
  });
});

describe("browser sessions", () => {
  it("every unsafe method by cookie needs the session's CSRF value; without it nothing changes", async () => {
    const b = await cookieLogin();
    const other = await cookieLogin();
    const name = (await userRow(b.userId))?.name;
    const attempts: [string, string, Record<string, unknown> | undefined, Headers_][] = [
      ["PATCH", "/users/me/", { name: "Forged" }, {}],
      [
        "PUT",
        "/users/me/",
        { name: "Forged", email: "x@evil.example", current_password: PASSWORD },
        {},
      ],
      ["DELETE", "/users/me/", undefined, {}],
      ["POST", "/auth/logout/", { all: true }, {}],
      ["POST", "/auth/oauth/any/link/", {}, {}],
      // Another session's CSRF value, a guessed one, the header sent twice, an empty one.
      ["PATCH", "/users/me/", { name: "Forged" }, { "X-CSRF-Token": other.csrf }],
      ["PATCH", "/users/me/", { name: "Forged" }, { "x-csrf-token": "guessed" }],
      ["PATCH", "/users/me/", { name: "Forged" }, { "X-CSRF-Token": `${b.csrf}, ${b.csrf}` }],
      ["DELETE", "/users/me/", undefined, { "X-CSRF-Token": "" }],
      // The right value but from a look-alike or an opaque origin.
      ["DELETE", "/users/me/", undefined, { "X-CSRF-Token": b.csrf, Origin: "null" }],
      [
        "DELETE",
        "/users/me/",
        undefined,
        { "X-CSRF-Token": b.csrf, Origin: "http://localhost:3000.evil.example" },
      ],
      [
        "DELETE",
        "/users/me/",
        undefined,
        { "X-CSRF-Token": b.csrf, Origin: "https://localhost:3000" },
      ],
    ];
    for (const [method, path, body, headers] of attempts) {
      const res = await sendRaw(method, path, { body, headers: { Cookie: b.cookie, ...headers } });
      expect(res.status, `${method} ${path} ${JSON.stringify(headers)}: ${res.text}`).toBe(403);
      expect((res.body as Envelope).error).toBe("csrf_failed");
    }
    // A method name the Fetch spec does not upper-case is not a way around it either.
    const lower = await sendRaw("patch", "/users/me/", {
      body: { name: "Forged" },
      headers: { Cookie: b.cookie },
    });
    expect(lower.status).not.toBe(200);
    const row = await userRow(b.userId);
    expect(row?.name).toBe(name);
    expect(row?.isActive).toBe(true);
    expect((await sessionsFor(b.userId)).filter((s) => s.revokedAt === null)).toHaveLength(2);
    expect((await profileBy({ Cookie: b.cookie })).status).toBe(200);
  });

  it("an Authorization header that is no usable bearer token is not replaced by the cookies", async () => {
    const b = await cookieLogin();
    for (const authorization of ["Basic dXNlcjpwYXNz", "Bearer not-a-jwt", "Bearer", ""]) {
      const res = await send("PATCH", "/users/me/", {
        body: { name: "Via Cookie" },
        headers: { Cookie: b.cookie, "X-CSRF-Token": b.csrf, Authorization: authorization },
      });
      expectError(res, 401, "invalid_token");
    }
    expect((await userRow(b.userId))?.name).not.toBe("Via Cookie");
  });

  it("/auth/session/refresh/ rotates nothing without the cookie, the CSRF value and an allowed Origin", async () => {
    const b = await cookieLogin();
    const refreshOnly = b.cookie
      .split("; ")
      .filter((c) => c.startsWith("__Host-refresh="))
      .join("");
    const tries: [Headers_, number][] = [
      [{}, 401],
      [{ "X-CSRF-Token": b.csrf }, 401],
      [{ Cookie: b.cookie }, 403],
      [{ Cookie: refreshOnly, "X-CSRF-Token": b.csrf }, 403],
      [{ Cookie: b.cookie, "X-CSRF-Token": b.csrf, Origin: "https://evil.example" }, 403],
      [
        {
          Cookie: b.cookie.replace(/__Host-refresh=[^;]+/, `__Host-refresh=${randomToken()}`),
          "X-CSRF-Token": b.csrf,
        },
        401,
      ],
    ];
    for (const [headers, status] of tries) {
      const res = await send("POST", "/auth/session/refresh/", { headers });
      expect(res.status, `${JSON.stringify(headers)}: ${res.text}`).toBe(status);
      noSessionCookies(res);
    }
    // None of that rotated the refresh token: the real browser still refreshes, once.
    const ok = await send("POST", "/auth/session/refresh/", {
      headers: { Cookie: b.cookie, "X-CSRF-Token": b.csrf },
    });
    expect(ok.status, ok.text).toBe(200);
    expect(setCookies(ok).get("__Host-refresh")).toMatch(/HttpOnly/);
  });

  it("after deactivation the cookies read nothing and refresh nothing", async () => {
    const b = await cookieLogin();
    const res = await send("DELETE", "/users/me/", {
      headers: { Cookie: b.cookie, "X-CSRF-Token": b.csrf },
    });
    expect(res.status, res.text).toBe(200);
    expectError(await profileBy({ Cookie: b.cookie }), 401, "invalid_token");
    const refreshed = await send("POST", "/auth/session/refresh/", {
      headers: { Cookie: b.cookie, "X-CSRF-Token": b.csrf },
    });
    expect(refreshed.status).toBe(401);
    noSessionCookies(refreshed);
    expect((await sessionsFor(b.userId)).every((s) => s.revokedAt !== null)).toBe(true);
  });

  it("an emailed code asked for as cookies from a foreign origin is refused before the code is used", async () => {
    const user = await register();
    await requestCode(user.email);
    const { code } = await mailedCode(user.email);
    for (const origin of ["https://evil.example", "null"]) {
      const res = await send("POST", "/auth/otp/verify/?session=cookie", {
        body: { email: user.email, code },
        headers: { Origin: origin },
      });
      expectError(res, 403, "csrf_failed");
      noSessionCookies(res);
    }
    const [row] = await codeRows(user.email);
    expect(row?.usedAt).toBeNull();
    expect(row?.attempts).toBe(0);
    expect(await sessionCount(user.id)).toBe(1);
  });

  it("CORS: no credentials with a wildcard, nor to an origin in only one list, nor to strangers", async () => {
    const b = await cookieLogin();
    const vars = {
      CORS_ORIGINS: "*",
      COOKIE_ORIGINS: "https://app.example",
      COOKIE_SESSIONS: "true",
    };
    for (const origin of ["https://app.example", "https://evil.example", "null"]) {
      const pre = await send("OPTIONS", "/users/me/", {
        vars,
        headers: {
          Origin: origin,
          "Access-Control-Request-Method": "DELETE",
          "Access-Control-Request-Headers": "x-csrf-token",
        },
      });
      expect(pre.headers.get("Access-Control-Allow-Credentials")).toBeNull();
      const read = await send("GET", "/users/me/", {
        vars,
        headers: { Origin: origin, Cookie: b.cookie },
      });
      expect(read.headers.get("Access-Control-Allow-Credentials")).toBeNull();
    }
    const listed = { CORS_ORIGINS: "https://app.example", COOKIE_ORIGINS: "https://app.example" };
    const evil = await send("GET", "/users/me/", {
      vars: listed,
      headers: { Origin: "https://evil.example", Cookie: b.cookie },
    });
    expect(evil.headers.get("Access-Control-Allow-Origin")).toBeNull();
    expect(evil.headers.get("Access-Control-Allow-Credentials")).toBeNull();
    const app = await send("GET", "/users/me/", {
      vars: listed,
      headers: { Origin: "https://app.example", Cookie: b.cookie },
    });
    expect(app.headers.get("Access-Control-Allow-Origin")).toBe("https://app.example");
    expect(app.headers.get("Access-Control-Allow-Credentials")).toBe("true");
    expect(app.headers.get("Vary") ?? "").toMatch(/origin/i);
  });

  it("the session cookies are __Host-, HttpOnly (but the CSRF one), Secure, SameSite; logout clears them all", async () => {
    const user = await register();
    const res = await send("POST", "/auth/otp/", { body: { email: user.email } });
    expect(res.status).toBe(202);
    const { code } = await mailedCode(user.email);
    const signedIn = await send("POST", "/auth/otp/verify/?session=cookie", {
      body: { email: user.email, code },
    });
    expect(signedIn.status, signedIn.text).toBe(200);
    expect(signedIn.text).not.toContain("access_token");
    expect(signedIn.text).not.toContain("refresh_token");
    const cookies = setCookies(signedIn);
    for (const name of SESSION_COOKIES) {
      const line = cookies.get(name) ?? "";
      expect(line).toMatch(/; Path=\//);
      expect(line).toMatch(/; Secure/);
      expect(line).toMatch(/; SameSite=(Lax|Strict)/);
      expect(line).not.toMatch(/Domain=/i);
      if (name !== "__Host-csrf") expect(line).toMatch(/; HttpOnly/);
    }
    expect(cookies.get("__Host-refresh")).toMatch(/SameSite=Strict/);
    const jar = SESSION_COOKIES.map((n) => `${n}=${cookieValue(cookies.get(n))}`).join("; ");
    const csrf = (signedIn.body as Envelope<{ csrf_token: string }>).data.csrf_token;
    const out = await send("POST", "/auth/logout/", {
      body: {},
      headers: { Cookie: jar, "X-CSRF-Token": csrf },
    });
    expect(out.status, out.text).toBe(200);
    for (const name of SESSION_COOKIES) expect(setCookies(out).get(name)).toMatch(/Max-Age=0/);
    expectError(await profileBy({ Cookie: jar }), 401, "invalid_token");
  });

  // Replay across callers: an anonymous neighbour (same network) sends the same Idempotency-Key
  // and body as a cookie session's write, hoping for its stored answer.
  it("an anonymous caller never gets a cookie session's idempotent answer replayed", async () => {
    const b = await cookieLogin();
    const ip = freshIp();
    const key = `attack-${crypto.randomUUID()}`;
    const body = { name: "Private Name" };
    const own = await send(
      "PATCH",
      "/users/me/",
      { body, headers: { Cookie: b.cookie, "X-CSRF-Token": b.csrf, "Idempotency-Key": key } },
      ip,
    );
    expect(own.status, own.text).toBe(200);
    const stranger = await send(
      "PATCH",
      "/users/me/",
      { body, headers: { "Idempotency-Key": key } },
      ip,
    );
    expect(stranger.text).not.toContain(b.userId);
    expect(stranger.headers.get("Idempotent-Replayed")).toBeNull();
    expectError(stranger, 401, "authentication_required");
  });

  // A bearer-token logout sent by a page whose browser also holds someone's session cookies.
  it("a logout by bearer token ends that session only and clears no cookies", async () => {
    const b = await cookieLogin();
    const other = await register();
    const out = await send("POST", "/auth/logout/", {
      body: {},
      headers: { Authorization: `Bearer ${other.access_token}`, Cookie: b.cookie },
    });
    expect(out.status, out.text).toBe(200);
    noSessionCookies(out);
    expectError(
      await profileBy({ Authorization: `Bearer ${other.access_token}` }),
      401,
      "invalid_token",
    );
    expect((await profileBy({ Cookie: b.cookie })).status).toBe(200);
  });
});
