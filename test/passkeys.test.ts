/**
 * Passkeys against the API with a software authenticator (test/helpers/software-authenticator.ts:
 * real attestation and assertion structures, ES256): registration, as a second factor after the
 * password, passwordless sign-in, and the attacks — a cloned authenticator (counter gone
 * backwards), a replayed assertion, a wrong origin, no user verification. No failure issues a
 * token or opens a session.
 */
import { createLocalJWKSet, jwtVerify } from "jose";
import { describe, expect, it } from "vitest";
import { call, type Envelope, expectError } from "./helpers/api";
import { SoftwareAuthenticator } from "./helpers/software-authenticator";
import { auditFor, login, outboxFor, register, sessionsFor, type TestUser } from "./helpers/users";

const ORIGIN = "http://localhost:3000";

interface Ceremony {
  challenge_id: string;
  options: never;
}

async function payloadOf(token: string) {
  const jwks = await call<{ keys: never[] }>("GET", "http://localhost/.well-known/jwks.json");
  return (await jwtVerify(token, createLocalJWKSet(jwks.body))).payload;
}

async function addPasskey(
  user: TestUser,
  authenticator = new SoftwareAuthenticator({ origin: ORIGIN }),
) {
  const options = await call<Envelope<Ceremony>>(
    "POST",
    "/auth/mfa/webauthn/registration/options/",
    {
      token: user.access_token,
      body: {},
    },
  );
  expect(options.status, options.text).toBe(200);
  const credential = await authenticator.register(options.body.data.options);
  const verified = await call<
    Envelope<{ factor_id: string; recovery_codes?: string[]; access_token: string }>
  >("POST", "/auth/mfa/webauthn/registration/verify/", {
    token: user.access_token,
    body: { challenge_id: options.body.data.challenge_id, credential, name: "Laptop" },
  });
  return { authenticator, verified, credentialId: credential.id };
}

async function passwordless(authenticator: SoftwareAuthenticator) {
  const options = await call<Envelope<Ceremony>>("POST", "/auth/passkeys/options/", { body: {} });
  expect(options.status, options.text).toBe(200);
  const credential = await authenticator.authenticate(options.body.data.options);
  return {
    challengeId: options.body.data.challenge_id,
    credential,
    res: await call<Envelope<{ access_token: string; user: { id: string } }>>(
      "POST",
      "/auth/passkeys/verify/",
      {
        body: { challenge_id: options.body.data.challenge_id, credential },
      },
    ),
  };
}

describe("passkeys", () => {
  it("registers one: active factor, recovery codes, the session at aal2, an event and an audit entry", async () => {
    const user = await register();
    const { verified } = await addPasskey(user);
    expect(verified.status, verified.text).toBe(201);
    expect(verified.body.data.recovery_codes).toHaveLength(10);
    expect(await payloadOf(verified.body.data.access_token)).toMatchObject({
      aal: "aal2",
      amr: ["pwd", "webauthn"],
    });
    const factors = await call<Envelope<{ type: string; status: string }[]>>(
      "GET",
      "/auth/mfa/factors/",
      {
        token: user.access_token,
      },
    );
    expect(factors.body.data).toEqual([
      expect.objectContaining({ type: "webauthn", status: "active", name: "Laptop" }),
    ]);
    expect(await outboxFor(user.id, "security.mfa_enabled")).toHaveLength(1);
    expect(await auditFor(user.id, "mfa_factor_added")).toHaveLength(1);
  });

  it("is the second factor after the password: the login offers its options, the assertion completes it", async () => {
    const user = await register();
    const { authenticator } = await addPasskey(user);
    const pending = await login(user.email);
    const data = (
      pending.body as unknown as Envelope<{ mfa_token: string; webauthn_options: never }>
    ).data;
    expect(data).toMatchObject({ mfa_required: true, factors: [{ type: "webauthn" }] });
    const webauthn = await authenticator.authenticate(data.webauthn_options);
    const done = await call<Envelope<{ access_token: string }>>("POST", "/auth/mfa/challenge/", {
      body: { mfa_token: data.mfa_token, webauthn },
    });
    expect(done.status, done.text).toBe(200);
    expect(await payloadOf(done.body.data.access_token)).toMatchObject({
      aal: "aal2",
      amr: ["pwd", "webauthn"],
    });
  });

  it("signs in without a password at aal2, with user verification", async () => {
    const user = await register();
    const { authenticator } = await addPasskey(user);
    const { res } = await passwordless(authenticator);
    expect(res.status, res.text).toBe(200);
    expect(res.body.data.user.id).toBe(user.id);
    expect(await payloadOf(res.body.data.access_token)).toMatchObject({
      aal: "aal2",
      amr: ["webauthn"],
    });
    expect((await auditFor(user.id, "login_success"))[0]?.metadata).toMatchObject({
      method: "passkey",
    });
  });

  it("refuses a cloned authenticator whose counter went backwards", async () => {
    const user = await register();
    const { authenticator } = await addPasskey(user);
    const clone = authenticator.clone();
    expect((await passwordless(authenticator)).res.status).toBe(200);
    expect((await passwordless(authenticator)).res.status).toBe(200);
    const sessions = (await sessionsFor(user.id)).length;
    // The clone's counter is behind the one stored: it signs 1 where the service saw 2.
    const cloned = await passwordless(clone);
    expectError(cloned.res, 401, "mfa_verification_failed");
    expect(await sessionsFor(user.id)).toHaveLength(sessions);
  });

  it("refuses a replayed assertion, a wrong origin and one without user verification", async () => {
    const user = await register();
    const { authenticator } = await addPasskey(user);
    const first = await passwordless(authenticator);
    expect(first.res.status).toBe(200);
    const sessions = (await sessionsFor(user.id)).length;
    const replay = await call("POST", "/auth/passkeys/verify/", {
      body: { challenge_id: first.challengeId, credential: first.credential },
    });
    expectError(replay, 401, "mfa_verification_failed");

    const options = await call<Envelope<Ceremony>>("POST", "/auth/passkeys/options/", { body: {} });
    const elsewhere = await authenticator.authenticate(
      options.body.data.options,
      "https://evil.example",
    );
    expectError(
      await call("POST", "/auth/passkeys/verify/", {
        body: { challenge_id: options.body.data.challenge_id, credential: elsewhere },
      }),
      401,
      "mfa_verification_failed",
    );

    // Registered without user verification: good as a second factor, never alone.
    const unverified = new SoftwareAuthenticator({ origin: ORIGIN, userVerification: false });
    const other = await register();
    expect((await addPasskey(other, unverified)).verified.status).toBe(201);
    expectError((await passwordless(unverified)).res, 401, "mfa_verification_failed");
    expect(await sessionsFor(user.id)).toHaveLength(sessions);
  });

  it("refuses registration answers to another challenge or from another origin, adding nothing", async () => {
    const user = await register();
    const authenticator = new SoftwareAuthenticator({ origin: "https://evil.example" });
    const { verified } = await addPasskey(user, authenticator);
    expectError(verified, 400, "validation_failed");
    const factors = await call<Envelope<unknown[]>>("GET", "/auth/mfa/factors/", {
      token: user.access_token,
    });
    expect(factors.body.data).toEqual([]);
  });
});
