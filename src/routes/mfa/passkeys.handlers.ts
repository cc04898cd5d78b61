import type { RouteHandler } from "@hono/zod-openapi";
import type { AppEnv } from "../../app-env";
import { registrationOptions as options, registerPasskey } from "../../mfa/passkeys";
import { passkeyOptions, passkeySignIn } from "../../mfa/passwordless";
import { scope } from "../../middleware/request-context";
import { secondFactorAttempts } from "../../rate-limit/attempts";
import { clientNetwork, enforce } from "../../rate-limit/limits";
import { respondSignedIn } from "../auth/signed-in";
import { ok } from "../openapi";
import type * as routes from "./passkeys.routes";

export const registrationOptions: RouteHandler<typeof routes.registrationOptions, AppEnv> = async (
  c,
) => {
  return c.json(
    ok("Passkey registration options", await options(scope(c), c.get("auth").userId)),
    200,
  );
};

export const register: RouteHandler<typeof routes.register, AppEnv> = async (c) => {
  const registered = await registerPasskey(scope(c), c.get("auth"), c.req.valid("json"));
  return c.json(ok("Passkey added", registered), 201);
};

export const signInOptions: RouteHandler<typeof routes.signInOptions, AppEnv> = async (c) => {
  // Each call stores a challenge: counted like sign-in attempts from this network.
  await enforce(c, "mfa-ip", clientNetwork(c.get("clientIp")));
  return c.json(ok("Passkey sign-in options", await passkeyOptions(scope(c))), 200);
};

export const signIn: RouteHandler<typeof routes.signIn, AppEnv> = async (c) => {
  const { challenge_id, credential } = c.req.valid("json");
  const done = await passkeySignIn(scope(c), challenge_id, credential, secondFactorAttempts(c));
  return respondSignedIn(c, done);
};
