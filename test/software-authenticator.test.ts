/**
 * The software authenticator (test/helpers/software-authenticator.ts) against @simplewebauthn/server
 * itself: what it makes verifies, and what a real RP must refuse is refused, so other tests can
 * trust it as a stand-in for a browser with a passkey.
 */
import {
  generateAuthenticationOptions,
  generateRegistrationOptions,
  verifyAuthenticationResponse,
  verifyRegistrationResponse,
  type WebAuthnCredential,
} from "@simplewebauthn/server";
import { describe, expect, it } from "vitest";
import { SoftwareAuthenticator, type SoftwareCredential } from "./helpers/software-authenticator";

const RP_ID = "id.example.com";
const ORIGIN = `https://${RP_ID}`;

/** Registers a new credential with the authenticator, verified as an RP would. */
async function enrol(authenticator: SoftwareAuthenticator, requireUserVerification = true) {
  const options = await generateRegistrationOptions({
    rpName: "Example",
    rpID: RP_ID,
    userName: "ada@example.com",
    authenticatorSelection: { residentKey: "required", userVerification: "required" },
  });
  const response = await authenticator.register(options);
  const verification = await verifyRegistrationResponse({
    response,
    expectedChallenge: options.challenge,
    expectedOrigin: ORIGIN,
    expectedRPID: RP_ID,
    requireUserVerification,
  });
  if (!verification.verified) throw new Error("registration did not verify");
  return { options, response, stored: verification.registrationInfo.credential };
}

/** One sign-in: fresh options, an assertion, and the RP's verification against `stored`. */
async function signIn(
  authenticator: SoftwareAuthenticator,
  stored: WebAuthnCredential,
  {
    origin = ORIGIN,
    requireUserVerification = true,
    challenge = undefined as string | undefined,
  } = {},
) {
  const options = await generateAuthenticationOptions({
    rpID: RP_ID,
    userVerification: "required",
  });
  const response = await authenticator.authenticate(options, origin);
  return verifyAuthenticationResponse({
    response,
    expectedChallenge: challenge ?? options.challenge,
    expectedOrigin: ORIGIN,
    expectedRPID: RP_ID,
    credential: stored,
    requireUserVerification,
  });
}

describe("software authenticator: registration", () => {
  it("makes a 'none' attestation that verifies, with the credential's id, key and counter", async () => {
    const authenticator = new SoftwareAuthenticator({ origin: ORIGIN });
    const { options, response, stored } = await enrol(authenticator);
    const [held] = authenticator.credentials() as [SoftwareCredential];
    expect(response.rawId).toBe(response.id);
    expect(response.response).toMatchObject({ transports: ["internal"], publicKeyAlgorithm: -7 });
    expect(stored.id).toBe(held.id);
    expect(stored.id).toBe(response.id);
    expect(stored.counter).toBe(0);
    expect(stored.publicKey).toEqual(held.cosePublicKey);
    expect(held.userHandle).toBe(options.user.id);
    // `response.publicKey` is the same key as SPKI, the way browsers report it.
    const spki = Uint8Array.fromBase64(response.response.publicKey ?? "", {
      alphabet: "base64url",
    });
    await expect(
      crypto.subtle.importKey("spki", spki, { name: "ECDSA", namedCurve: "P-256" }, true, [
        "verify",
      ]),
    ).resolves.toBeDefined();
  });

  it("reports the RP's details and a verified user", async () => {
    const authenticator = new SoftwareAuthenticator({
      origin: ORIGIN,
      aaguid: new Uint8Array(16).fill(0xab),
    });
    const options = await generateRegistrationOptions({
      rpName: "Example",
      rpID: RP_ID,
      userName: "b",
    });
    const verification = await verifyRegistrationResponse({
      response: await authenticator.register(options),
      expectedChallenge: options.challenge,
      expectedOrigin: ORIGIN,
      expectedRPID: RP_ID,
    });
    expect(verification.registrationInfo).toMatchObject({
      fmt: "none",
      aaguid: "abababab-abab-abab-abab-abababababab",
      userVerified: true,
      origin: ORIGIN,
      rpID: RP_ID,
    });
  });

  it("refuses to register again where the RP excludes a credential it already holds", async () => {
    const authenticator = new SoftwareAuthenticator({ origin: ORIGIN });
    const { response } = await enrol(authenticator);
    const options = await generateRegistrationOptions({
      rpName: "Example",
      rpID: RP_ID,
      userName: "ada@example.com",
      excludeCredentials: [{ id: response.id }],
    });
    await expect(authenticator.register(options)).rejects.toThrow(/InvalidStateError/);
  });
});

describe("software authenticator: authentication", () => {
  it("signs assertions that verify, counting 1 then 2", async () => {
    const authenticator = new SoftwareAuthenticator({ origin: ORIGIN });
    const { stored } = await enrol(authenticator);
    const first = await signIn(authenticator, stored);
    expect(first.verified).toBe(true);
    expect(first.authenticationInfo.newCounter).toBe(1);
    const second = await signIn(authenticator, { ...stored, counter: 1 });
    expect(second.verified).toBe(true);
    expect(second.authenticationInfo.newCounter).toBe(2);
    expect(authenticator.credentials()[0]?.counter).toBe(2);
  });

  it("answers discoverable requests with the user handle, and named ones by id", async () => {
    const authenticator = new SoftwareAuthenticator({ origin: ORIGIN });
    const { options: registration, response: made } = await enrol(authenticator);
    const discoverable = await authenticator.authenticate(
      await generateAuthenticationOptions({ rpID: RP_ID, allowCredentials: [] }),
    );
    expect(discoverable.id).toBe(made.id);
    expect(discoverable.response.userHandle).toBe(registration.user.id);
    const named = await authenticator.authenticate(
      await generateAuthenticationOptions({ rpID: RP_ID, allowCredentials: [{ id: made.id }] }),
    );
    expect(named.id).toBe(made.id);
    // The signature is DER (SEQUENCE), as WebAuthn requires, not WebCrypto's raw r‖s.
    const signature = Uint8Array.fromBase64(named.response.signature, { alphabet: "base64url" });
    expect(signature[0]).toBe(0x30);
  });

  it("throws when it holds no matching credential", async () => {
    const authenticator = new SoftwareAuthenticator({ origin: ORIGIN });
    await enrol(authenticator);
    await expect(
      authenticator.authenticate(await generateAuthenticationOptions({ rpID: "other.example" })),
    ).rejects.toThrow(/NotAllowedError/);
    await expect(
      authenticator.authenticate(
        await generateAuthenticationOptions({ rpID: RP_ID, allowCredentials: [{ id: "AAAA" }] }),
      ),
    ).rejects.toThrow(/NotAllowedError/);
  });

  it("a tampered signature does not verify", async () => {
    const authenticator = new SoftwareAuthenticator({ origin: ORIGIN });
    const { stored } = await enrol(authenticator);
    const options = await generateAuthenticationOptions({ rpID: RP_ID });
    const response = await authenticator.authenticate(options);
    // Flip the last byte of s: still well-formed DER, no longer the signature.
    const signature = Uint8Array.fromBase64(response.response.signature, { alphabet: "base64url" });
    signature[signature.length - 1] = (signature.at(-1) ?? 0) ^ 0x01;
    response.response.signature = signature.toBase64({ alphabet: "base64url", omitPadding: true });
    const verification = await verifyAuthenticationResponse({
      response,
      expectedChallenge: options.challenge,
      expectedOrigin: ORIGIN,
      expectedRPID: RP_ID,
      credential: stored,
    });
    expect(verification.verified).toBe(false);
  });

  it("an assertion made for another origin, or another challenge, is refused", async () => {
    const authenticator = new SoftwareAuthenticator({ origin: ORIGIN });
    const { stored } = await enrol(authenticator);
    await expect(signIn(authenticator, stored, { origin: "https://evil.example" })).rejects.toThrow(
      /Unexpected authentication response origin "https:\/\/evil.example"/,
    );
    await expect(
      signIn(authenticator, stored, { challenge: "c29tZS1vdGhlci1jaGFsbGVuZ2U" }),
    ).rejects.toThrow(/Unexpected authentication response challenge/);
  });

  it("a cloned authenticator whose counter lags behind is refused", async () => {
    const authenticator = new SoftwareAuthenticator({ origin: ORIGIN });
    const { stored } = await enrol(authenticator);
    const clone = authenticator.clone();
    // The original signs in twice; the RP stores counter 2.
    await signIn(authenticator, stored);
    const latest = await signIn(authenticator, { ...stored, counter: 1 });
    const counter = latest.authenticationInfo.newCounter;
    expect(counter).toBe(2);
    // The clone still counts from 0, so it reports 1.
    await expect(signIn(clone, { ...stored, counter })).rejects.toThrow(
      /Response counter value 1 was lower than expected 2/,
    );
    // Nor is an equal counter accepted: it would be a replayed or cloned authenticator too.
    clone.setCounter(stored.id, 1);
    await expect(signIn(clone, { ...stored, counter })).rejects.toThrow(/counter value 2/);
    // Ahead of the stored counter, it verifies: a counter is all an RP has to tell them apart.
    clone.setCounter(stored.id, 9);
    const ahead = await signIn(clone, { ...stored, counter });
    expect(ahead.authenticationInfo.newCounter).toBe(10);
    expect(authenticator.credentials()[0]?.counter).toBe(2);
  });

  it("starts at a given counter", async () => {
    const authenticator = new SoftwareAuthenticator({ origin: ORIGIN, initialCounter: 41 });
    const { stored } = await enrol(authenticator);
    expect(stored.counter).toBe(41);
    expect((await signIn(authenticator, stored)).authenticationInfo.newCounter).toBe(42);
  });
});

describe("software authenticator: user verification", () => {
  it("passes requireUserVerification when it verifies the user", async () => {
    const authenticator = new SoftwareAuthenticator({ origin: ORIGIN });
    const { stored } = await enrol(authenticator, true);
    const verification = await signIn(authenticator, stored, { requireUserVerification: true });
    expect(verification.authenticationInfo.userVerified).toBe(true);
  });

  it("fails requireUserVerification when built without user verification", async () => {
    const authenticator = new SoftwareAuthenticator({ origin: ORIGIN, userVerification: false });
    await expect(enrol(authenticator, true)).rejects.toThrow(/User verification was required/);
    const { stored } = await enrol(authenticator, false);
    await expect(signIn(authenticator, stored, { requireUserVerification: true })).rejects.toThrow(
      /User verification required, but user could not be verified/,
    );
    const lenient = await signIn(authenticator, stored, { requireUserVerification: false });
    expect(lenient).toMatchObject({ verified: true, authenticationInfo: { userVerified: false } });
  });
});
