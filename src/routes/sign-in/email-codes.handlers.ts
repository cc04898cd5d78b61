import type { RouteHandler } from "@hono/zod-openapi";
import type { AppEnv } from "../../app-env";
import { requestEmailCode, verifyEmailCode } from "../../email-codes/email-codes";
import { afterResponse } from "../../middleware/publish-events";
import { scope } from "../../middleware/request-context";
import { clientNetwork, emailSubject, enforceAll, perSubject } from "../../rate-limit/limits";
import { ok } from "../openapi";
import type * as routes from "./email-codes.routes";

const SENT = "If this address may sign in, we sent it a code and a link.";

export const requestCode: RouteHandler<typeof routes.requestCode, AppEnv> = async (c) => {
  const { email } = c.req.valid("json");
  // Per address whether or not it has an account: a 429 says nothing about who exists.
  await enforceAll(c, [
    perSubject("otp-ip", clientNetwork(c.get("clientIp"))),
    perSubject("otp-email", await emailSubject(email)),
  ]);
  // After the answer: neither it nor its timing may tell whether the address has an account.
  afterResponse(c, "email_code_request", (deferred) => requestEmailCode(deferred, email));
  return c.json(ok(SENT, null), 202);
};

export const verifyCode: RouteHandler<typeof routes.verifyCode, AppEnv> = async (c) => {
  const proof = c.req.valid("json");
  // A link's token is 256 random bits: guessing it is hopeless, so only the network is counted.
  await enforceAll(c, [
    perSubject("otp-verify-ip", clientNetwork(c.get("clientIp"))),
    ...("email" in proof ? [perSubject("otp-verify-email", await emailSubject(proof.email))] : []),
  ]);
  const outcome = await verifyEmailCode(scope(c), proof);
  if (outcome.kind === "mfa") return c.json(ok("Second factor required", outcome.challenge), 200);
  return c.json(ok("Signed in", outcome.pair), 200);
};
