import type { RouteHandler } from "@hono/zod-openapi";
import type { AppEnv } from "../../app-env";
import { ApiError } from "../../errors";
import {
  activateTotp,
  enrolTotp as enrol,
  listFactors as list,
  removeFactor as remove,
  replaceRecoveryCodes,
} from "../../mfa/factors";
import { confirmPassword } from "../../mfa/reauthentication";
import type { SecondFactorProof } from "../../mfa/second-factor";
import { completeMfaLogin, stepUpOptions as options, stepUp } from "../../mfa/sign-in";
import { scope } from "../../middleware/request-context";
import { passwordAttempts, secondFactorAttempts } from "../../rate-limit/attempts";
import { respondSignedIn } from "../auth/signed-in";
import { ok } from "../openapi";
import type * as routes from "./mfa.routes";

/** The one proof a body carries (the schema allows exactly one). */
function proofOf(body: {
  code?: string;
  recovery_code?: string;
  webauthn?: unknown;
}): SecondFactorProof {
  if (body.code !== undefined) return { code: body.code };
  if (body.recovery_code !== undefined) return { recovery_code: body.recovery_code };
  return {
    webauthn: body.webauthn as Extract<SecondFactorProof, { webauthn: unknown }>["webauthn"],
  };
}

export const enrolTotp: RouteHandler<typeof routes.enrolTotp, AppEnv> = async (c) => {
  const enrolment = await enrol(scope(c), c.get("auth").userId, c.req.valid("json").name);
  return c.json(ok("Scan the QR code, then verify a code from the app", enrolment), 201);
};

export const verifyTotp: RouteHandler<typeof routes.verifyTotp, AppEnv> = async (c) => {
  const { factor_id, code } = c.req.valid("json");
  const attempts = secondFactorAttempts(c);
  await attempts.begin(c.get("auth").userId);
  const result = await activateTotp(scope(c), c.get("auth"), factor_id, code);
  if (!result) throw new ApiError("mfa_verification_failed", "The code is not right");
  attempts.succeeded();
  return c.json(ok("Authenticator app added", result), 200);
};

export const listFactors: RouteHandler<typeof routes.listFactors, AppEnv> = async (c) => {
  return c.json(ok("Factors retrieved", await list(c.get("db"), c.get("auth").userId)), 200);
};

export const removeFactor: RouteHandler<typeof routes.removeFactor, AppEnv> = async (c) => {
  await remove(scope(c), c.get("auth"), c.req.valid("param").id);
  return c.json(ok("Factor removed", null), 200);
};

export const recoveryCodes: RouteHandler<typeof routes.recoveryCodes, AppEnv> = async (c) => {
  const codes = await replaceRecoveryCodes(scope(c), c.get("auth").userId);
  return c.json(ok("New recovery codes; the old ones no longer work", codes), 200);
};

export const challenge: RouteHandler<typeof routes.challenge, AppEnv> = async (c) => {
  const body = c.req.valid("json");
  const done = await completeMfaLogin(
    scope(c),
    body.mfa_token,
    proofOf(body),
    secondFactorAttempts(c),
  );
  return respondSignedIn(c, done);
};

export const stepUpOptions: RouteHandler<typeof routes.stepUpOptions, AppEnv> = async (c) => {
  return c.json(ok("Passkey options", await options(scope(c), c.get("auth").userId)), 200);
};

export const stepUpRoute: RouteHandler<typeof routes.stepUpRoute, AppEnv> = async (c) => {
  const body = c.req.valid("json");
  const token = await stepUp(
    scope(c),
    c.get("auth"),
    proofOf(body),
    body.challenge_id,
    secondFactorAttempts(c),
  );
  return c.json(ok("Session raised to aal2", token), 200);
};

export const reauthenticate: RouteHandler<typeof routes.reauthenticate, AppEnv> = async (c) => {
  const attempts = passwordAttempts(c, { sessionId: c.get("auth").sid });
  const token = await confirmPassword(
    scope(c),
    c.get("auth"),
    c.req.valid("json").password,
    attempts,
  );
  return c.json(ok("Password confirmed", token), 200);
};
