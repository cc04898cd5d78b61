import { z } from "@hono/zod-openapi";
import {
  checkPasswordConfirmation,
  emailField,
  newPasswordField,
  passwordConfirmationFields,
} from "../users/users.schemas";

export const LoginBodySchema = z
  .object({
    email: emailField,
    password: z.string().min(1).max(1024).openapi({ format: "password" }),
  })
  .openapi("LoginRequest");

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
  .openapi("RefreshRequest");

export const LogoutBodySchema = z
  .object({
    all: z
      .boolean()
      .optional()
      .openapi({ description: "Revoke every session of the user, not just this one." }),
  })
  .openapi("LogoutRequest");

export const LogoutResultSchema = z.object({
  revoked_sessions: z.number().int(),
});

export const OneTimeTokenField = z.string().min(1).max(512).openapi({
  description: "The token from the emailed link.",
});

export const VerifyEmailBodySchema = z
  .object({ token: OneTimeTokenField })
  .openapi("VerifyEmailRequest");

export const PasswordResetBodySchema = z
  .object({ email: emailField })
  .openapi("PasswordResetRequest");

export const PasswordResetConfirmBodySchema = z
  .object({
    token: OneTimeTokenField,
    password: newPasswordField,
    ...passwordConfirmationFields,
  })
  .superRefine(checkPasswordConfirmation)
  .openapi("PasswordResetConfirmRequest");
