/**
 * WebAuthn structures as browsers serialise them (`toJSON()`), checked for their shape here and for
 * their meaning by @simplewebauthn/server; and the passkey routes' bodies and answers.
 */
import { z } from "@hono/zod-openapi";
import { AccessTokenSchema, exampleCodes, recoveryCodes } from "./tokens.schemas";

/** Examples, shared by the structures and the bodies that carry them. */
const assertionExample = {
  id: "mB8cX1Jw3kQ4",
  rawId: "mB8cX1Jw3kQ4",
  type: "public-key" as const,
  response: {
    clientDataJSON: "eyJ0eXBlIjoid2ViYXV0aG4uZ2V0In0",
    authenticatorData: "SZYN5YgOjGh0NBcPZHZgW4_krrmihjLHmVzzuoMdl2MFAAAAAQ",
    signature: "MEUCIQDKq9A8yY2tB7FMZPvrvbEXAMPLE",
    userHandle: "NmIxZTJjOWE",
  },
  clientExtensionResults: {},
};
const attestationExample = {
  id: "mB8cX1Jw3kQ4",
  rawId: "mB8cX1Jw3kQ4",
  type: "public-key" as const,
  response: {
    clientDataJSON: "eyJ0eXBlIjoid2ViYXV0aG4uY3JlYXRlIn0",
    attestationObject: "o2NmbXRkbm9uZWdhdHRTdG10oGhhdXRoRGF0YQ",
    transports: ["internal" as const],
  },
  clientExtensionResults: {},
};

const b64url = z
  .string()
  .max(16_384)
  .regex(/^[A-Za-z0-9_-]*$/, "Must be base64url.");

/** A passkey's answer to navigator.credentials.get(), as browsers serialise it (toJSON()). */
export const AssertionSchema = z
  .object({
    id: b64url.min(1),
    rawId: b64url.min(1),
    type: z.literal("public-key"),
    response: z.object({
      clientDataJSON: b64url.min(1),
      authenticatorData: b64url.min(1),
      signature: b64url.min(1),
      userHandle: b64url.optional(),
    }),
    clientExtensionResults: z.record(z.string(), z.unknown()).default({}),
    authenticatorAttachment: z.enum(["platform", "cross-platform"]).optional(),
  })
  .openapi("WebAuthnAssertion", { example: assertionExample });

/** A passkey's answer to navigator.credentials.create(). */
export const AttestationSchema = z
  .object({
    id: b64url.min(1),
    rawId: b64url.min(1),
    type: z.literal("public-key"),
    response: z.object({
      clientDataJSON: b64url.min(1),
      attestationObject: b64url.min(1),
      authenticatorData: b64url.optional(),
      transports: z
        .array(z.enum(["ble", "cable", "hybrid", "internal", "nfc", "smart-card", "usb"]))
        .max(8)
        .optional(),
      publicKeyAlgorithm: z.number().int().optional(),
      publicKey: b64url.optional(),
    }),
    clientExtensionResults: z.record(z.string(), z.unknown()).default({}),
    authenticatorAttachment: z.enum(["platform", "cross-platform"]).optional(),
  })
  .openapi("WebAuthnAttestation", {
    example: attestationExample,
  });

export const CeremonySchema = z
  .object({
    challenge_id: z.uuid(),
    options: z.record(z.string(), z.unknown()).openapi({
      description: "For navigator.credentials.create() / get() (PublicKeyCredential*OptionsJSON).",
    }),
  })
  .openapi("WebAuthnCeremony", {
    example: {
      challenge_id: "0c4f8a2e-5b7d-4e91-8f3a-6d2b9c1e7a40",
      options: {
        challenge: "3q2-7wAAAAA…",
        rpId: "example.com",
        userVerification: "required",
        allowCredentials: [],
        timeout: 60000,
      },
    },
  });

export const PasskeyRegisterBodySchema = z
  .object({
    challenge_id: z.uuid(),
    credential: AttestationSchema,
    name: z.string().trim().min(1).max(64).optional(),
  })
  .openapi("PasskeyRegistrationRequest", {
    example: {
      challenge_id: "0c4f8a2e-5b7d-4e91-8f3a-6d2b9c1e7a40",
      credential: attestationExample,
      name: "Laptop",
    },
  });

export const PasskeyRegisteredSchema = AccessTokenSchema.extend({
  factor_id: z.uuid(),
  recovery_codes: recoveryCodes.optional(),
}).openapi("PasskeyRegistered", {
  example: {
    factor_id: "6b1e2c9a-3f0d-4c8e-9a51-2d7f0b3c4e5a",
    access_token: "eyJhbGciOiJFUzI1NiIsImtpZCI6ImtleS0yMDI2LTExIiwidHlwIjoiSldUIn0…",
    token_type: "Bearer",
    expires_in: 900,
    aal: "aal2",
    amr: ["pwd", "webauthn"],
    recovery_codes: exampleCodes,
  },
});

export const PasskeySignInBodySchema = z
  .object({ challenge_id: z.uuid(), credential: AssertionSchema })
  .openapi("PasskeySignInRequest", {
    example: {
      challenge_id: "0c4f8a2e-5b7d-4e91-8f3a-6d2b9c1e7a40",
      credential: assertionExample,
    },
  });
