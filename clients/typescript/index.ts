/**
 * A typed client for the user service: openapi-fetch over the types generated from the service's
 * OpenAPI document (schema.ts). Paths, parameters, bodies and answers are checked against the
 * document when the caller compiles; at run time it is fetch and a few lines of openapi-fetch.
 */
import createClient, { type Client, type ClientOptions, type Middleware } from "openapi-fetch";
import type { paths } from "./schema.ts";

export type { components, operations, paths } from "./schema.ts";

/** An access token, or where to read the current one (it changes on every refresh). */
export type AccessToken =
  | string
  | (() => string | null | undefined | Promise<string | null | undefined>);

export interface UserServiceClientOptions {
  /** Where the service answers, e.g. `http://localhost:8787` for `npm start`. */
  baseUrl: string;
  /** A fetch of your own (a test's, a proxy's, a service binding's); the global one otherwise. */
  fetch?: ClientOptions["fetch"];
  /** Sent as `Authorization: Bearer …` on requests that do not set Authorization themselves. */
  accessToken?: AccessToken;
}

export type UserServiceClient = Client<paths>;

/** Adds the bearer token, read per request so a refreshed one is used at once. */
function bearer(accessToken: AccessToken): Middleware {
  return {
    async onRequest({ request }) {
      if (request.headers.has("Authorization")) return request;
      const token = typeof accessToken === "function" ? await accessToken() : accessToken;
      if (token) request.headers.set("Authorization", `Bearer ${token}`);
      return request;
    },
  };
}

/**
 * `client.POST("/api/v1/auth/login", { body })` and so on: each answer is `{ data, error,
 * response }`, with `data` typed by the documented success answer and `error` by the documented
 * error envelope (`{ success: false, message, error, details? }`).
 */
export function createUserServiceClient(options: UserServiceClientOptions): UserServiceClient {
  const client = createClient<paths>({
    baseUrl: options.baseUrl,
    ...(options.fetch ? { fetch: options.fetch } : {}),
  });
  if (options.accessToken !== undefined) client.use(bearer(options.accessToken));
  return client;
}
