/**
 * Access tokens: forged and misused tokens are refused; keys are published and can rotate.
 */
import { env } from "cloudflare:workers";
import { SignJWT } from "jose";
import { afterEach, describe, expect, it, vi } from "vitest";
import { call, callWith, type Envelope, expectError, request } from "./helpers/api";
import { b64, newKeyPair, serviceKey, sign } from "./helpers/jwt";
import { claims, register, type TestUser } from "./helpers/users";

function genuineClaims(user: TestUser) {
  return claims(user.access_token);
}

async function profileWith(token: string) {
  return call("GET", "/users/profile/", { token });
}

afterEach(() => {
  vi.useRealTimers();
});

describe("access token claims", () => {
  it("carries the contract's claims and a kid", async () => {
    const user = await register();
    const payload = genuineClaims(user);
    expect(payload).toMatchObject({
      iss: env.JWT_ISSUER,
      aud: env.JWT_AUDIENCE,
      sub: user.id,
      user_id: user.id,
      email: user.email,
      role: "user",
      token_type: "access",
    });
    expect(payload.sid).toEqual(expect.any(String));
    expect(payload.jti).toEqual(expect.any(String));
    expect(Number(payload.exp) - Number(payload.iat)).toBe(15 * 60);
    const header = JSON.parse(atob(user.access_token.split(".")[0] ?? ""));
    expect(header).toEqual({ alg: "ES256", kid: "test-key", typ: "JWT" });
  });

  it("is accepted when re-signed with the service key (control for the cases below)", async () => {
    const user = await register();
    const token = await sign(genuineClaims(user), serviceKey());
    expect((await profileWith(token)).status).toBe(200);
  });
});

describe("a token already verified in this isolate", () => {
  it("still expires on time: the remembered verification is no longer good after exp", async () => {
    const user = await register();
    expect((await profileWith(user.access_token)).status).toBe(200);
    vi.useFakeTimers({ toFake: ["Date"] });
    vi.setSystemTime(Number(claims(user.access_token).exp) * 1000);
    expectError(await profileWith(user.access_token), 401, "token_expired");
  });
});

describe("forged and misused tokens are refused", () => {
  it("refuses alg none", async () => {
    const user = await register();
    const token = `${b64({ alg: "none", typ: "JWT", kid: "test-key" })}.${b64(genuineClaims(user))}.`;
    expectError(await profileWith(token), 401, "invalid_token");
  });

  it("refuses a token signed by another key with the same kid", async () => {
    const user = await register();
    const attacker = await newKeyPair("test-key");
    const token = await sign(genuineClaims(user), attacker.privateJwk);
    expectError(await profileWith(token), 401, "invalid_token");
  });

  it("refuses HS256 signed with the public key as the secret (algorithm confusion)", async () => {
    const user = await register();
    const publicKey = (JSON.parse(env.JWT_PUBLIC_KEYS) as { keys: { x: string }[] }).keys[0];
    const secret = new TextEncoder().encode(JSON.stringify(publicKey));
    const token = await new SignJWT(genuineClaims(user))
      .setProtectedHeader({ alg: "HS256", kid: "test-key" })
      .sign(secret);
    expectError(await profileWith(token), 401, "invalid_token");
  });

  it("refuses tampered claims", async () => {
    const user = await register();
    const [header, , signature] = user.access_token.split(".");
    const escalated = b64({ ...genuineClaims(user), role: "admin" });
    expectError(await profileWith(`${header}.${escalated}.${signature}`), 401, "invalid_token");
  });

  it("refuses an expired token with token_expired", async () => {
    const user = await register();
    vi.useFakeTimers({ toFake: ["Date"] });
    vi.setSystemTime(Date.now() + 16 * 60 * 1000);
    const res = await profileWith(user.access_token);
    expectError(res, 401, "token_expired");
    expect(res.headers.get("WWW-Authenticate")).toContain('error="invalid_token"');
  });

  it("refuses a wrong issuer", async () => {
    const user = await register();
    const token = await sign({ ...genuineClaims(user), iss: "https://evil.example" }, serviceKey());
    expectError(await profileWith(token), 401, "invalid_token");
  });

  it("refuses a wrong audience", async () => {
    const user = await register();
    const token = await sign({ ...genuineClaims(user), aud: "another-service" }, serviceKey());
    expectError(await profileWith(token), 401, "invalid_token");
  });

  it("refuses another token type", async () => {
    const user = await register();
    const token = await sign({ ...genuineClaims(user), token_type: "refresh" }, serviceKey());
    expectError(await profileWith(token), 401, "invalid_token");
  });

  it("refuses a token whose user_id disagrees with sub", async () => {
    const user = await register();
    const other = await register();
    const token = await sign({ ...genuineClaims(user), user_id: other.id }, serviceKey());
    expectError(await profileWith(token), 401, "invalid_token");
  });

  it("refuses a refresh token used as a bearer token", async () => {
    const user = await register();
    expectError(await profileWith(user.refresh_token), 401, "invalid_token");
  });

  it("refuses an access token used as a refresh token, without touching the session", async () => {
    const user = await register();
    const res = await call("POST", "/auth/refresh/", {
      body: { refresh_token: user.access_token },
    });
    expectError(res, 401, "invalid_token");
    const refreshed = await call("POST", "/auth/refresh/", {
      body: { refresh_token: user.refresh_token },
    });
    expect(refreshed.status).toBe(200);
  });

  it("asks for credentials when there are none, with a Bearer challenge", async () => {
    const res = await call("GET", "/users/profile/");
    expectError(res, 401, "authentication_required");
    expect(res.headers.get("WWW-Authenticate")).toBe('Bearer realm="user-service"');
  });

  it("refuses a malformed Authorization header", async () => {
    const user = await register();
    for (const header of [
      `Basic ${user.access_token}`,
      `Bearer`,
      `Bearer a b`,
      user.access_token,
    ]) {
      const res = await call("GET", "/users/profile/", { headers: { Authorization: header } });
      expectError(res, 401, "invalid_token");
    }
  });
});

describe("JWKS and key rotation", () => {
  it("publishes the public keys, without private material", async () => {
    const res = await call<{ keys: Record<string, string>[] }>(
      "GET",
      "http://localhost/.well-known/jwks.json",
    );
    expect(res.status).toBe(200);
    expect(res.body.keys).toHaveLength(1);
    expect(res.body.keys[0]).toMatchObject({
      kty: "EC",
      crv: "P-256",
      kid: "test-key",
      alg: "ES256",
      use: "sig",
    });
    expect(res.text).not.toContain('"d"');
  });

  it("keeps accepting tokens of the previous key while it is listed", async () => {
    const user = await register();
    const next = await newKeyPair("next-key");
    const current = JSON.parse(env.JWT_PUBLIC_KEYS) as { keys: unknown[] };
    const rotated = {
      JWT_PRIVATE_KEY: JSON.stringify(next.privateJwk),
      JWT_PUBLIC_KEYS: JSON.stringify({ keys: [next.publicJwk, ...current.keys] }),
    };
    // A token signed before the rotation still works...
    const old = await callWith(
      rotated,
      request("GET", "/users/profile/", { token: user.access_token }),
    );
    expect(old.status).toBe(200);
    // ...new logins are signed with the new key...
    const fresh = await callWith<Envelope<{ access_token: string }>>(
      rotated,
      request("POST", "/auth/login/", { body: { email: user.email, password: user.password } }),
    );
    const header = JSON.parse(atob(fresh.body.data.access_token.split(".")[0] ?? ""));
    expect(header.kid).toBe("next-key");
    // ...and once the old key is dropped, its tokens stop working.
    const dropped = { ...rotated, JWT_PUBLIC_KEYS: JSON.stringify({ keys: [next.publicJwk] }) };
    const refused = await callWith(
      dropped,
      request("GET", "/users/profile/", { token: user.access_token }),
    );
    expectError(refused, 401, "invalid_token");
  });
});
