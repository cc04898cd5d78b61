/**
 * A software WebAuthn authenticator and client in one: answers `navigator.credentials.create()`
 * and `.get()` with real attestation ("none") and assertion structures, signed with WebCrypto
 * ECDSA P-256 keys, in the JSON shapes @simplewebauthn/server verifies. It runs inside workerd,
 * so it uses only `crypto.subtle` and `Uint8Array`.
 */
import type {
  AuthenticationResponseJSON,
  PublicKeyCredentialCreationOptionsJSON,
  PublicKeyCredentialRequestOptionsJSON,
  RegistrationResponseJSON,
} from "@simplewebauthn/server";

export interface SoftwareCredential {
  /** base64url credential id. */
  id: string;
  rpId: string;
  /** base64url user handle (the options' `user.id`), or null when none was given. */
  userHandle: string | null;
  /** Signature counter: the value the next assertion increments. */
  counter: number;
  privateKey: CryptoKey;
  /** The COSE_Key in the attested credential data. */
  cosePublicKey: Uint8Array;
  /** SubjectPublicKeyInfo DER, as browsers report in `response.publicKey`. */
  spkiPublicKey: Uint8Array;
}

export interface SoftwareAuthenticatorOptions {
  /** Origin the "browser" reports in clientDataJSON; defaults to `https://<rp id>`. */
  origin?: string;
  /** 16-byte AAGUID; all zeros (as "none" attestation usually reports) by default. */
  aaguid?: Uint8Array;
  /** Whether the authenticator verifies the user (sets the UV flag). Defaults to true. */
  userVerification?: boolean;
  /** Counter of new credentials; 0 (as passkeys commonly keep it) by default. */
  initialCounter?: number;
}

const ES256 = -7;
const FLAG_UP = 0x01;
const FLAG_UV = 0x04;
const FLAG_AT = 0x40;

const encoder = new TextEncoder();
const b64url = (bytes: Uint8Array) => bytes.toBase64({ alphabet: "base64url", omitPadding: true });
const fromB64url = (text: string) => Uint8Array.fromBase64(text, { alphabet: "base64url" });

function concat(...parts: Uint8Array[]): Uint8Array<ArrayBuffer> {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let offset = 0;
  for (const part of parts) {
    out.set(part, offset);
    offset += part.length;
  }
  return out;
}

// The copy gives WebCrypto the ArrayBuffer-backed view it is typed to take (TextEncoder's output
// is typed as possibly shared).
const sha256 = async (data: Uint8Array) =>
  new Uint8Array(await crypto.subtle.digest("SHA-256", new Uint8Array(data)));

function uint32(value: number) {
  const out = new Uint8Array(4);
  new DataView(out.buffer).setUint32(0, value >>> 0);
  return out;
}

type Cbor = number | string | Uint8Array | Map<Cbor, Cbor>;

/** CBOR head: major type and argument, in the shortest form (RFC 8949 §3). */
function cborHead(major: number, value: number): Uint8Array {
  const m = major << 5;
  if (value < 24) return Uint8Array.of(m | value);
  if (value < 0x100) return Uint8Array.of(m | 24, value);
  if (value < 0x10000) return Uint8Array.of(m | 25, value >> 8, value & 0xff);
  return concat(Uint8Array.of(m | 26), uint32(value));
}

/**
 * Just enough deterministic CBOR for attestation objects and COSE keys: integers, byte and text
 * strings, and maps, whose entries are written in the order given (callers give them in CTAP2's
 * canonical order).
 */
function cbor(value: Cbor): Uint8Array {
  if (typeof value === "number") return value >= 0 ? cborHead(0, value) : cborHead(1, -1 - value);
  if (typeof value === "string") {
    const bytes = encoder.encode(value);
    return concat(cborHead(3, bytes.length), bytes);
  }
  if (value instanceof Uint8Array) return concat(cborHead(2, value.length), value);
  const entries = [...value].flatMap(([k, v]) => [cbor(k), cbor(v)]);
  return concat(cborHead(5, value.size), ...entries);
}

/** One DER INTEGER from a big-endian unsigned value: minimal, and positive (0x00 before a high bit). */
function derInteger(bytes: Uint8Array) {
  let start = 0;
  while (start < bytes.length - 1 && bytes[start] === 0) start++;
  let body = bytes.subarray(start);
  if ((body[0] ?? 0) & 0x80) body = concat(Uint8Array.of(0), body);
  return concat(Uint8Array.of(0x02, body.length), body);
}

/** WebCrypto signs ECDSA as raw r‖s; WebAuthn wants ASN.1 DER `SEQUENCE { r, s }`. */
function rawToDer(raw: Uint8Array) {
  const half = raw.length / 2;
  const body = concat(derInteger(raw.subarray(0, half)), derInteger(raw.subarray(half)));
  return concat(Uint8Array.of(0x30, body.length), body);
}

export class SoftwareAuthenticator {
  private readonly store: SoftwareCredential[] = [];
  private readonly origin: string | undefined;
  private readonly aaguid: Uint8Array;
  private readonly userVerification: boolean;
  private readonly initialCounter: number;

  constructor(private readonly options: SoftwareAuthenticatorOptions = {}) {
    this.origin = options.origin;
    this.aaguid = options.aaguid ?? new Uint8Array(16);
    if (this.aaguid.length !== 16) throw new Error("An AAGUID is 16 bytes");
    this.userVerification = options.userVerification ?? true;
    this.initialCounter = options.initialCounter ?? 0;
  }

  /** Answers `navigator.credentials.create()` with a fresh resident ES256 credential. */
  async register(
    options: PublicKeyCredentialCreationOptionsJSON,
    origin?: string,
  ): Promise<RegistrationResponseJSON> {
    const clientOrigin = origin ?? this.origin;
    const rpId = options.rp.id ?? (clientOrigin ? new URL(clientOrigin).hostname : undefined);
    if (!rpId) throw new Error("No rp.id and no origin to take it from");
    if (!options.pubKeyCredParams.some((p) => p.type === "public-key" && p.alg === ES256)) {
      throw new Error("NotSupportedError: the RP does not accept ES256 (-7)");
    }
    // As a real authenticator does: refuse to make a second credential the RP already knows of.
    const excluded = new Set((options.excludeCredentials ?? []).map((c) => c.id));
    if (this.store.some((c) => c.rpId === rpId && excluded.has(c.id))) {
      throw new Error("InvalidStateError: this authenticator already holds an excluded credential");
    }

    const pair = (await crypto.subtle.generateKey({ name: "ECDSA", namedCurve: "P-256" }, false, [
      "sign",
      "verify",
    ])) as CryptoKeyPair;
    // Uncompressed point: 0x04 ‖ x(32) ‖ y(32).
    const point = new Uint8Array(
      (await crypto.subtle.exportKey("raw", pair.publicKey)) as ArrayBuffer,
    );
    const spki = new Uint8Array(
      (await crypto.subtle.exportKey("spki", pair.publicKey)) as ArrayBuffer,
    );
    // COSE_Key: kty EC2 (1: 2), alg ES256 (3: -7), crv P-256 (-1: 1), x (-2), y (-3).
    const coseKey = cbor(
      new Map<Cbor, Cbor>([
        [1, 2],
        [3, ES256],
        [-1, 1],
        [-2, point.slice(1, 33)],
        [-3, point.slice(33, 65)],
      ]),
    );
    const credentialId = crypto.getRandomValues(new Uint8Array(32));
    const credential: SoftwareCredential = {
      id: b64url(credentialId),
      rpId,
      userHandle: options.user?.id ?? null,
      counter: this.initialCounter,
      privateKey: pair.privateKey,
      cosePublicKey: coseKey,
      spkiPublicKey: spki,
    };

    const attestedCredentialData = concat(
      this.aaguid,
      Uint8Array.of(credentialId.length >> 8, credentialId.length & 0xff),
      credentialId,
      coseKey,
    );
    const authData = concat(
      await this.authDataHead(rpId, FLAG_AT, credential.counter),
      attestedCredentialData,
    );
    const attestationObject = cbor(
      new Map<Cbor, Cbor>([
        ["fmt", "none"],
        ["attStmt", new Map()],
        ["authData", authData],
      ]),
    );
    const clientDataJSON = this.clientData("webauthn.create", options.challenge, rpId, origin);
    this.store.push(credential);

    return {
      id: credential.id,
      rawId: credential.id,
      type: "public-key",
      authenticatorAttachment: "platform",
      clientExtensionResults: {},
      response: {
        clientDataJSON: b64url(clientDataJSON),
        attestationObject: b64url(attestationObject),
        authenticatorData: b64url(authData),
        transports: ["internal"],
        publicKeyAlgorithm: ES256,
        publicKey: b64url(spki),
      },
    };
  }

  /**
   * Answers `navigator.credentials.get()`. With `credentialId`, uses that credential; otherwise the
   * first of `allowCredentials` held for the RP, or (discoverable, no `allowCredentials`) the most
   * recently registered one for the RP.
   */
  async authenticate(
    options: PublicKeyCredentialRequestOptionsJSON,
    origin?: string,
    credentialId?: string,
  ): Promise<AuthenticationResponseJSON> {
    const clientOrigin = origin ?? this.origin;
    const rpId = options.rpId ?? (clientOrigin ? new URL(clientOrigin).hostname : undefined);
    if (!rpId) throw new Error("No rpId and no origin to take it from");
    const held = this.store.filter((c) => c.rpId === rpId);
    const allowed = (options.allowCredentials ?? []).map((c) => c.id);
    let credential: SoftwareCredential | undefined;
    if (credentialId !== undefined) {
      credential = held.find(
        (c) => c.id === credentialId && (allowed.length === 0 || allowed.includes(c.id)),
      );
    } else if (allowed.length > 0) {
      credential = allowed.map((id) => held.find((c) => c.id === id)).find((c) => c !== undefined);
    } else {
      credential = held.at(-1);
    }
    if (!credential) throw new Error(`NotAllowedError: no matching credential for ${rpId}`);

    credential.counter += 1;
    const authData = await this.authDataHead(rpId, 0, credential.counter);
    const clientDataJSON = this.clientData("webauthn.get", options.challenge, rpId, origin);
    const signed = concat(authData, await sha256(clientDataJSON));
    const raw = new Uint8Array(
      await crypto.subtle.sign({ name: "ECDSA", hash: "SHA-256" }, credential.privateKey, signed),
    );

    return {
      id: credential.id,
      rawId: credential.id,
      type: "public-key",
      authenticatorAttachment: "platform",
      clientExtensionResults: {},
      response: {
        clientDataJSON: b64url(clientDataJSON),
        authenticatorData: b64url(authData),
        signature: b64url(rawToDer(raw)),
        ...(credential.userHandle !== null ? { userHandle: credential.userHandle } : {}),
      },
    };
  }

  /** Another authenticator with copies of these credentials (same keys, same counters). */
  clone(): SoftwareAuthenticator {
    const copy = new SoftwareAuthenticator(this.options);
    copy.store.push(...this.store.map((c) => ({ ...c })));
    return copy;
  }

  setCounter(credentialId: string, counter: number): void {
    const credential = this.store.find((c) => c.id === credentialId);
    if (!credential) throw new Error(`No credential ${credentialId}`);
    credential.counter = counter;
  }

  /** Snapshots: changing them does not change the authenticator (use `setCounter`). */
  credentials(): SoftwareCredential[] {
    return this.store.map((c) => ({ ...c }));
  }

  /** SHA-256(rpId) ‖ flags ‖ counter (uint32 BE); UP always, UV when this authenticator verifies. */
  private async authDataHead(rpId: string, extraFlags: number, counter: number) {
    const flags = FLAG_UP | (this.userVerification ? FLAG_UV : 0) | extraFlags;
    return concat(await sha256(encoder.encode(rpId)), Uint8Array.of(flags), uint32(counter));
  }

  private clientData(type: string, challenge: string, rpId: string, origin?: string) {
    // A browser decodes the challenge (refusing what is not base64url) and re-encodes the bytes,
    // which gives back the RP's string.
    fromB64url(challenge);
    const json = {
      type,
      challenge,
      origin: origin ?? this.origin ?? `https://${rpId}`,
      crossOrigin: false,
    };
    return encoder.encode(JSON.stringify(json));
  }
}
