import type { RouteHandler } from "@hono/zod-openapi";
import type { Context } from "hono";
import { getCookie, setCookie } from "hono/cookie";
import type { AppEnv } from "../../app-env";
import { setSessionCookies } from "../../auth/browser-cookies";
import type { OAuthProvider } from "../../config-sign-in";
import { fieldError } from "../../errors";
import { scope } from "../../middleware/request-context";
import { confirmLink as confirm, exchangeSignInCode } from "../../oauth/exchange";
import { listIdentities as list, unlinkIdentity as unlink } from "../../oauth/identities";
import { handleCallback } from "../../oauth/sign-in";
import {
  allowedRedirect,
  newLinkToken,
  providerById,
  redeemLinkToken,
  STATE_TTL_MS,
  startAuthorization,
} from "../../oauth/states";
import { clientNetwork, enforce } from "../../rate-limit/limits";
import { ok } from "../openapi";
import type * as routes from "./oauth.routes";

/** Binds an authorization request to the browser that started it (src/oauth/states.ts). */
const BINDING_COOKIE = "oauth-binding";

const callbackUrl = (c: Context<AppEnv>, provider: OAuthProvider) =>
  `${new URL(c.req.url).origin}/api/v1/auth/oauth/${provider.id}/callback`;

const perNetwork = (c: Context<AppEnv>) => enforce(c, "oauth-ip", clientNetwork(c.get("clientIp")));

export const providers: RouteHandler<typeof routes.providers, AppEnv> = (c) =>
  c.json(
    ok(
      "Identity providers",
      c.get("config").oauth.providers.map((p) => ({ id: p.id, name: p.name })),
    ),
    200,
  );

export const authorize: RouteHandler<typeof routes.authorize, AppEnv> = async (c) => {
  const config = c.get("config");
  const provider = providerById(config, c.req.valid("param").provider);
  const query = c.req.valid("query");
  await perNetwork(c);
  const sessionMode = query.session ?? "token";
  if (sessionMode === "cookie" && !config.cookies.enabled) {
    throw fieldError("session", "Cookie sessions are off on this service.");
  }
  if (query.redirect_to !== undefined) allowedRedirect(config, query.redirect_to);
  // Checked last: a refused request does not use the link token up.
  const link = query.link_token
    ? await redeemLinkToken(scope(c), provider, query.link_token)
    : null;
  const redirectTo = allowedRedirect(
    config,
    link?.redirectTo ?? query.redirect_to ?? config.appBaseUrl,
  );
  const started = await startAuthorization(scope(c), provider, {
    redirectTo,
    sessionMode: link ? "token" : sessionMode,
    linkUserId: link?.userId ?? null,
    callbackUrl: callbackUrl(c, provider),
    appChallenge: link ? null : (query.code_challenge ?? null),
  });
  // A provider that posts its answer back (form_post) does so cross-site: Lax would not send it.
  const formPost = provider.responseMode === "form_post";
  setCookie(c, BINDING_COOKIE, started.binding, {
    prefix: "host",
    path: "/",
    httpOnly: true,
    sameSite: formPost ? "None" : "Lax",
    maxAge: STATE_TTL_MS / 1000,
  });
  return c.redirect(started.url, 302);
};

async function answerCallback(
  c: Context<AppEnv>,
  provider: OAuthProvider,
  params: URLSearchParams,
) {
  await perNetwork(c);
  const binding = getCookie(c, BINDING_COOKIE, "host");
  const outcome = await handleCallback(
    scope(c),
    provider,
    params,
    binding,
    callbackUrl(c, provider),
  );
  setCookie(c, BINDING_COOKIE, "", { prefix: "host", path: "/", maxAge: 0 });
  if (!outcome.session) return c.redirect(outcome.location, 302);
  // The app (on this origin or another) learns the CSRF value from the fragment, which no server
  // sees; the cookie holds it too.
  const csrf = setSessionCookies(c, outcome.session);
  const landing = new URL(outcome.location);
  landing.hash = `csrf_token=${csrf}`;
  return c.redirect(landing.toString(), 302);
}

export const callback: RouteHandler<typeof routes.callback, AppEnv> = async (c) => {
  const provider = providerById(c.get("config"), c.req.valid("param").provider);
  return answerCallback(c, provider, new URL(c.req.url).searchParams);
};

export const callbackFormPost: RouteHandler<typeof routes.callbackFormPost, AppEnv> = async (c) => {
  const provider = providerById(c.get("config"), c.req.valid("param").provider);
  const form = c.req.valid("form") as Record<string, unknown>;
  const params = new URLSearchParams();
  for (const [key, value] of Object.entries(form)) {
    if (typeof value === "string") params.set(key, value);
  }
  return answerCallback(c, provider, params);
};

export const exchange: RouteHandler<typeof routes.exchange, AppEnv> = async (c) => {
  await perNetwork(c);
  const outcome = await exchangeSignInCode(scope(c), c.req.valid("json"));
  if (outcome.kind === "mfa") return c.json(ok("Second factor required", outcome.challenge), 200);
  return c.json(ok("Signed in", outcome.pair), 200);
};

export const confirmLink: RouteHandler<typeof routes.confirmLink, AppEnv> = async (c) => {
  const linked = await confirm(scope(c), c.get("auth"), c.req.valid("json").code);
  return c.json(ok("Identity linked", linked), 200);
};

export const listIdentities: RouteHandler<typeof routes.listIdentities, AppEnv> = async (c) =>
  c.json(ok("Identities", await list(c.get("db"), c.get("auth").userId)), 200);

export const linkIdentity: RouteHandler<typeof routes.linkIdentity, AppEnv> = async (c) => {
  const config = c.get("config");
  const provider = providerById(config, c.req.valid("param").provider);
  const body = c.req.valid("json") ?? {};
  const redirectTo = allowedRedirect(config, body.redirect_to ?? config.appBaseUrl);
  const token = await newLinkToken(scope(c), c.get("auth"), provider, redirectTo);
  const url = new URL(`${new URL(c.req.url).origin}/api/v1/auth/oauth/${provider.id}/authorize`);
  url.searchParams.set("link_token", token);
  return c.json(
    ok("Open the URL to link", { authorize_url: url.toString(), expires_in: 600 }),
    201,
  );
};

export const unlinkIdentity: RouteHandler<typeof routes.unlinkIdentity, AppEnv> = async (c) => {
  await unlink(scope(c), c.get("auth"), c.req.valid("param").id);
  return c.json(ok("Identity unlinked", null), 200);
};
