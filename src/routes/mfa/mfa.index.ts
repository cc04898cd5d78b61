import { createRouter } from "../openapi";
import * as handlers from "./mfa.handlers";
import * as routes from "./mfa.routes";
import * as passkeyHandlers from "./passkeys.handlers";
import * as passkeys from "./passkeys.routes";

export const mfaRouter = createRouter()
  .openapi(routes.enrolTotp, handlers.enrolTotp)
  .openapi(routes.verifyTotp, handlers.verifyTotp)
  .openapi(routes.listFactors, handlers.listFactors)
  .openapi(routes.removeFactor, handlers.removeFactor)
  .openapi(routes.recoveryCodes, handlers.recoveryCodes)
  .openapi(routes.challenge, handlers.challenge)
  .openapi(routes.stepUpOptions, handlers.stepUpOptions)
  .openapi(routes.stepUpRoute, handlers.stepUpRoute)
  .openapi(routes.reauthenticate, handlers.reauthenticate)
  .openapi(passkeys.registrationOptions, passkeyHandlers.registrationOptions)
  .openapi(passkeys.register, passkeyHandlers.register)
  .openapi(passkeys.signInOptions, passkeyHandlers.signInOptions)
  .openapi(passkeys.signIn, passkeyHandlers.signIn);
