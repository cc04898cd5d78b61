/**
 * Security cases named by the OWASP ASVS 5.0 requirement they check: every test name starts with
 * the requirement id (e.g. "V6.3.1 …"), and the README's table maps requirement → test name.
 *
 * Each test tries the attack and asserts that it fails without side effects: no token issued, no
 * row written or changed, no session left usable. Small rate limits come in per request (callWith)
 * with client addresses of their own (203.0.113.100 and up), so counts never leak between tests.
 */
import { env } from "cloudflare:workers";
import { and, eq } from "drizzle-orm";
import { SignJWT } from "jose";
import { afterEach, describe, expect, it, vi } from "vitest";
import { argon2id } from "../src/auth/passwords";
import { oneTimeTokens, pushTokens, users } from "../src/db/schema";
import {
  type ApiResponse,
  callWith,
  type Envelope,
  expectError,
  globalCeiling,
  request,
} from "./helpers/api";
import { b64, newKeyPair, serviceKey, sign } from "./helpers/jwt";
import { tokenFromMail } from "./helpers/mailbox";
import {
  auditFor,
  claims,
  db,
  makeAdmin,
  outboxFor,
  PASSWORD,
  register,
  SERVICE,
  sessionsFor,
  type TestUser,
  type TokenPair,
  uniqueEmail,
  userRow,
} from "./helpers/users";

afterEach(() => {
  vi.useRealTimers();
  vi.restoreAllMocks();
});

// ---------------------------------------------------------------------------------------------
// Helpers

let nextHost = 99;
/** An IPv4 client address no other test (or test file) uses, for tests with small limits. */
function newIp(): string {
  nextHost += 1;
  if (nextHost > 254) throw new Error("out of test addresses in 203.0.113.100-254");
  return `203.0.113.${nextHost}`;
}

let nextNetwork = 0;
/**
 * A fresh client network (an IPv6 /64 of the documentation prefix) for every other request, so no
 * response's RateLimit headers depend on what ran before it.
 */
function freshNetwork(): string {
  nextNetwork += 1;
  return `2001:db8:5ec:${nextNetwork.toString(16)}::1`;
}

interface SendOptions {
  body?: Record<string, unknown> | string;
  token?: string;
  headers?: Record<string, string>;
  /** Vars to override for this request, e.g. a small rate limit. */
  vars?: Partial<Record<keyof Env, unknown>>;
  ip?: string;
}

/** One request from a client address of its own (unless `ip` is given). */
function send<T = Envelope>(method: string, path: string, options: SendOptions = {}) {
  const { body, token, headers = {}, vars = {}, ip = freshNetwork() } = options;
  return callWith<T>(
    vars,
    request(method, path, { body, token, headers: { "CF-Connecting-IP": ip, ...headers } }),
  );
}

const login = (email: string, password: string, options: SendOptions = {}) =>
  send<Envelope<TokenPair>>("POST", "/auth/login/", { ...options, body: { email, password } });

const profile = (token: string) => send("GET", "/users/me/", { token });

const refresh = (refreshToken: string, vars: SendOptions["vars"] = {}) =>
  send<Envelope<TokenPair>>("POST", "/auth/refresh/", {
    body: { refresh_token: refreshToken },
    vars,
  });

/** A second session (another device) for a registered user. */
async function secondSession(user: TestUser): Promise<TokenPair> {
  const res = await login(user.email, user.password);
  expect(res.status, res.text).toBe(200);
  return res.body.data;
}

/** Both tokens of a session are dead: the access token is refused and the refresh token too. */
async function expectSessionDead(pair: { access_token: string; refresh_token: string }) {
  expectError(await profile(pair.access_token), 401, "invalid_token");
  expectError(await refresh(pair.refresh_token), 401, "invalid_token");
}

/** Status, body and every header but the per-request correlation id: what a client can compare. */
function observable(res: ApiResponse) {
  return {
    status: res.status,
    body: res.text,
    // The D1 bookmark is the database's position, moved by every write anyone makes: present on
    // every answer, its value says nothing about this request's email.
    headers: [...res.headers.entries()]
      .filter(([name]) => name !== "x-correlation-id")
      .map(([name, value]): [string, string] => [
        name,
        name === "x-d1-bookmark" ? "<bookmark>" : value,
      ])
      .sort(),
  };
}

async function userByEmail(email: string) {
  return db().select().from(users).where(eq(users.email, email));
}

/** The Argon2 cost parameters as configured (wrangler.toml), as they appear in a PHC string. */
const configuredArgon2 = () =>
  `m=${env.PASSWORD_HASH_MEMORY_KIB},t=${env.PASSWORD_HASH_ITERATIONS},p=${env.PASSWORD_HASH_PARALLELISM}`;

function expectLimited(res: ApiResponse, policy: string) {
  expectError(res, 429, "rate_limited");
  expect(Number(res.headers.get("Retry-After"))).toBeGreaterThan(0);
  expect(res.headers.get("RateLimit")).toMatch(new RegExp(`"${policy}";r=0;`));
}

async function deactivatedUser(): Promise<TestUser> {
  const user = await register();
  expect((await send("DELETE", "/users/me/", { token: user.access_token })).status).toBe(200);
  return user;
}

async function adminUser(): Promise<TestUser> {
  const boss = await register();
  await makeAdmin(boss);
  return boss;
}

// Tokens, forged the ways an attacker would.
// ---------------------------------------------------------------------------------------------

describe("V6.3.1 brute force and credential stuffing", () => {
  it("V6.3.1 brute force: after N failed logins from a network that network is locked out of the account (429 even for the right password), without issuing a session; the owner elsewhere and other accounts are unaffected", async () => {
    const vars = { RATE_LIMIT_LOGIN_ACCOUNT: "3/300" };
    const user = await register();
    const ip = newIp();
    for (let i = 0; i < 3; i++) {
      expectError(
        await login(user.email, `wrong-${i}-Guess`, { vars, ip }),
        401,
        "invalid_credentials",
      );
    }
    const locked = await login(user.email, PASSWORD, { vars, ip });
    expectLimited(locked, "login-account");
    expect(locked.text).not.toContain("access_token");

    expect(await sessionsFor(user.id)).toHaveLength(1); // only the registration's
    expect(await auditFor(user.id, "login_success")).toHaveLength(0);
    expect(await auditFor(user.id, "login_failure")).toHaveLength(3);
    expect((await userRow(user.id))?.lastLoginAt).toBeNull();

    // test/lockout.test.ts covers the per-account ceiling and proven devices.
    expect((await login(user.email, PASSWORD, { vars, ip: newIp() })).status).toBe(200);
    const bystander = await register();
    expect((await login(bystander.email, PASSWORD, { vars, ip })).status).toBe(200);
  });

  it("V6.3.1 credential stuffing: one client is limited per IP across many accounts, even with correct credentials; other clients are not", async () => {
    const vars = { RATE_LIMIT_LOGIN_IP: "3/300" };
    const ip = newIp();
    for (let i = 0; i < 3; i++) {
      expectError(
        await login(uniqueEmail("stuffed"), "leaked-Password-1", { vars, ip }),
        401,
        "invalid_credentials",
      );
    }
    const victim = await register();
    expectLimited(await login(victim.email, PASSWORD, { vars, ip }), "login-ip");
    expect(await sessionsFor(victim.id)).toHaveLength(1);
    expect(await auditFor(victim.id, "login_success")).toHaveLength(0);

    expect((await login(victim.email, PASSWORD, { vars })).status).toBe(200);
  });

  it("V6.3.1 registration is limited per IP: the request over the limit creates no account", async () => {
    const vars = { RATE_LIMIT_REGISTER_IP: "2/3600" };
    const ip = newIp();
    for (let i = 0; i < 2; i++) {
      const res = await send("POST", "/users/", {
        vars,
        ip,
        body: { email: uniqueEmail("bulk"), password: PASSWORD },
      });
      expect(res.status, res.text).toBe(201);
    }
    const email = uniqueEmail("bulk");
    const over = await send("POST", "/users/", { vars, ip, body: { email, password: PASSWORD } });
    expectLimited(over, "register-ip");
    expect(await userByEmail(email)).toHaveLength(0);
  });

  it("V6.3.1 password reset is limited per email (across IPs): the request over the limit issues no token", async () => {
    const vars = { RATE_LIMIT_RESET_EMAIL: "2/3600" };
    const user = await register();
    for (let i = 0; i < 2; i++) {
      const res = await send("POST", "/auth/password-reset/", {
        vars,
        body: { email: user.email },
      });
      expect(res.status).toBe(202);
    }
    const over = await send("POST", "/auth/password-reset/", { vars, body: { email: user.email } });
    expectLimited(over, "reset-email");
    expect(await outboxFor(user.id, "user.password_reset_requested")).toHaveLength(2);
    expect(await auditFor(user.id, "password_reset_requested")).toHaveLength(2);
  });

  it("V6.3.1 password reset is limited per IP (across emails): the request over the limit issues no token", async () => {
    const vars = { RATE_LIMIT_RESET_IP: "2/3600" };
    const ip = newIp();
    for (let i = 0; i < 2; i++) {
      const res = await send("POST", "/auth/password-reset/", {
        vars,
        ip,
        body: { email: uniqueEmail("probe") },
      });
      expect(res.status).toBe(202);
    }
    const target = await register();
    const over = await send("POST", "/auth/password-reset/", {
      vars,
      ip,
      body: { email: target.email },
    });
    expectLimited(over, "reset-ip");
    expect(await outboxFor(target.id, "user.password_reset_requested")).toHaveLength(0);
  });
});

describe("V2.4.1 anti-automation", () => {
  it("V2.4.1 anti-automation: a general per-client ceiling applies to every route, authenticated or not, and only to that client", async () => {
    const vars = globalCeiling(2);
    const user = await register();
    const ip = newIp();
    expect((await send("GET", "/users/me/", { vars, ip, token: user.access_token })).status).toBe(
      200,
    );
    expect((await send("GET", "/health/", { vars, ip })).status).toBe(200);
    expectLimited(
      await send("GET", "/users/me/", { vars, ip, token: user.access_token }),
      "global-ip",
    );
    expectLimited(
      await send("POST", "/users/push-tokens/", {
        vars,
        ip,
        token: user.access_token,
        body: { token: `flood-${user.id}`, platform: "web" },
      }),
      "global-ip",
    );
    expect(await db().select().from(pushTokens).where(eq(pushTokens.userId, user.id))).toHaveLength(
      0,
    );
    expect((await send("GET", "/users/me/", { vars, token: user.access_token })).status).toBe(200);
  });
});

describe("V6.3.8 valid users cannot be deduced", () => {
  it("V6.3.8 login: unknown email, wrong password and deactivated account get identical status, body and headers", async () => {
    const known = await register();
    const inactive = await deactivatedUser();
    const responses = [
      await login(uniqueEmail("ghost"), PASSWORD),
      await login(known.email, "wrong-Password-123"),
      await login(inactive.email, PASSWORD),
    ];
    expectError(responses[0] as ApiResponse, 401, "invalid_credentials");
    const [first, ...rest] = responses.map(observable);
    for (const other of rest) expect(other).toEqual(first);
  });

  it("V6.3.8 login: every failure path does exactly one Argon2id verification with the configured parameters, and no hashing", async () => {
    const known = await register();
    const inactive = await deactivatedUser();
    expect((await userRow(known.id))?.passwordHash.split("$")[3]).toBe(configuredArgon2());
    const attempts = {
      unknown_email: () => login(uniqueEmail("ghost"), PASSWORD),
      wrong_password: () => login(known.email, "wrong-Password-123"),
      deactivated: () => login(inactive.email, PASSWORD),
    };
    const observed: Record<string, string[]> = {};
    for (const [name, attempt] of Object.entries(attempts)) {
      const verify = vi.spyOn(argon2id, "verify");
      const hash = vi.spyOn(argon2id, "hash");
      expectError(await attempt(), 401, "invalid_credentials");
      expect(hash, name).not.toHaveBeenCalled();
      observed[name] = verify.mock.calls.map(([encoded]) => encoded.split("$")[3] ?? "");
      vi.restoreAllMocks();
    }
    expect(observed).toEqual({
      unknown_email: [configuredArgon2()],
      wrong_password: [configuredArgon2()],
      deactivated: [configuredArgon2()],
    });
  });

  it("V6.3.8 password reset: known, unknown and deactivated emails get identical status, body and headers; only the known one gets a token", async () => {
    const known = await register();
    const inactive = await deactivatedUser();
    const responses = [
      await send("POST", "/auth/password-reset/", { body: { email: known.email } }),
      await send("POST", "/auth/password-reset/", { body: { email: uniqueEmail("nobody") } }),
      await send("POST", "/auth/password-reset/", { body: { email: inactive.email } }),
    ];
    expect(responses[0]?.status).toBe(202);
    const [first, ...rest] = responses.map(observable);
    for (const other of rest) expect(other).toEqual(first);
    expect(await outboxFor(known.id, "user.password_reset_requested")).toHaveLength(1);
    expect(await outboxFor(inactive.id, "user.password_reset_requested")).toHaveLength(0);
  });

  it("V6.3.8 lockout: an unknown email is locked exactly like a known one, so the lock reveals nothing", async () => {
    const vars = { RATE_LIMIT_LOGIN_ACCOUNT: "3/300" };
    const known = await register();
    const unknown = uniqueEmail("ghost");
    const sequence = async (email: string) => {
      const out: ApiResponse[] = [];
      const ip = newIp();
      for (let i = 0; i < 4; i++) out.push(await login(email, `wrong-${i}-Guess`, { vars, ip }));
      return out;
    };
    const knownRuns = await sequence(known.email);
    const unknownRuns = await sequence(unknown);
    expect(knownRuns.map((r) => r.status)).toEqual([401, 401, 401, 429]);
    // The lock's Retry-After counts down from the first failure, so it may differ by a second.
    const comparable = (res: ApiResponse) => {
      const seen = observable(res);
      return {
        ...seen,
        headers: seen.headers.map(([name, value]) => [name, value.replace(/(t=|^)\d+$/, "$1N")]),
      };
    };
    expect(unknownRuns.map(comparable)).toEqual(knownRuns.map(comparable));
  });

  it("V6.3.8 registration: the contract's 409 email_taken (DESIGN §3) costs the same Argon2id hash as a new account and is rate limited per IP", async () => {
    // DESIGN §3 makes registration answer 409 for a taken email (outside
    // REQUIRE_EMAIL_VERIFICATION), so the defence here is that an enumerator gets few answers.
    const vars = { RATE_LIMIT_REGISTER_IP: "2/3600" };
    const ip = newIp();
    const existing = await register();
    const hash = vi.spyOn(argon2id, "hash");

    const taken = await send("POST", "/users/", {
      vars,
      ip,
      body: { email: existing.email, password: PASSWORD },
    });
    expectError(taken, 409, "email_taken");
    expect(hash).toHaveBeenCalledTimes(1);
    const fresh = await send("POST", "/users/", {
      vars,
      ip,
      body: { email: uniqueEmail(), password: PASSWORD },
    });
    expect(fresh.status).toBe(201);
    expect(hash).toHaveBeenCalledTimes(2);

    const probe = await send("POST", "/users/", {
      vars,
      ip,
      body: { email: existing.email, password: PASSWORD },
    });
    expectLimited(probe, "register-ip");
    expect(probe.text).not.toContain("email_taken");
    expect(hash).toHaveBeenCalledTimes(2);
  });
});

describe("V9 self-contained tokens", () => {
  it("V9.1.1 a tampered payload (escalated role, another user's sub) is refused", async () => {
    const user = await register();
    const victim = await register();
    await makeAdmin(victim);
    const [header, , signature] = user.access_token.split(".");
    const original = claims(user.access_token);
    for (const payload of [
      { ...original, role: "admin" },
      { ...original, sub: victim.id, user_id: victim.id, email: victim.email },
    ]) {
      const forged = `${header}.${b64(payload)}.${signature}`;
      expectError(await profile(forged), 401, "invalid_token");
      expectError(await send("GET", "/users/", { token: forged }), 401, "invalid_token");
    }
  });

  it("V9.1.1 a token with its signature stripped is refused", async () => {
    const user = await register();
    const [header, payload] = user.access_token.split(".");
    expectError(await profile(`${header}.${payload}.`), 401, "invalid_token");
  });

  it('V9.1.2 alg "none" is refused', async () => {
    const user = await register();
    for (const alg of ["none", "None", "NONE"]) {
      const token = `${b64({ alg, typ: "JWT", kid: "test-key" })}.${b64(claims(user.access_token))}.`;
      expectError(await profile(token), 401, "invalid_token");
    }
  });

  it("V9.1.2 HS256 signed with the public key as the HMAC secret (algorithm confusion) is refused", async () => {
    const user = await register();
    const { keys } = JSON.parse(env.JWT_PUBLIC_KEYS) as { keys: JsonWebKey[] };
    const publicJwk: JsonWebKey = keys[0] ?? { kty: "EC" };
    const publicKey = await crypto.subtle.importKey(
      "jwk",
      publicJwk,
      { name: "ECDSA", namedCurve: "P-256" },
      true,
      ["verify"],
    );
    const spki = (await crypto.subtle.exportKey("spki", publicKey)) as ArrayBuffer;
    const pem = `-----BEGIN PUBLIC KEY-----\n${btoa(String.fromCharCode(...new Uint8Array(spki)))}\n-----END PUBLIC KEY-----\n`;
    for (const secret of [JSON.stringify(publicJwk), pem, env.JWT_PUBLIC_KEYS]) {
      const token = await new SignJWT(claims(user.access_token))
        .setProtectedHeader({ alg: "HS256", kid: "test-key", typ: "JWT" })
        .sign(new TextEncoder().encode(secret));
      expectError(await profile(token), 401, "invalid_token");
    }
  });

  it("V9.1.3 a token signed by an unknown key is refused: unknown kid, the service's kid, or the key embedded in a jwk / jku / x5u header", async () => {
    const user = await register();
    const payload = claims(user.access_token);
    const stranger = await newKeyPair("attacker-key");
    const impostor = await newKeyPair("test-key");
    const forged = [
      await sign(payload, stranger.privateJwk),
      await sign(payload, impostor.privateJwk),
      await sign(payload, stranger.privateJwk, { jwk: stranger.publicJwk }),
      await sign(payload, impostor.privateJwk, { jwk: impostor.publicJwk }),
      await sign(payload, stranger.privateJwk, { jku: "https://evil.example/jwks.json" }),
      await sign(payload, stranger.privateJwk, { x5u: "https://evil.example/cert.pem" }),
    ];
    for (const token of forged) expectError(await profile(token), 401, "invalid_token");
    // Control: the same claims signed with the service's own key are accepted.
    expect((await profile(await sign(payload, serviceKey()))).status).toBe(200);
  });

  it("V9.1.3 a token naming another issuer is refused, even when signed with the service's key", async () => {
    const user = await register();
    const token = await sign(
      { ...claims(user.access_token), iss: "https://evil.example" },
      serviceKey(),
    );
    expectError(await profile(token), 401, "invalid_token");
  });

  it("V9.2.1 an expired token is refused (token_expired), and so is one that is not yet valid (nbf)", async () => {
    const user = await register();
    const now = Math.floor(Date.now() / 1000);
    const payload = claims(user.access_token);
    const expired = await sign({ ...payload, iat: now - 3600, exp: now - 60 }, serviceKey());
    expectError(await profile(expired), 401, "token_expired");
    const early = await sign({ ...payload, nbf: now + 3600 }, serviceKey());
    expectError(await profile(early), 401, "invalid_token");

    // The genuine token, once its 15 minutes have passed.
    vi.useFakeTimers({ toFake: ["Date"] });
    vi.setSystemTime(Date.now() + 16 * 60 * 1000);
    expectError(await profile(user.access_token), 401, "token_expired");
  });

  it("V9.2.2 a refresh token is not accepted as an access token, nor a JWT of another token_type", async () => {
    const user = await register();
    expectError(await profile(user.refresh_token), 401, "invalid_token");
    for (const tokenType of ["refresh", "id", undefined]) {
      const token = await sign(
        { ...claims(user.access_token), token_type: tokenType },
        serviceKey(),
      );
      expectError(await profile(token), 401, "invalid_token");
    }
  });

  it("V9.2.2 an access token is not accepted as a refresh token, and the session is left untouched", async () => {
    const user = await register();
    const before = await sessionsFor(user.id);
    expectError(await refresh(user.access_token), 401, "invalid_token");
    expect(await sessionsFor(user.id)).toEqual(before);
    expect(await auditFor(user.id, "refresh_token_reused")).toHaveLength(0);
    expect((await refresh(user.refresh_token)).status).toBe(200);
  });

  it("V9.2.3 a token for another audience is refused, even when signed with the service's key", async () => {
    const user = await register();
    for (const aud of ["another-service", ["another-service"], "USER-SERVICE"]) {
      const token = await sign({ ...claims(user.access_token), aud }, serviceKey());
      expectError(await profile(token), 401, "invalid_token");
    }
  });
});

describe("V10.4.5 refresh token rotation", () => {
  it("V10.4.5 refresh token replay: a rotated refresh token is refused and revokes the whole session (new refresh and access tokens too)", async () => {
    const user = await register();
    const rotated = await refresh(user.refresh_token);
    expect(rotated.status).toBe(200);
    const next = rotated.body.data;
    const other = await secondSession(user);

    // Outside the grace window (0 s here), the old token is a replay.
    const replay = await refresh(user.refresh_token, { REFRESH_TOKEN_REUSE_GRACE_SECONDS: "0" });
    expectError(replay, 401, "refresh_token_reused");
    expect(replay.text).not.toContain("access_token");
    await expectSessionDead(next);
    expectError(await refresh(user.refresh_token), 401, "invalid_token");

    const sid = claims(user.access_token).sid;
    const session = (await sessionsFor(user.id)).find((s) => s.id === sid);
    expect(session?.revokedReason).toBe("refresh_token_reused");
    expect(await auditFor(user.id, "refresh_token_reused")).toHaveLength(1);
    expect(await outboxFor(user.id, "security.refresh_token_reused")).toHaveLength(1);
    // The user's other device keeps its session.
    expect((await profile(other.access_token)).status).toBe(200);
  });
});

describe("V7.4 session termination", () => {
  it("V7.4.1 logout makes this session's access and refresh tokens unusable; the other device stays signed in", async () => {
    const user = await register();
    const other = await secondSession(user);
    const res = await send("POST", "/auth/logout/", { token: user.access_token });
    expect(res.status, res.text).toBe(200);

    await expectSessionDead(user);
    expectError(
      await send("POST", "/auth/logout/", { token: user.access_token }),
      401,
      "invalid_token",
    );
    const sid = claims(user.access_token).sid;
    const rows = await sessionsFor(user.id);
    expect(rows.find((s) => s.id === sid)?.revokedReason).toBe("logout");
    // The refused refresh minted nothing: still the same two sessions, one of them live.
    expect(rows).toHaveLength(2);
    expect(rows.filter((s) => s.revokedAt === null).map((s) => s.id)).toEqual([
      claims(other.access_token).sid,
    ]);
    expect((await profile(other.access_token)).status).toBe(200);
  });

  it("V7.4.3 a password change ends the user's other sessions (access and refresh tokens); the current one continues", async () => {
    const user = await register();
    const other = await secondSession(user);
    const res = await send("POST", "/users/change-password/", {
      token: user.access_token,
      body: { old_password: PASSWORD, new_password: "teal-Meadow-31" },
    });
    expect(res.status, res.text).toBe(200);

    await expectSessionDead(other);
    const otherRow = (await sessionsFor(user.id)).find(
      (s) => s.id === claims(other.access_token).sid,
    );
    expect(otherRow?.revokedReason).toBe("password_changed");
    expect((await profile(user.access_token)).status).toBe(200);
  });

  it("V7.4.3 a password reset ends every session of the user", async () => {
    const user = await register();
    const other = await secondSession(user);
    await send("POST", "/auth/password-reset/", { body: { email: user.email } });
    const token = await tokenFromMail(user.email, "user.password_reset_requested");
    const res = await send("POST", "/auth/password-reset/confirm/", {
      body: { token, password: "amber-Compass-88" },
    });
    expect(res.status, res.text).toBe(200);

    await expectSessionDead(user);
    await expectSessionDead(other);
    const rows = await sessionsFor(user.id);
    expect(rows.map((s) => s.revokedReason)).toEqual(["password_reset", "password_reset"]);
  });

  it("V7.4.2 admin deactivation ends every session of that user and refuses new logins", async () => {
    const boss = await adminUser();
    const user = await register();
    const other = await secondSession(user);
    const res = await send("PATCH", `/users/${user.id}/`, {
      token: boss.access_token,
      body: { is_active: false },
    });
    expect(res.status, res.text).toBe(200);

    await expectSessionDead(user);
    await expectSessionDead(other);
    const rows = await sessionsFor(user.id);
    expect(rows).toHaveLength(2);
    expect(rows.every((s) => s.revokedReason === "admin")).toBe(true);
    expectError(await login(user.email, PASSWORD), 401, "invalid_credentials");
    expect(await sessionsFor(user.id)).toHaveLength(2);
  });
});

describe("V7.5 session abuse", () => {
  it("V7.5.2 a user can list their sessions and terminate one, but not another user's session (404, and it stays usable)", async () => {
    const user = await register();
    const phone = await secondSession(user);
    const victim = await register();
    const victimSid = claims(victim.access_token).sid as string;

    const listed = await send<Envelope<{ id: string; current: boolean }[]>>(
      "GET",
      "/auth/sessions/",
      { token: user.access_token },
    );
    expect(listed.status).toBe(200);
    expect(listed.body.data.map((s) => s.id).sort()).toEqual(
      [claims(user.access_token).sid, claims(phone.access_token).sid].sort(),
    );
    expect(listed.text).not.toContain(victimSid);

    expectError(
      await send("DELETE", `/auth/sessions/${victimSid}/`, { token: user.access_token }),
      404,
      "not_found",
    );
    expect((await sessionsFor(victim.id))[0]?.revokedAt).toBeNull();
    expect(await auditFor(user.id, "session_revoked")).toHaveLength(0);
    expect((await profile(victim.access_token)).status).toBe(200);
    expect((await refresh(victim.refresh_token)).status).toBe(200);

    const phoneSid = claims(phone.access_token).sid as string;
    const revoked = await send("DELETE", `/auth/sessions/${phoneSid}/`, {
      token: user.access_token,
    });
    expect(revoked.status, revoked.text).toBe(200);
    await expectSessionDead(phone);
    expect((await profile(user.access_token)).status).toBe(200);
  });

  it("V7.5.1 changing the email requires the current password; without it (or with a wrong one) nothing changes", async () => {
    const user = await register();
    const before = await userRow(user.id);
    const takeover = uniqueEmail("attacker");
    for (const body of [
      { email: takeover },
      { email: takeover, current_password: "not-The-Password-1" },
    ]) {
      const res = await send("PATCH", "/users/me/", { token: user.access_token, body });
      expectError(res, 400, "validation_failed");
      expect(Object.keys((res.body as Envelope).details ?? {})).toEqual(["current_password"]);
    }
    expect(await userRow(user.id)).toEqual(before);
    expect(await userByEmail(takeover)).toHaveLength(0);
    expect(await outboxFor(user.id, "user.updated")).toHaveLength(0);
  });
});

describe("V6.4.3 password reset", () => {
  it("V6.4.3 the reset token works once: a second use is refused and the password set by the first stays", async () => {
    const user = await register();
    await send("POST", "/auth/password-reset/", { body: { email: user.email } });
    const token = await tokenFromMail(user.email, "user.password_reset_requested");
    const first = await send("POST", "/auth/password-reset/confirm/", {
      body: { token, password: "first-Choice-11" },
    });
    expect(first.status, first.text).toBe(200);
    const hashAfterFirst = (await userRow(user.id))?.passwordHash;

    const again = await send("POST", "/auth/password-reset/confirm/", {
      body: { token, password: "attacker-Choice-22" },
    });
    expectError(again, 400, "validation_failed");
    expect(Object.keys((again.body as Envelope).details ?? {})).toEqual(["token"]);
    expect((await userRow(user.id))?.passwordHash).toBe(hashAfterFirst);
    expect(await outboxFor(user.id, "user.password_changed")).toHaveLength(1);
    const stored = await db()
      .select()
      .from(oneTimeTokens)
      .where(and(eq(oneTimeTokens.userId, user.id), eq(oneTimeTokens.purpose, "password_reset")));
    expect(stored.map((t) => t.usedAt !== null)).toEqual([true]);
  });
});

describe("V8.2 authorization", () => {
  it("V8.2.2 another user's push device cannot be read, changed or deleted (404), and stays as it was", async () => {
    const attacker = await register();
    const owner = await register();
    const created = await send<Envelope<{ id: string }>>("POST", "/users/push-tokens/", {
      token: owner.access_token,
      body: { token: `owner-device-${owner.id}`, platform: "android", device_name: "Owner" },
    });
    expect(created.status).toBe(201);
    const path = `/users/push-tokens/${created.body.data.id}/`;
    const rowBefore = await db()
      .select()
      .from(pushTokens)
      .where(eq(pushTokens.id, created.body.data.id));

    const attempts: [string, Record<string, unknown> | undefined][] = [
      ["GET", undefined],
      ["PATCH", { is_active: false, device_name: "pwned" }],
      ["PUT", { token: `stolen-${attacker.id}`, platform: "web" }],
      ["DELETE", undefined],
    ];
    for (const [method, body] of attempts) {
      const res = await send(method, path, { token: attacker.access_token, body });
      expectError(res, 404, "not_found");
      expect(res.text).not.toContain("Owner");
    }
    expect(
      await db().select().from(pushTokens).where(eq(pushTokens.id, created.body.data.id)),
    ).toEqual(rowBefore);
    expect(await outboxFor(owner.id, "push_token.removed")).toHaveLength(0);
  });

  it("V8.2.2 another user's account, audit log and notifications are refused (403) without leaking them", async () => {
    const attacker = await register();
    const victim = await register({ name: "Victim Name" });
    for (const path of [
      `/users/${victim.id}/`,
      `/users/${victim.id}/audit/`,
      `/users/${victim.id}/notifications/`,
    ]) {
      const res = await send("GET", path, { token: attacker.access_token });
      expectError(res, 403, "forbidden");
      expect(res.text).not.toContain(victim.email);
      expect(res.text).not.toContain("Victim Name");
    }
  });

  it("V8.2.1 admin and service functions are refused to a user (403): the target account does not change", async () => {
    const attacker = await register();
    const victim = await register();
    const before = await userRow(victim.id);
    for (const [id, body] of [
      [victim.id, { is_active: false }],
      [victim.id, { role: "admin" }],
      [attacker.id, { role: "admin" }],
    ] as const) {
      expectError(
        await send("PATCH", `/users/${id}/`, { token: attacker.access_token, body }),
        403,
        "forbidden",
      );
    }
    expectError(await send("GET", "/users/", { token: attacker.access_token }), 403, "forbidden");
    const lookup = await send("GET", `/users/by-email/?email=${encodeURIComponent(victim.email)}`, {
      token: attacker.access_token,
    });
    expectError(lookup, 403, "forbidden");
    expect(lookup.text).not.toContain(victim.id);

    expect(await userRow(victim.id)).toEqual(before);
    expect((await userRow(attacker.id))?.role).toBe("user");
    expect((await profile(victim.access_token)).status).toBe(200);
  });
});

describe("V15.3 defensive coding", () => {
  it("V15.3.3 mass assignment: registration ignores role, is_active, email_verified, id and other internal fields", async () => {
    const email = uniqueEmail("mass");
    const chosenId = crypto.randomUUID();
    const res = await send<Envelope<TokenPair>>("POST", "/users/", {
      body: {
        email,
        password: PASSWORD,
        role: "admin",
        is_active: false,
        email_verified: true,
        email_verified_at: new Date().toISOString(),
        id: chosenId,
        user_id: chosenId,
        password_hash: "$argon2id$v=19$m=8,t=1,p=1$c2FsdHNhbHQ$aGFzaGhhc2g",
        created_at: "2000-01-01T00:00:00.000Z",
        deleted_at: null,
        last_login_at: "2000-01-01T00:00:00.000Z",
      },
    });
    expect(res.status, res.text).toBe(201);
    const created = res.body.data.user;
    expect(created).toMatchObject({
      role: "user",
      is_active: true,
      email_verified: false,
      last_login_at: null,
    });
    expect(created.id).not.toBe(chosenId);
    expect(claims(res.body.data.access_token).role).toBe("user");

    const [row] = await userByEmail(email);
    expect(row).toMatchObject({ role: "user", isActive: true, emailVerifiedAt: null });
    expect(row?.passwordHash.split("$")[3]).toBe(configuredArgon2());
    expect(row?.createdAt.getUTCFullYear()).toBeGreaterThan(2000);
    expect(await userRow(chosenId)).toBeUndefined();
  });

  it("V15.3.3 mass assignment: PATCH and PUT /users/me/ cannot set role, is_active, email_verified or id", async () => {
    const user = await register();
    const before = await userRow(user.id);
    const forbidden = {
      role: "admin",
      is_active: false,
      email_verified: true,
      id: crypto.randomUUID(),
      deleted_at: new Date().toISOString(),
    };
    for (const [method, body] of [
      ["PATCH", forbidden],
      ["PUT", { ...forbidden, email: user.email, name: "" }],
    ] as const) {
      const res = await send<Envelope<TokenPair["user"]>>(method, "/users/me/", {
        token: user.access_token,
        body,
      });
      expect(res.status, res.text).toBe(200);
      expect(res.body.data).toMatchObject({
        id: user.id,
        role: "user",
        is_active: true,
        email_verified: false,
      });
    }
    const after = await userRow(user.id);
    expect(after).toMatchObject({
      role: before?.role,
      isActive: true,
      emailVerifiedAt: null,
      deletedAt: null,
    });
    expect(await sessionsFor(user.id)).toHaveLength(1);
    expect((await profile(user.access_token)).status).toBe(200);
  });

  it("V15.3.4 trusted client IP: rate limits and audit use CF-Connecting-IP only, never a client's X-Forwarded-For, X-Real-IP or True-Client-IP", async () => {
    const vars = { RATE_LIMIT_LOGIN_IP: "2/300" };
    const ip = newIp();
    const user = await register();
    const spoofed = (n: number) => ({
      "X-Forwarded-For": `192.0.2.${200 + n}`,
      "X-Real-IP": `192.0.2.${210 + n}`,
      "True-Client-IP": `192.0.2.${220 + n}`,
    });
    expect((await login(user.email, PASSWORD, { vars, ip, headers: spoofed(1) })).status).toBe(200);
    expect((await login(user.email, PASSWORD, { vars, ip, headers: spoofed(2) })).status).toBe(200);
    expectLimited(await login(user.email, PASSWORD, { vars, ip, headers: spoofed(3) }), "login-ip");

    // The same spoofed headers from another real address are not limited by the first one's count.
    expect((await login(user.email, PASSWORD, { vars, headers: spoofed(1) })).status).toBe(200);
    const audit = await auditFor(user.id, "login_success");
    expect(audit.filter((a) => a.ip === ip)).toHaveLength(2);
    expect(audit.some((a) => a.ip?.startsWith("192.0.2."))).toBe(false);
  });

  it("V15.3.6 prototype pollution: a __proto__ key anywhere in a body is refused with 400 naming its path, and nothing is written", async () => {
    const email = uniqueEmail("proto");
    const body = `{"email":"${email}","password":"${PASSWORD}","__proto__":{"role":"admin","is_active":false},"preferences":{"__proto__":{"push":false},"email":true}}`;
    const res = await send("POST", "/users/", {
      body,
      headers: { "Content-Type": "application/json" },
    });
    expectError(res, 400, "validation_failed");
    expect(Object.keys((res.body as Envelope).details ?? {}).sort()).toEqual([
      "__proto__",
      "preferences.__proto__",
    ]);
    expect(await userByEmail(email)).toHaveLength(0);

    const user = await register();
    const before = await userRow(user.id);
    const patch = await send("PATCH", "/users/me/", {
      token: user.access_token,
      body: '{"name":"Polluter","__proto__":{"role":"admin","is_active":false}}',
      headers: { "Content-Type": "application/json" },
    });
    expectError(patch, 400, "validation_failed");
    expect(await userRow(user.id)).toEqual(before);
    expect(({} as Record<string, unknown>).role).toBeUndefined();
  });

  it("V15.3.6 prototype pollution: constructor.prototype in a body is plain data that no route honours", async () => {
    const email = uniqueEmail("proto");
    const body = `{"email":"${email}","password":"${PASSWORD}","constructor":{"prototype":{"role":"admin","polluted":true}},"prototype":{"role":"admin"},"preferences":{"constructor":{"prototype":{"push":false}},"email":true}}`;
    const res = await send<Envelope<TokenPair>>("POST", "/users/", {
      body,
      headers: { "Content-Type": "application/json" },
    });
    expect(res.status, res.text).toBe(201);
    expect(res.body.data.user).toMatchObject({
      role: "user",
      is_active: true,
      preferences: { email: true, push: true },
    });
    expect((await userByEmail(email))[0]?.role).toBe("user");
    const probe = {} as Record<string, unknown>;
    expect(probe.role).toBeUndefined();
    expect(probe.polluted).toBeUndefined();
    expect(Object.prototype).not.toHaveProperty("polluted");
  });
});

describe("V3.4 browser security headers", () => {
  /** The second of two requests from one client over a limit of one. */
  async function overLimit(vars: SendOptions["vars"], method: string, path: string, body?: object) {
    const ip = newIp();
    const attempt = () =>
      send(method, path, { vars, ip, body: body as Record<string, unknown> | undefined });
    await attempt();
    const res = await attempt();
    expect(res.status).toBe(429);
    return res;
  }

  /** Responses of several kinds: tokens, personal data, errors (4xx, 429, 500), static JSON. */
  async function sampleResponses() {
    vi.spyOn(console, "error").mockImplementation(() => {});
    const user = await register();
    return {
      login: await login(user.email, PASSWORD),
      profile: await profile(user.access_token),
      unauthorized: await send("GET", "/users/me/"),
      notFound: await send("GET", "/no-such-route/"),
      tooLarge: await send("POST", "/auth/login/", {
        body: { email: user.email, password: "x".repeat(70 * 1024) },
      }),
      globalLimit: await overLimit(globalCeiling(1), "GET", "/health/"),
      routeLimit: await overLimit({ RATE_LIMIT_LOGIN_IP: "1/60" }, "POST", "/auth/login/", {
        email: uniqueEmail("limited"),
        password: "wrong-Guess-1",
      }),
      jwks: await send("GET", "http://localhost/.well-known/jwks.json"),
      internalError: await send("GET", "/users/me/", {
        vars: { DB: env.EMPTY_DB },
        token: user.access_token,
      }),
      misconfigured: await send("GET", "/health/", { vars: { JWT_PRIVATE_KEY: "not-json" } }),
    };
  }

  it("V3.4.1 HSTS: every response has Strict-Transport-Security with max-age of at least a year and includeSubDomains", async () => {
    for (const [name, res] of Object.entries(await sampleResponses())) {
      const hsts = res.headers.get("Strict-Transport-Security") ?? "";
      const maxAge = Number(/max-age=(\d+)/i.exec(hsts)?.[1] ?? 0);
      expect(maxAge, name).toBeGreaterThanOrEqual(365 * 24 * 60 * 60);
      expect(hsts, name).toMatch(/;\s*includeSubDomains/i);
    }
  });

  it("V3.4.4 every response has X-Content-Type-Options: nosniff", async () => {
    for (const [name, res] of Object.entries(await sampleResponses())) {
      expect(res.headers.get("X-Content-Type-Options"), name).toBe("nosniff");
    }
  });

  it("V3.4.6 every response has a CSP with frame-ancestors 'none'", async () => {
    for (const [name, res] of Object.entries(await sampleResponses())) {
      const csp = res.headers.get("Content-Security-Policy") ?? "";
      expect(csp, name).toMatch(/(^|;)\s*frame-ancestors 'none'\s*(;|$)/);
    }
  });

  it("V3.4.2 CORS: an origin not in CORS_ORIGINS gets no Access-Control-Allow-Origin, on preflight or on the request itself", async () => {
    const vars = { CORS_ORIGINS: "https://app.example.com" };
    const user = await register();
    const preflight = (origin: string) =>
      send("OPTIONS", "/users/me/", {
        vars,
        headers: {
          Origin: origin,
          "Access-Control-Request-Method": "GET",
          "Access-Control-Request-Headers": "authorization",
        },
      });
    const actual = (origin: string) =>
      send("GET", "/users/me/", { vars, token: user.access_token, headers: { Origin: origin } });

    for (const origin of [
      "https://evil.example",
      "https://app.example.com.evil.example",
      "https://evilapp.example.com",
      "http://app.example.com",
      "null",
      // The local defaults of wrangler.toml are not allowed once CORS_ORIGINS is set.
      "http://localhost:3000",
    ]) {
      for (const res of [await preflight(origin), await actual(origin)]) {
        expect(res.headers.get("Access-Control-Allow-Origin"), origin).toBeNull();
        expect(res.headers.get("Access-Control-Allow-Credentials"), origin).toBeNull();
      }
    }
    // Control: the configured origin is allowed, echoed exactly (never "*").
    for (const res of [
      await preflight("https://app.example.com"),
      await actual("https://app.example.com"),
    ]) {
      expect(res.headers.get("Access-Control-Allow-Origin")).toBe("https://app.example.com");
      expect(res.headers.get("Vary")).toMatch(/origin/i);
    }
  });
});

describe("V14 data protection", () => {
  it("V14.3.2 responses carrying tokens or personal data are Cache-Control: no-store, replays of stored responses too", async () => {
    const email = uniqueEmail("cache");
    const registered = await send<Envelope<TokenPair>>("POST", "/users/", {
      body: { email, password: PASSWORD },
    });
    const key = { "Idempotency-Key": crypto.randomUUID() };
    const ip = newIp();
    const loggedIn = await login(email, PASSWORD, { ip, headers: key });
    const replayed = await login(email, PASSWORD, { ip, headers: key });
    expect(replayed.headers.get("Idempotent-Replayed")).toBe("true");
    const tokens = registered.body.data;
    const responses = {
      registered,
      loggedIn,
      replayed,
      refreshed: await refresh(tokens.refresh_token),
      profile: await profile(tokens.access_token),
      sessions: await send("GET", "/auth/sessions/", { token: tokens.access_token }),
      lookup: await send("GET", `/users/by-email/?email=${encodeURIComponent(email)}`, {
        headers: SERVICE,
      }),
    };
    for (const [name, res] of Object.entries(responses)) {
      expect(res.status, `${name}: ${res.text}`).toBeLessThan(300);
      expect(res.headers.get("Cache-Control"), name).toMatch(/(^|,\s*)no-store(\s*,|$)/);
    }
  });

  it("V14.2.1 secrets are not taken from the URL: reset and verification tokens, refresh and access tokens in a query string are ignored and stay unused", async () => {
    const user = await register();
    const verifyToken = await tokenFromMail(user.email, "user.email_verification_requested");
    await send("POST", "/auth/password-reset/", { body: { email: user.email } });
    const resetToken = await tokenFromMail(user.email, "user.password_reset_requested");
    const hashBefore = (await userRow(user.id))?.passwordHash;
    const q = (token: string) => `?token=${encodeURIComponent(token)}`;

    // Email verification: not by GET with the token in the URL, nor by POST with it in the query.
    expectError(
      await send("GET", `/auth/verify-email/${q(verifyToken)}`),
      405,
      "method_not_allowed",
    );
    expectError(
      await send("POST", `/auth/verify-email/${q(verifyToken)}`, { body: {} }),
      400,
      "validation_failed",
    );
    expect((await userRow(user.id))?.emailVerifiedAt).toBeNull();

    // Password reset: the token in the query string does not authorise the change.
    const viaQuery = await send("POST", `/auth/password-reset/confirm/${q(resetToken)}`, {
      body: { password: "query-Stolen-77" },
    });
    expectError(viaQuery, 400, "validation_failed");
    expect(Object.keys((viaQuery.body as Envelope).details ?? {})).toEqual(["token"]);
    expect((await userRow(user.id))?.passwordHash).toBe(hashBefore);

    // Refresh and access tokens in the query are not credentials.
    expectError(
      await send("POST", `/auth/refresh/?refresh_token=${user.refresh_token}`, { body: {} }),
      400,
      "validation_failed",
    );
    for (const name of ["access_token", "token"]) {
      expectError(
        await send("GET", `/users/me/?${name}=${user.access_token}`),
        401,
        "authentication_required",
      );
    }

    // Controls: each token was live and works from the body (so nothing above consumed it).
    expect((await refresh(user.refresh_token)).status).toBe(200);
    expect(
      (await send("POST", "/auth/verify-email/", { body: { token: verifyToken } })).status,
    ).toBe(200);
    const viaBody = await send("POST", "/auth/password-reset/confirm/", {
      body: { token: resetToken, password: "body-Chosen-88" },
    });
    expect(viaBody.status, viaBody.text).toBe(200);
  });
});

describe("input limits", () => {
  it("V15.2.2 an oversized body gets 413 before any work: no account written, no password hashed or verified", async () => {
    const hash = vi.spyOn(argon2id, "hash");
    const verify = vi.spyOn(argon2id, "verify");
    const email = uniqueEmail("huge");
    const big = "x".repeat(70 * 1024);
    expectError(
      await send("POST", "/users/", { body: { email, password: PASSWORD, name: big } }),
      413,
      "payload_too_large",
    );
    expectError(
      await send("POST", "/auth/login/", { body: { email, password: big } }),
      413,
      "payload_too_large",
    );
    expect(hash).not.toHaveBeenCalled();
    expect(verify).not.toHaveBeenCalled();
    expect(await userByEmail(email)).toHaveLength(0);
  });

  it("V15.2.2 an over-long password is refused before hashing (login 1024, registration 128 characters)", async () => {
    const user = await register();
    const hash = vi.spyOn(argon2id, "hash");
    const verify = vi.spyOn(argon2id, "verify");
    const login1025 = await login(user.email, "p".repeat(1025));
    expectError(login1025, 400, "validation_failed");
    expect(Object.keys((login1025.body as Envelope).details ?? {})).toEqual(["password"]);
    const email = uniqueEmail("long");
    const register129 = await send("POST", "/users/", {
      body: { email, password: `Aa1-${"p".repeat(125)}` },
    });
    expectError(register129, 400, "validation_failed");
    expect(Object.keys((register129.body as Envelope).details ?? {})).toEqual(["password"]);
    expect(hash).not.toHaveBeenCalled();
    expect(verify).not.toHaveBeenCalled();
    expect(await userByEmail(email)).toHaveLength(0);
    expect(await auditFor(user.id, "login_failure")).toHaveLength(0);
  });

  it("V2.2.1 a write that is not JSON gets 415 and writes nothing", async () => {
    const email = uniqueEmail("form");
    for (const contentType of [
      "application/x-www-form-urlencoded",
      "text/plain",
      "multipart/form-data",
    ]) {
      expectError(
        await send("POST", "/users/", {
          body: `email=${encodeURIComponent(email)}&password=${PASSWORD}`,
          headers: { "Content-Type": contentType },
        }),
        415,
        "unsupported_media_type",
      );
    }
    expect(await userByEmail(email)).toHaveLength(0);
  });

  it("V2.2.1 malformed JSON gets 400 invalid_json and writes nothing", async () => {
    const email = uniqueEmail("broken");
    for (const body of [
      `{"email":"${email}","password":"${PASSWORD}"`,
      `{"email":"${email}","password":"${PASSWORD}",}`,
      `{'email':'${email}'}`,
    ]) {
      expectError(
        await send("POST", "/users/", { body, headers: { "Content-Type": "application/json" } }),
        400,
        "invalid_json",
      );
    }
    expect(await userByEmail(email)).toHaveLength(0);
  });

  it("V2.2.1 over-long fields get 400 naming the field, and nothing is written", async () => {
    const cases: [string, Record<string, unknown>][] = [
      ["name", { name: "n".repeat(151) }],
      ["username", { username: "u".repeat(151) }],
      ["push_token", { push_token: "t".repeat(4097) }],
      ["password", { password: `Aa1-${"p".repeat(125)}` }],
    ];
    for (const [field, extra] of cases) {
      const email = uniqueEmail("long");
      const res = await send("POST", "/users/", { body: { email, password: PASSWORD, ...extra } });
      expectError(res, 400, "validation_failed");
      expect(Object.keys((res.body as Envelope).details ?? {}), field).toEqual([field]);
      expect(await userByEmail(email)).toHaveLength(0);
    }
    const longEmail = `${"e".repeat(250)}@example.com`;
    const res = await send("POST", "/users/", { body: { email: longEmail, password: PASSWORD } });
    expectError(res, 400, "validation_failed");
    expect(Object.keys((res.body as Envelope).details ?? {})).toEqual(["email"]);
    expect(await userByEmail(longEmail)).toHaveLength(0);
  });
});

describe("V16.5 error handling", () => {
  it("V16.5.1 an unexpected error (a database without tables) answers a generic 500 internal_error with no stack, SQL or internals", async () => {
    vi.spyOn(console, "error").mockImplementation(() => {});
    const user = await register();
    const broken = { DB: env.EMPTY_DB };
    const responses = [
      await send("GET", "/users/me/", { vars: broken, token: user.access_token }),
      await send("POST", "/auth/login/", {
        vars: broken,
        body: { email: user.email, password: PASSWORD },
      }),
    ];
    for (const res of responses) {
      expectError(res, 500, "internal_error");
      expect(Object.keys(res.body as Envelope).sort()).toEqual(["error", "message", "success"]);
      expect(res.text).not.toMatch(
        /no such table|sqlite|d1_|select |insert |from "|users|stack|\bat |\.ts\b|\.js\b|error:/i,
      );
      expect(res.text).not.toContain(user.email);
      expect(res.headers.get("X-Content-Type-Options")).toBe("nosniff");
    }
  });
});
