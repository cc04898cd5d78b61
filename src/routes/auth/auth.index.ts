import { createRouter } from "../openapi";
import * as recovery from "./account-recovery.handlers";
import * as handlers from "./auth.handlers";
import * as routes from "./auth.routes";

export const authRouter = createRouter()
  .openapi(routes.login, handlers.login)
  .openapi(routes.refresh, handlers.refresh)
  .openapi(routes.refreshBrowserSession, handlers.refreshBrowserSession)
  .openapi(routes.logout, handlers.logout)
  .openapi(routes.verifyEmail, recovery.verifyEmail)
  .openapi(routes.resendVerification, recovery.resendVerification)
  .openapi(routes.passwordReset, recovery.passwordReset)
  .openapi(routes.passwordResetConfirm, recovery.passwordResetConfirm);
