/** Route contracts of sign-in by emailed code (README: Sign-in by email code). */
import { createRoute, z } from "@hono/zod-openapi";
import { MfaRequiredSchema } from "../mfa/mfa.schemas";
import { envelope, errorResponses, jsonContent, jsonRequest } from "../openapi";
import { tags } from "../tags";
import {
  CookieSessionSchema,
  SessionModeQuerySchema,
  TokenPairSchema,
} from "../users/users.schemas";
import { EmailCodeRequestSchema, EmailCodeVerifySchema } from "./email-codes.schemas";

const tagged = tags("Email codes");

export const requestCode = createRoute({
  method: "post",
  path: "/auth/otp",
  tags: tagged,
  summary: "Email a sign-in code and link",
  description:
    "Always 202 with the same body, whether or not the address has an account, after the same " +
    "work. With EMAIL_CODE_SIGN_UP an address with no account gets a code too, and the account " +
    "is made when it is used. The code and link go out as `user.sign_in_code_requested`. " +
    "Counted per address and per client network.",
  request: { body: jsonRequest(EmailCodeRequestSchema) },
  responses: {
    202: jsonContent(envelope(z.null()), "If the address may sign in, a code is on its way"),
    ...errorResponses("validation_failed", "rate_limited"),
  },
});

export const verifyCode = createRoute({
  method: "post",
  path: "/auth/otp/verify",
  tags: tagged,
  summary: "Sign in with an emailed code or link",
  description:
    "A code works once, for 10 minutes (EMAIL_CODE_LIFETIME_MINUTES), and dies after 5 wrong " +
    "tries; only the newest one sent works. Every failure is the same 401 `invalid_code`. Tries " +
    "are counted per address and per client network before anything is checked. Using a code " +
    'proves the address. The session has `amr` `["email_otp"]`; an account with a second ' +
    "factor gets `mfa_required` instead, as after a password.",
  request: { body: jsonRequest(EmailCodeVerifySchema), query: SessionModeQuerySchema },
  responses: {
    200: jsonContent(
      envelope(z.union([TokenPairSchema, MfaRequiredSchema, CookieSessionSchema])),
      "Signed in (the user and a token pair), or `mfa_required` with an `mfa_token`",
    ),
    ...errorResponses("validation_failed", "invalid_code", "rate_limited", "csrf_failed"),
  },
});
