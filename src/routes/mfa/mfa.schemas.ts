/**
 * Bodies and answers of second factors (README: Second factors). WebAuthn structures are checked
 * for their shape here and for their meaning by @simplewebauthn/server.
 */
import { z } from "@hono/zod-openapi";
import { AssertionSchema } from "./passkeys.schemas";
import { AccessTokenSchema, exampleCodes, recoveryCodes } from "./tokens.schemas";

export const FactorIdParamSchema = z.object({
  id: z
    .string()
    .min(1)
    .max(64)
    .openapi({ param: { name: "id", in: "path" } }),
});

export const FactorSchema = z
  .object({
    id: z.uuid(),
    type: z.enum(["totp", "webauthn"]),
    name: z.string().nullable(),
    status: z.enum(["pending", "active"]),
    created_at: z.iso.datetime(),
    last_used_at: z.iso.datetime().nullable(),
  })
  .openapi("MfaFactor", {
    example: {
      id: "6b1e2c9a-3f0d-4c8e-9a51-2d7f0b3c4e5a",
      type: "totp",
      name: "Phone",
      status: "active",
      created_at: "2026-11-21T09:30:00.000Z",
      last_used_at: "2026-11-22T08:00:00.000Z",
    },
  });

const codeField = z
  .string()
  .regex(/^\d{6}$/, "Enter the 6-digit code from your authenticator app.")
  .openapi({ example: "287082" });
const recoveryCodeField = z.string().min(1).max(64).openapi({ example: "k7h2m-q9xta" });

/** Exactly one of a code, a recovery code or a passkey assertion. */
const proofFields = {
  code: codeField.optional(),
  recovery_code: recoveryCodeField.optional(),
  webauthn: AssertionSchema.optional(),
};

function oneProof(
  body: { code?: unknown; recovery_code?: unknown; webauthn?: unknown },
  ctx: z.RefinementCtx,
) {
  const given = [body.code, body.recovery_code, body.webauthn].filter((v) => v !== undefined);
  if (given.length !== 1) {
    ctx.addIssue({
      code: "custom",
      path: ["non_field_errors"],
      message: "Send exactly one of code, recovery_code and webauthn.",
    });
  }
}

export const ChallengeBodySchema = z
  .object({ mfa_token: z.string().min(1).max(512), ...proofFields })
  .superRefine(oneProof)
  .openapi("MfaChallengeRequest", {
    example: { mfa_token: "q3JxN8vT2pW6yB1dF5hK9mR4sU7wZ0cE3gJ6lN9pS2v", code: "287082" },
  });

export const StepUpBodySchema = z
  .object({
    ...proofFields,
    challenge_id: z.uuid().optional().openapi({
      description: "With `webauthn`: the challenge from POST /auth/mfa/step-up/options/.",
    }),
  })
  .superRefine(oneProof)
  .openapi("MfaStepUpRequest", { example: { code: "287082" } });

export const TotpEnrolBodySchema = z
  .object({ name: z.string().trim().min(1).max(64).optional() })
  .openapi("TotpEnrolRequest", { example: { name: "Phone" } });

export const TotpEnrolmentSchema = z
  .object({
    factor_id: z.uuid(),
    secret: z.string().openapi({ description: "Base32, for typing into an app by hand." }),
    otpauth_uri: z
      .string()
      .openapi({ example: "otpauth://totp/User%20service:ada%40example.com?…" }),
    qr_svg: z.string().openapi({ description: "The URI as a QR code (SVG markup)." }),
  })
  .openapi("TotpEnrolment", {
    example: {
      factor_id: "6b1e2c9a-3f0d-4c8e-9a51-2d7f0b3c4e5a",
      secret: "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP",
      otpauth_uri:
        "otpauth://totp/User%20service:ada%40example.com?issuer=User%20service&secret=JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP&algorithm=SHA1&digits=6&period=30",
      qr_svg: '<svg xmlns="http://www.w3.org/2000/svg" …</svg>',
    },
  });

export const TotpVerifyBodySchema = z
  .object({ factor_id: z.uuid(), code: codeField })
  .openapi("TotpVerifyRequest", {
    example: { factor_id: "6b1e2c9a-3f0d-4c8e-9a51-2d7f0b3c4e5a", code: "287082" },
  });

export const TotpVerifiedSchema = AccessTokenSchema.extend({
  recovery_codes: recoveryCodes,
}).openapi("TotpVerified", {
  example: {
    access_token: "eyJhbGciOiJFUzI1NiIsImtpZCI6ImtleS0yMDI2LTExIiwidHlwIjoiSldUIn0…",
    token_type: "Bearer",
    expires_in: 900,
    aal: "aal2",
    amr: ["pwd", "otp"],
    recovery_codes: exampleCodes,
  },
});

export const RecoveryCodesSchema = z
  .object({ recovery_codes: recoveryCodes })
  .openapi("RecoveryCodes", {
    example: {
      recovery_codes: exampleCodes,
    },
  });

export const MfaRequiredSchema = z
  .object({
    mfa_required: z.literal(true),
    mfa_token: z
      .string()
      .openapi({ description: "For POST /auth/mfa/challenge/; 5 minutes, single use." }),
    expires_in: z.number().int(),
    factors: z.array(
      z.object({ id: z.uuid(), type: z.enum(["totp", "webauthn"]), name: z.string().nullable() }),
    ),
    webauthn_options: z.record(z.string(), z.unknown()).optional().openapi({
      description: "When a passkey is among the factors: options for navigator.credentials.get().",
    }),
  })
  .openapi("MfaRequired", {
    example: {
      mfa_required: true,
      mfa_token: "q3JxN8vT2pW6yB1dF5hK9mR4sU7wZ0cE3gJ6lN9pS2v",
      expires_in: 300,
      factors: [{ id: "6b1e2c9a-3f0d-4c8e-9a51-2d7f0b3c4e5a", type: "totp", name: "Phone" }],
    },
  });

export const ReauthenticateBodySchema = z
  .object({ password: z.string().min(1).max(1024).openapi({ format: "password" }) })
  .openapi("ReauthenticateRequest", { example: { password: "amber-Compass-88-hill" } });
