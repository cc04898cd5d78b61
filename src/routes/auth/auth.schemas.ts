import { z } from "@hono/zod-openapi";
import { examples } from "../examples";
import {
  checkPasswordConfirmation,
  emailField,
  newPasswordField,
  passwordConfirmationFields,
  TokenPairSchema,
} from "../users/users.schemas";

export const LoginBodySchema = z
  .object({
    email: emailField,
    password: z.string().min(1).max(1024).openapi({ format: "password" }),
    device_token: z
      .string()
      .max(2048)
      .optional()
      .openapi({
        description:
          "The `device_token` of an earlier login to this account from this device (browsers send " +
          "the `__Host-login-device` cookie instead): this device's attempts are then counted on " +
          "their own, and strangers' failed guesses never lock it out.",
      }),
  })
  .openapi("LoginRequest", {
    example: { email: "ada@example.com", password: "correct horse battery staple" },
  });

export const LoginResultSchema = TokenPairSchema.extend({
  device_token: z.string().openapi({
    description:
      "Proof that this device signed in to this account: send it with later logins as " +
      "`device_token` (it lasts 180 days; each login hands out a fresh one). Also set as the " +
      "`__Host-login-device` cookie. It grants nothing else.",
  }),
}).openapi("LoginResult", {
  example: {
    user: examples.user,
    ...examples.tokenPair,
    device_token:
      "eyJhbGciOiJFUzI1NiIsImtpZCI6ImtleS0yMDI2LTExIiwidHlwIjoibG9naW4tZGV2aWNlK2p3dCJ9…",
  },
});

export const RefreshBodySchema = z
  .object({
    refresh_token: z.string().min(1).max(4096).optional(),
    /** The field name used by the replaced services. */
    refresh: z.string().min(1).max(4096).optional(),
  })
  .superRefine((body, ctx) => {
    if (body.refresh_token === undefined && body.refresh === undefined) {
      ctx.addIssue({ code: "custom", path: ["refresh_token"], message: "This field is required." });
    }
  })
  .openapi("RefreshRequest", {
    // One of the two is required (the refinement above).
    anyOf: [{ required: ["refresh_token"] }, { required: ["refresh"] }],
    example: { refresh_token: examples.tokenPair.refresh_token },
  });

export const LogoutBodySchema = z
  .object({
    all: z
      .boolean()
      .optional()
      .openapi({ description: "Revoke every session of the user, not just this one." }),
  })
  .openapi("LogoutRequest", { example: { all: false } });

export const LogoutResultSchema = z.object({
  revoked_sessions: z.number().int(),
});

const OneTimeTokenField = z.string().min(1).max(512).openapi({
  description: "The token from the emailed link.",
});

export const VerifyEmailBodySchema = z
  .object({ token: OneTimeTokenField })
  .openapi("VerifyEmailRequest", {
    example: { token: "Zk3n8Qp1rT5vX9bC2dF6hJ0lM4oS7uW1yA3eG5iK8mP" },
  });

export const PasswordResetBodySchema = z
  .object({ email: emailField })
  .openapi("PasswordResetRequest", { example: { email: "ada@example.com" } });

export const PasswordResetConfirmBodySchema = z
  .object({
    token: OneTimeTokenField,
    password: newPasswordField,
    ...passwordConfirmationFields,
  })
  .superRefine(checkPasswordConfirmation)
  .openapi("PasswordResetConfirmRequest", {
    example: {
      token: "Zk3n8Qp1rT5vX9bC2dF6hJ0lM4oS7uW1yA3eG5iK8mP",
      password: "amber-Compass-88-hill",
    },
  });
