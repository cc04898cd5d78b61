/**
 * Route contracts of sign-in with an identity provider and of linked identities (README: Sign-in
 * with an identity provider).
 */
import { createRoute, z } from "@hono/zod-openapi";
import { requireUser } from "../../auth/middleware";
import { MfaRequiredSchema } from "../mfa/mfa.schemas";
import { envelope, errorResponses, jsonContent, jsonRequest } from "../openapi";
import { tags } from "../tags";
import {
  CookieSessionSchema,
  SessionModeQuerySchema,
  TokenPairSchema,
} from "../users/users.schemas";
import {
  AuthorizeQuerySchema,
  CallbackQuerySchema,
  ExchangeBodySchema,
  IdentityIdParamSchema,
  IdentitySchema,
  LinkBodySchema,
  LinkConfirmBodySchema,
  LinkConfirmedSchema,
  LinkResultSchema,
  ProviderParamSchema,
  ProviderSchema,
} from "./oauth.schemas";

const tagged = tags("Identity providers");
const bearer = [{ bearerAuth: [] }];
const signedIn = ["authentication_required", "invalid_token", "token_expired"] as const;
const stepUp = ["mfa_required", "reauthentication_required"] as const;

const redirect = (description: string) => ({
  description,
  headers: z.object({ Location: z.string().openapi({ description: "Where the browser goes" }) }),
});

export const providers = createRoute({
  method: "get",
  path: "/auth/oauth/providers",
  tags: tagged,
  summary: "The identity providers one may sign in with",
  responses: {
    200: jsonContent(envelope(z.array(ProviderSchema)), "Configured providers (OAUTH_PROVIDERS)"),
  },
});

export const authorize = createRoute({
  method: "get",
  path: "/auth/oauth/{provider}/authorize",
  tags: tagged,
  summary: "Start signing in with a provider (open in the browser)",
  description:
    "Redirects to the provider: authorization code flow with PKCE (S256), `state` and `nonce`. " +
    "The request is bound to this browser by the `__Host-oauth-binding` cookie, and lasts 10 " +
    "minutes. `redirect_to` must be on an allowed origin (else 400, no redirect).",
  request: { params: ProviderParamSchema, query: AuthorizeQuerySchema },
  responses: {
    302: redirect("To the provider's sign-in page"),
    ...errorResponses("validation_failed", "not_found", "rate_limited", "service_unavailable"),
  },
});

const callbackResponses = {
  302: redirect(
    "To `redirect_to`: with `?code=` (token mode), signed in with cookies and " +
      "`#csrf_token=` (cookie mode), `#mfa_token=` (cookie mode, a second factor is due), " +
      "`?link_code=` (a link, to confirm at POST /auth/identities/confirm/), or " +
      "`?error=` (`access_denied`, `oauth_failed`, `identity_not_linked`, `identity_taken`, " +
      "`email_required`, `email_not_verified`)",
  ),
  ...errorResponses("oauth_failed", "not_found", "rate_limited"),
};

const callbackDescription =
  "Where the provider sends the user back. A `state` that is unknown, expired, used before, " +
  "or presented by another browser answers 400 `oauth_failed` and signs nobody in.";

export const callback = createRoute({
  method: "get",
  path: "/auth/oauth/{provider}/callback",
  tags: tagged,
  summary: "The provider's answer (redirect URI)",
  description: callbackDescription,
  request: { params: ProviderParamSchema, query: CallbackQuerySchema },
  responses: callbackResponses,
});

export const callbackFormPost = createRoute({
  method: "post",
  path: "/auth/oauth/{provider}/callback",
  tags: tagged,
  summary: "The provider's answer, posted (response_mode=form_post: Apple)",
  description: callbackDescription,
  request: {
    params: ProviderParamSchema,
    body: {
      content: { "application/x-www-form-urlencoded": { schema: CallbackQuerySchema } },
      required: true,
    },
  },
  responses: callbackResponses,
});

export const exchange = createRoute({
  method: "post",
  path: "/auth/oauth/token",
  tags: tagged,
  summary: "Exchange the code given to redirect_to for the session",
  description:
    'Single use, within a minute of the callback. The session has `amr` `["oauth"]`; an ' +
    "account with a second factor gets `mfa_required` instead, as after a password.",
  request: { body: jsonRequest(ExchangeBodySchema), query: SessionModeQuerySchema },
  responses: {
    200: jsonContent(
      envelope(z.union([TokenPairSchema, MfaRequiredSchema, CookieSessionSchema])),
      "Signed in (the user and a token pair), or `mfa_required` with an `mfa_token`",
    ),
    ...errorResponses("validation_failed", "invalid_code", "rate_limited", "csrf_failed"),
  },
});

export const confirmLink = createRoute({
  method: "post",
  path: "/auth/identities/confirm",
  tags: tagged,
  summary: "Finish linking a provider to my account",
  description:
    "With the `link_code` the callback gave `redirect_to`, and the token of the user who started " +
    "the link (within 10 minutes): anyone else's is 401 `invalid_code`, so a link URL opened by " +
    "someone else links nothing. 409 `identity_taken` if another account has the identity.",
  security: bearer,
  middleware: [requireUser] as const,
  request: { body: jsonRequest(LinkConfirmBodySchema) },
  responses: {
    200: jsonContent(envelope(LinkConfirmedSchema), "Linked"),
    ...errorResponses("validation_failed", ...signedIn, "invalid_code", "identity_taken"),
  },
});

export const listIdentities = createRoute({
  method: "get",
  path: "/auth/identities",
  tags: tagged,
  summary: "My linked identities",
  security: bearer,
  middleware: [requireUser] as const,
  responses: {
    200: jsonContent(envelope(z.array(IdentitySchema)), "Identities, oldest first"),
    ...errorResponses(...signedIn),
  },
});

export const linkIdentity = createRoute({
  method: "post",
  path: "/auth/oauth/{provider}/link",
  tags: tagged,
  summary: "Start linking a provider to my account",
  description:
    "Answers a URL to open in the user's browser; the provider's callback then hands " +
    "`redirect_to` a `link_code` that this user confirms at POST /auth/identities/confirm/. " +
    "Needs a sign-in within the last 10 minutes (and `aal2` with a second factor).",
  security: bearer,
  middleware: [requireUser] as const,
  request: {
    params: ProviderParamSchema,
    body: { ...jsonRequest(LinkBodySchema), required: false },
  },
  responses: {
    201: jsonContent(envelope(LinkResultSchema), "The URL that starts the link"),
    ...errorResponses("validation_failed", ...signedIn, ...stepUp, "not_found"),
  },
});

export const unlinkIdentity = createRoute({
  method: "delete",
  path: "/auth/identities/{id}",
  tags: tagged,
  summary: "Unlink one of my identities",
  description:
    "Never the last way to sign in: without a password, another identity or a passkey, 409 " +
    "`last_sign_in_method`. Needs a sign-in within the last 10 minutes (and `aal2` with a " +
    "second factor).",
  security: bearer,
  middleware: [requireUser] as const,
  request: { params: IdentityIdParamSchema },
  responses: {
    200: jsonContent(envelope(z.null()), "Unlinked"),
    ...errorResponses(...signedIn, ...stepUp, "not_found", "last_sign_in_method"),
  },
});
