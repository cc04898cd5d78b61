import { createRouter } from "../openapi";
import * as codeHandlers from "./email-codes.handlers";
import * as codes from "./email-codes.routes";
import * as oauthHandlers from "./oauth.handlers";
import * as oauth from "./oauth.routes";

// /auth/oauth/providers before /auth/oauth/{provider}/… (which it does not match anyway).
export const signInRouter = createRouter()
  .openapi(codes.requestCode, codeHandlers.requestCode)
  .openapi(codes.verifyCode, codeHandlers.verifyCode)
  .openapi(oauth.providers, oauthHandlers.providers)
  .openapi(oauth.authorize, oauthHandlers.authorize)
  .openapi(oauth.callback, oauthHandlers.callback)
  .openapi(oauth.callbackFormPost, oauthHandlers.callbackFormPost)
  .openapi(oauth.exchange, oauthHandlers.exchange)
  .openapi(oauth.confirmLink, oauthHandlers.confirmLink)
  .openapi(oauth.listIdentities, oauthHandlers.listIdentities)
  .openapi(oauth.linkIdentity, oauthHandlers.linkIdentity)
  .openapi(oauth.unlinkIdentity, oauthHandlers.unlinkIdentity);
