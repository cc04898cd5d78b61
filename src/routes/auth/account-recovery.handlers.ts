/**
 * Email verification and password reset: the flows that run through a single-use token sent by
 * email (src/users/verification.ts, src/users/password.ts).
 */
import type { RouteHandler } from "@hono/zod-openapi";
import type { AppEnv } from "../../app-env";
import { afterResponse } from "../../middleware/publish-events";
import { scope } from "../../middleware/request-context";
import {
  clientNetwork,
  emailSubject,
  enforce,
  enforceAll,
  perSubject,
} from "../../rate-limit/limits";
import { confirmPasswordReset, requestPasswordReset } from "../../users/password";
import { resendVerification as resend, verifyEmail as verify } from "../../users/verification";
import { ok } from "../openapi";
import type * as routes from "./auth.routes";

const PASSWORD_RESET_MESSAGE =
  "If an account exists for this email, we sent a link to reset its password.";

export const verifyEmail: RouteHandler<typeof routes.verifyEmail, AppEnv> = async (c) => {
  await verify(scope(c), c.req.valid("json").token);
  return c.json(ok("Email address verified", null), 200);
};

export const resendVerification: RouteHandler<typeof routes.resendVerification, AppEnv> = async (
  c,
) => {
  const userId = c.get("auth").userId;
  await resend(scope(c), userId, () => enforce(c, "resend-user", userId));
  return c.json(ok("Verification email sent", null), 202);
};

export const passwordReset: RouteHandler<typeof routes.passwordReset, AppEnv> = async (c) => {
  const { email } = c.req.valid("json");
  // Per network, and per email whether or not it has an account (the 429 tells nothing about who
  // exists): both asked at once.
  await enforceAll(c, [
    perSubject("reset-ip", clientNetwork(c.get("clientIp"))),
    perSubject("reset-email", await emailSubject(email)),
  ]);
  // After the answer: neither it nor its timing may tell whether the email has an account.
  afterResponse(c, "password_reset_request", (deferred) => requestPasswordReset(deferred, email));
  return c.json(ok(PASSWORD_RESET_MESSAGE, null), 202);
};

export const passwordResetConfirm: RouteHandler<
  typeof routes.passwordResetConfirm,
  AppEnv
> = async (c) => {
  await confirmPasswordReset(scope(c), c.req.valid("json"));
  return c.json(ok("Password has been reset; log in with the new password", null), 200);
};
