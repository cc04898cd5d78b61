/** Parameters and answers of sign-in with an identity provider, and of linked identities. */
import { z } from "@hono/zod-openapi";

export const ProviderParamSchema = z.object({
  provider: z
    .string()
    .min(1)
    .max(32)
    .openapi({ param: { name: "provider", in: "path" }, example: "google" }),
});

export const IdentityIdParamSchema = z.object({
  id: z
    .string()
    .min(1)
    .max(64)
    .openapi({ param: { name: "id", in: "path" } }),
});

const redirectTo = z
  .string()
  .min(1)
  .max(2048)
  .openapi({
    description:
      "Where the user lands afterwards: an URL on APP_BASE_URL's origin or one of " +
      "OAUTH_REDIRECT_ORIGINS.",
    example: "http://localhost:3000/signed-in",
  });

export const AuthorizeQuerySchema = z.object({
  redirect_to: redirectTo.optional(),
  session: z
    .enum(["token", "cookie"])
    .optional()
    .openapi({
      description:
        "`token` (default): `redirect_to` gets `?code=` to exchange at POST /auth/oauth/token/. " +
        "`cookie` (COOKIE_SESSIONS on): the browser session is set as cookies.",
    }),
  code_challenge: z
    .string()
    .regex(/^[A-Za-z0-9_-]{43}$/, { error: "Must be the base64url SHA-256 of a PKCE verifier." })
    .optional()
    .openapi({
      description:
        "Token mode: the app's own PKCE challenge (S256). The exchange must then send its " +
        "`code_verifier`, so a code that leaks from the redirect is of no use to anyone else.",
    }),
  code_challenge_method: z.literal("S256").optional(),
  link_token: z.string().min(1).max(256).optional().openapi({
    description: "From POST /auth/oauth/{provider}/link/: link the provider to that account.",
  }),
});

export const CallbackQuerySchema = z
  .object({
    state: z.string().max(512).optional(),
    code: z.string().max(4096).optional(),
    error: z.string().max(256).optional(),
    error_description: z.string().max(2048).optional(),
    iss: z.string().max(2048).optional(),
  })
  .passthrough();

export const ExchangeBodySchema = z
  .object({
    code: z.string().min(1).max(256).openapi({ description: "The `code` given to `redirect_to`." }),
    code_verifier: z
      .string()
      .regex(/^[A-Za-z0-9._~-]{43,128}$/)
      .optional()
      .openapi({ description: "The verifier of the `code_challenge` sent to authorize, if any." }),
  })
  .openapi("OAuthExchange", { example: { code: "Hq3…" } });

export const ProviderSchema = z
  .object({ id: z.string(), name: z.string() })
  .openapi("IdentityProvider", { example: { id: "google", name: "Google" } });

export const IdentitySchema = z
  .object({
    id: z.string(),
    provider: z.string(),
    email: z.string().nullable(),
    email_verified: z.boolean(),
    created_at: z.string(),
    last_sign_in_at: z.string().nullable(),
  })
  .openapi("Identity", {
    example: {
      id: "6a1f2c9e-0b5d-4c3e-9f55-0f5a0c1d2e3f",
      provider: "google",
      email: "ada@example.com",
      email_verified: true,
      created_at: "2026-12-01T10:00:00.000Z",
      last_sign_in_at: "2026-12-01T10:00:00.000Z",
    },
  });

export const LinkBodySchema = z
  .object({ redirect_to: redirectTo.optional() })
  .openapi("IdentityLinkRequest", { example: { redirect_to: "http://localhost:3000/settings" } });

export const LinkConfirmBodySchema = z
  .object({
    code: z
      .string()
      .min(1)
      .max(256)
      .openapi({ description: "The `link_code` given to `redirect_to`." }),
  })
  .openapi("IdentityLinkConfirm", { example: { code: "Lk9…" } });

export const LinkConfirmedSchema = z
  .object({ provider: z.string() })
  .openapi("IdentityLinked", { example: { provider: "google" } });

export const LinkResultSchema = z
  .object({
    authorize_url: z.string().openapi({
      description: "Open it in the user's browser (once, within 10 minutes) to link the provider.",
    }),
    expires_in: z.number().int(),
  })
  .openapi("IdentityLink", {
    example: {
      authorize_url: "http://localhost:8787/api/v1/auth/oauth/google/authorize?link_token=Vb1k…",
      expires_in: 600,
    },
  });
