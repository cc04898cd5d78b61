/**
 * The lockout (DESIGN §7, README "Lockout"): password attempts are counted per account and client
 * network, under a per-account ceiling, and a device that signed in to the account before is
 * counted on its own — so a stranger cannot lock anyone out, and re-authentication (change
 * password, email change) spends from the same budget as login. Each test performs the attack and
 * checks it leaves nothing behind: no token, no changed password or email, no session.
 */
import { SignJWT } from "jose";
import { afterEach, describe, expect, it, vi } from "vitest";
import { type ApiResponse, callWith, type Envelope, expectError, request } from "./helpers/api";
import {
  auditFor,
  PASSWORD,
  register,
  sessionsFor,
  type TokenPair,
  uniqueEmail,
  userRow,
} from "./helpers/users";

afterEach(() => {
  vi.useRealTimers();
});

let next = 1000;
/** A fresh client network for each use. */
function newIp() {
  next += 1;
  return `198.18.${Math.floor(next / 250)}.${next % 250}`;
}

const limits = {
  RATE_LIMIT_LOGIN_ACCOUNT: "3/300",
  RATE_LIMIT_LOGIN_ACCOUNT_CEILING: "6/3600",
  RATE_LIMIT_LOGIN_DEVICE: "3/300",
};

type LoginResult = TokenPair & { device_token: string };

function login(
  email: string,
  password: string,
  ip: string,
  extra: { device_token?: string; cookie?: string } = {},
): Promise<ApiResponse<Envelope<LoginResult>>> {
  const { cookie, ...body } = extra;
  return callWith(
    limits,
    request("POST", "/auth/login/", {
      body: { email, password, ...body },
      headers: { "CF-Connecting-IP": ip, ...(cookie ? { Cookie: cookie } : {}) },
    }),
  );
}

function limitedBy(res: ApiResponse, policy: string) {
  expectError(res, 429, "rate_limited");
  expect(Number(res.headers.get("Retry-After"))).toBeGreaterThan(0);
  expect(res.headers.get("RateLimit")).toMatch(new RegExp(`(^|, )"${policy}";r=0;t=[1-9]\\d*`));
  expect(res.text).not.toContain("access_token");
}

describe("failed logins from one network", () => {
  it("lock that network out of that account, and nothing else", async () => {
    const user = await register();
    const attacker = newIp();
    for (let i = 0; i < 3; i++) {
      expectError(
        await login(user.email, `wrong-${i}-Guess`, attacker),
        401,
        "invalid_credentials",
      );
    }
    // Even the right password is refused from that network, and no session is opened…
    limitedBy(await login(user.email, PASSWORD, attacker), "login-account");
    expect(await sessionsFor(user.id)).toHaveLength(1); // only the registration's
    expect((await userRow(user.id))?.lastLoginAt).toBeNull();
    // …while the owner, from their own network, is not locked out,
    expect((await login(user.email, PASSWORD, newIp())).status).toBe(200);
    // and the attacker's network may still sign in to other accounts.
    const other = await register();
    expect((await login(other.email, PASSWORD, attacker)).status).toBe(200);
  });

  it("cannot be outrun by guesses sent in parallel", async () => {
    const user = await register();
    const attacker = newIp();
    const answers = await Promise.all(
      Array.from({ length: 12 }, (_, i) => login(user.email, `parallel-${i}-guess`, attacker)),
    );
    // Only three guesses get an answer about the password; the rest are refused unchecked.
    expect(answers.filter((r) => r.status === 401)).toHaveLength(3);
    expect(answers.filter((r) => r.status === 429)).toHaveLength(9);
    expect(await auditFor(user.id, "login_failure")).toHaveLength(3);
  });

  it("are forgotten after a successful login from that network", async () => {
    const user = await register();
    const ip = newIp();
    for (const guess of ["wrong-a-pass", "wrong-b-pass"]) await login(user.email, guess, ip);
    expect((await login(user.email, PASSWORD, ip)).status).toBe(200);
    for (const guess of ["wrong-c-pass", "wrong-d-pass"]) await login(user.email, guess, ip);
    expect((await login(user.email, PASSWORD, ip)).status).toBe(200);
  });

  it("lock an unknown email exactly like a known one, so the lock reveals nothing", async () => {
    const known = await register();
    const unknown = uniqueEmail("ghost");
    const ip = newIp();
    const statuses = async (email: string) => {
      const out: number[] = [];
      for (let i = 0; i < 4; i++) out.push((await login(email, `wrong-${i}-pass`, ip)).status);
      return out;
    };
    const knownRun = await statuses(known.email);
    expect(knownRun).toEqual([401, 401, 401, 429]);
    expect(await statuses(unknown)).toEqual(knownRun);
  });

  it("unlock once the window passes", async () => {
    const user = await register();
    const ip = newIp();
    vi.useFakeTimers({ toFake: ["Date"] });
    const start = Date.now();
    for (let i = 0; i < 3; i++) await login(user.email, `wrong-${i}-pass`, ip);
    limitedBy(await login(user.email, PASSWORD, ip), "login-account");
    vi.setSystemTime(start + 301_000);
    expect((await login(user.email, PASSWORD, ip)).status).toBe(200);
  });
});

describe("guessing spread over many networks", () => {
  it("is slowed by the per-account ceiling, which a refused attempt does not use up", async () => {
    const user = await register();
    // One network past its own limit: its refused attempts must not count against the ceiling.
    const noisy = newIp();
    for (let i = 0; i < 8; i++) await login(user.email, `noisy-${i}-guess`, noisy);
    // Three more networks, one guess each, reach the ceiling of 6 (3 + 1 + 1 + 1).
    for (let i = 0; i < 3; i++) {
      expectError(
        await login(user.email, `spread-${i}-guess`, newIp()),
        401,
        "invalid_credentials",
      );
    }
    limitedBy(await login(user.email, "one-more-guess", newIp()), "login-ceiling");
    // An owner on a new device meets the ceiling too (the ceiling is what slows a botnet)…
    limitedBy(await login(user.email, PASSWORD, newIp()), "login-ceiling");
    expect(await sessionsFor(user.id)).toHaveLength(1);
  });

  it("is not helped by the owner's own logins: the right password refunds its attempt", async () => {
    const user = await register();
    const ip = newIp();
    for (let i = 0; i < 10; i++) expect((await login(user.email, PASSWORD, ip)).status).toBe(200);
  });
});

describe("a device that signed in before", () => {
  /** The owner signs in once from their device, then strangers lock everything they can. */
  async function lockedOutByStrangers() {
    const user = await register();
    const home = newIp();
    const first = await login(user.email, PASSWORD, home);
    expect(first.status).toBe(200);
    const proof = first.body.data.device_token;
    const cookie = first.headers.get("Set-Cookie") ?? "";
    // Strangers: on the owner's own network (a shared NAT) and on many others.
    for (let i = 0; i < 4; i++) await login(user.email, `nat-${i}-guess`, home);
    for (let i = 0; i < 8; i++) await login(user.email, `bot-${i}-guess`, newIp());
    limitedBy(await login(user.email, PASSWORD, home), "login-account");
    limitedBy(await login(user.email, PASSWORD, newIp()), "login-ceiling");
    return { user, home, proof, cookie };
  }

  it("is never locked out by strangers: its proof (body or cookie) still signs in", async () => {
    const { user, home, proof, cookie } = await lockedOutByStrangers();
    expect(cookie).toMatch(
      /^__Host-login-device=[^;]+; Max-Age=\d+; Path=\/; HttpOnly; Secure; SameSite=Strict$/,
    );
    const withProof = await login(user.email, PASSWORD, home, { device_token: proof });
    expect(withProof.status, withProof.text).toBe(200);
    // Travelling, from a network it never used, with the browser's cookie.
    const withCookie = await login(user.email, PASSWORD, newIp(), {
      cookie: cookie.split(";")[0] ?? "",
    });
    expect(withCookie.status, withCookie.text).toBe(200);
  });

  it("has a budget of its own: a stolen proof buys only a few guesses", async () => {
    const user = await register();
    const first = await login(user.email, PASSWORD, newIp());
    const proof = first.body.data.device_token;
    for (let i = 0; i < 3; i++) {
      expectError(
        await login(user.email, `thief-${i}-guess`, newIp(), { device_token: proof }),
        401,
        "invalid_credentials",
      );
    }
    limitedBy(await login(user.email, PASSWORD, newIp(), { device_token: proof }), "login-device");
  });

  it("proves nothing for another account, nor when forged or altered", async () => {
    const { user, home } = await lockedOutByStrangers();
    const other = await register();
    const otherProof = (await login(other.email, PASSWORD, newIp())).body.data.device_token;
    limitedBy(
      await login(user.email, PASSWORD, home, { device_token: otherProof }),
      "login-account",
    );
    // A token signed with a key of the attacker's own, and the real one with its payload swapped.
    const { privateKey } = (await crypto.subtle.generateKey(
      { name: "ECDSA", namedCurve: "P-256" },
      true,
      ["sign", "verify"],
    )) as CryptoKeyPair;
    const [header = "", , signature = ""] = otherProof.split(".");
    // Everything right (issuer, audience, type, this user's id) but the key.
    const claims = JSON.parse(
      atob((otherProof.split(".")[1] ?? "").replace(/-/g, "+").replace(/_/g, "/")),
    ) as Record<string, unknown>;
    const forged = await new SignJWT({ ...claims, uid: user.id })
      .setProtectedHeader({ alg: "ES256", kid: "test-key", typ: "login-device+jwt" })
      .setJti(crypto.randomUUID())
      .setIssuedAt()
      .setExpirationTime("1d")
      .sign(privateKey);
    const swapped = `${header}.${forged.split(".")[1]}.${signature}`;
    for (const device_token of [forged, swapped, "not-a-token", `${otherProof}x`]) {
      limitedBy(await login(user.email, PASSWORD, home, { device_token }), "login-account");
    }
    // An access token is no device proof either.
    limitedBy(
      await login(user.email, PASSWORD, home, { device_token: user.access_token }),
      "login-account",
    );
    expect(await sessionsFor(user.id)).toHaveLength(2); // registration and the first login
  });

  it("is renewed by each login from it, not multiplied", async () => {
    const user = await register();
    const first = (await login(user.email, PASSWORD, newIp())).body.data.device_token;
    const again = (await login(user.email, PASSWORD, newIp(), { device_token: first })).body.data
      .device_token;
    const jti = (token: string) =>
      (
        JSON.parse(atob((token.split(".")[1] ?? "").replace(/-/g, "+").replace(/_/g, "/"))) as {
          jti: string;
        }
      ).jti;
    expect(jti(again)).toBe(jti(first));
    expect(again).not.toBe(first);
  });

  it("ends with a password change or reset: knowing the old password buys no budget", async () => {
    const { user, home, proof } = await lockedOutByStrangers();
    const changed = await callWith(
      {},
      request("POST", "/users/change-password/", {
        token: (await login(user.email, PASSWORD, newIp(), { device_token: proof })).body.data
          .access_token,
        body: { old_password: PASSWORD, new_password: "brand-New-Secret-9" },
      }),
    );
    expect(changed.status, changed.text).toBe(200);
    // The old proof is a stranger's now: the home network is still locked.
    limitedBy(
      await login(user.email, "brand-New-Secret-9", home, { device_token: proof }),
      "login-account",
    );
  });

  it("is no bearer token", async () => {
    const user = await register();
    const proof = (await login(user.email, PASSWORD, newIp())).body.data.device_token;
    const res = await callWith({}, request("GET", "/users/me/", { token: proof }));
    expectError(res, 401, "invalid_token");
  });

  it("expires after 180 days", async () => {
    const { user, home, proof } = await lockedOutByStrangers();
    vi.useFakeTimers({ toFake: ["Date"] });
    vi.setSystemTime(Date.now() + 181 * 24 * 3600 * 1000);
    // By then the strangers' counts have passed too; lock the home network again.
    for (let i = 0; i < 3; i++) await login(user.email, `late-${i}-guess`, home);
    limitedBy(await login(user.email, PASSWORD, home, { device_token: proof }), "login-account");
  });
});

describe("re-authentication", () => {
  function asUser(user: { access_token: string }, ip: string) {
    return (method: string, path: string, body: Record<string, unknown>) =>
      callWith(
        limits,
        request(method, path, {
          token: user.access_token,
          body,
          headers: { "CF-Connecting-IP": ip },
        }),
      );
  }

  it("change password: wrong old passwords are counted, audited, then 429 — even the right one", async () => {
    const user = await register();
    const ip = newIp();
    const send = asUser(user, ip);
    const before = (await userRow(user.id))?.passwordHash;
    for (let i = 0; i < 3; i++) {
      const res = await send("POST", "/users/change-password/", {
        old_password: `guess-${i}-Pass`,
        new_password: "attacker-Chosen-77",
      });
      expectError(res, 400, "validation_failed");
    }
    const res = await send("POST", "/users/change-password/", {
      old_password: PASSWORD,
      new_password: "attacker-Chosen-77",
    });
    limitedBy(res, "login-account");
    expect((await userRow(user.id))?.passwordHash).toBe(before);
    const failures = await auditFor(user.id, "reauthentication_failure");
    expect(failures).toHaveLength(3);
    expect(failures[0]?.metadata).toEqual({ purpose: "password_change" });
  });

  it("email change: wrong current passwords are counted and audited; the email stays", async () => {
    const user = await register();
    const send = asUser(user, newIp());
    for (let i = 0; i < 3; i++) {
      const res = await send("PATCH", "/users/profile/", {
        email: uniqueEmail("takeover"),
        current_password: `guess-${i}-Pass`,
      });
      expectError(res, 400, "validation_failed");
    }
    limitedBy(
      await send("PATCH", "/users/profile/", {
        email: uniqueEmail("takeover"),
        current_password: PASSWORD,
      }),
      "login-account",
    );
    expect((await userRow(user.id))?.email).toBe(user.email);
    const failures = await auditFor(user.id, "reauthentication_failure");
    expect(failures.map((f) => f.metadata)).toEqual(
      Array.from({ length: 3 }, () => ({ purpose: "email_change" })),
    );
  });

  it("shares the budget with login: guesses through either lock the other", async () => {
    const user = await register();
    const ip = newIp();
    const send = asUser(user, ip);
    await login(user.email, "login-guess-1", ip);
    await login(user.email, "login-guess-2", ip);
    await send("POST", "/users/change-password/", {
      old_password: "reauth-guess-3",
      new_password: "attacker-Chosen-77",
    });
    limitedBy(await login(user.email, PASSWORD, ip), "login-account");
  });

  it("a right password clears the network's count", async () => {
    const user = await register();
    const ip = newIp();
    const send = asUser(user, ip);
    await login(user.email, "login-guess-1", ip);
    await login(user.email, "login-guess-2", ip);
    const res = await send("PATCH", "/users/profile/", {
      email: uniqueEmail("mine"),
      current_password: PASSWORD,
    });
    expect(res.status, res.text).toBe(200);
    // Cleared: two more wrong guesses are answered, not refused.
    const email = (await userRow(user.id))?.email ?? "";
    for (const guess of ["after-1-guess", "after-2-guess"]) {
      expectError(await login(email, guess, ip), 401, "invalid_credentials");
    }
  });

  it("a stranger filling the account's ceiling does not block a signed-in owner", async () => {
    const user = await register();
    for (let i = 0; i < 8; i++) await login(user.email, `bot-${i}-guess`, newIp());
    limitedBy(await login(user.email, PASSWORD, newIp()), "login-ceiling");
    const res = await asUser(user, newIp())("POST", "/users/change-password/", {
      old_password: PASSWORD,
      new_password: "owner-Chosen-77",
    });
    expect(res.status, res.text).toBe(200);
  });

  it("a stolen session buys only a few guesses, whatever the networks it uses", async () => {
    const user = await register();
    for (let i = 0; i < 3; i++) {
      const res = await asUser(user, newIp())("POST", "/users/change-password/", {
        old_password: `roaming-${i}-guess`,
        new_password: "attacker-Chosen-77",
      });
      expectError(res, 400, "validation_failed");
    }
    const res = await asUser(user, newIp())("POST", "/users/change-password/", {
      old_password: PASSWORD,
      new_password: "attacker-Chosen-77",
    });
    limitedBy(res, "login-device");
  });
});
