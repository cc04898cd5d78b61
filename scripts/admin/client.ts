/**
 * Calls of the admin API with Node's fetch: the envelope unwrapped, every refusal an ApiFailure
 * with the service's error code; signing in (and out) for --email; users named by email.
 */
import { type Auth, UsageError } from "./options.ts";

export interface PageMeta {
  total: number;
  limit: number;
  page: number;
  total_pages: number;
  has_next: boolean;
  has_previous: boolean;
}

export interface Answer<T> {
  message: string;
  data: T;
  meta?: PageMeta;
}

/** The service said no (or could not be reached: code "network"): exit code 1. */
export class ApiFailure extends Error {
  readonly code: string;
  readonly details: unknown;

  constructor(code: string, message: string, details?: unknown) {
    super(message);
    this.code = code;
    this.details = details;
  }
}

type Query = Record<string, string | number | boolean | undefined>;

const TIMEOUT_MS = 30_000;

export class Client {
  readonly #base: string;
  #headers: Record<string, string>;

  constructor(url: string, headers: Record<string, string> = {}) {
    this.#base = `${url}/api/v1`;
    this.#headers = headers;
  }

  authorize(headers: Record<string, string>) {
    this.#headers = headers;
  }

  /** One call; the envelope's message, data and meta, or an ApiFailure. */
  async call<T>(method: string, path: string, query: Query = {}, body?: unknown) {
    const url = new URL(`${this.#base}${path}`);
    for (const [name, value] of Object.entries(query)) {
      if (value !== undefined) url.searchParams.set(name, String(value));
    }
    let response: Response;
    try {
      response = await fetch(url, {
        method,
        headers: {
          Accept: "application/json",
          ...(body === undefined ? {} : { "Content-Type": "application/json" }),
          ...this.#headers,
        },
        body: body === undefined ? undefined : JSON.stringify(body),
        signal: AbortSignal.timeout(TIMEOUT_MS),
      });
    } catch (err) {
      const cause = (err as Error).cause as { code?: string; message?: string } | undefined;
      const why = cause?.code ?? cause?.message ?? (err as Error).message;
      throw new ApiFailure("network", `cannot reach ${this.#base}: ${why}`);
    }
    const text = await response.text();
    let envelope: { success?: boolean; message?: string; error?: string; details?: unknown };
    try {
      envelope = JSON.parse(text) as typeof envelope;
    } catch {
      throw new ApiFailure(`http_${response.status}`, `not JSON: ${text.slice(0, 200)}`);
    }
    if (!response.ok || envelope.success !== true) {
      throw new ApiFailure(
        envelope.error ?? `http_${response.status}`,
        envelope.message ?? response.statusText,
        envelope.details,
      );
    }
    return envelope as Answer<T>;
  }
}

/** The headers of a credential given as such (--token, --service-key). */
function headersFor(auth: Exclude<Auth, { kind: "login" }>): Record<string, string> {
  return auth.kind === "token"
    ? { Authorization: `Bearer ${auth.token}` }
    : { "X-Service-Key": auth.key };
}

interface SignedIn {
  access_token?: string;
  mfa_required?: boolean;
  mfa_token?: string;
}

/** Signs in with a password (and a second factor when the account has one); the access token. */
async function signIn(client: Client, auth: Extract<Auth, { kind: "login" }>): Promise<string> {
  const login = await client.call<SignedIn>(
    "POST",
    "/auth/login/",
    {},
    {
      email: auth.email,
      password: auth.password,
    },
  );
  let data = login.data;
  if (data.mfa_required) {
    const proof =
      auth.code !== undefined
        ? { code: auth.code }
        : auth.recoveryCode !== undefined
          ? { recovery_code: auth.recoveryCode }
          : null;
    if (proof === null) {
      throw new UsageError("this account has a second factor: give --code or --recovery-code");
    }
    const challenge = await client.call<SignedIn>(
      "POST",
      "/auth/mfa/challenge/",
      {},
      {
        mfa_token: data.mfa_token,
        ...proof,
      },
    );
    data = challenge.data;
  }
  if (!data.access_token) throw new ApiFailure("unexpected", "the sign-in gave no access token");
  return data.access_token;
}

/**
 * A client with the credential in place, and what to do when the command is over: a session
 * this command opened with --email is ended again, so runs do not pile up sessions.
 */
export async function connect(url: string, auth: Auth) {
  const client = new Client(url);
  if (auth.kind !== "login") {
    client.authorize(headersFor(auth));
    return { client, close: async () => {} };
  }
  const token = await signIn(client, auth);
  client.authorize({ Authorization: `Bearer ${token}` });
  return {
    client,
    // A command that ended this very session (users sessions <self> --end) leaves nothing to end.
    close: () =>
      client.call("POST", "/auth/logout/").then(
        () => undefined,
        () => undefined,
      ),
  };
}

export interface UserObject {
  id: string;
  email: string;
  username: string | null;
  name: string | null;
  role: string;
  is_active: boolean;
  email_verified: boolean;
  push_token: string | null;
  preferences: Record<string, unknown> | null;
  created_at: string;
  updated_at: string;
  last_login_at: string | null;
}

/**
 * The id of a user named by id or email (an exact, case-insensitive match of the search). An id
 * goes into a path, so only id characters pass: "../" must not reach another route with these
 * credentials (the service answers not_found for any non-id anyway).
 */
export async function resolveUser(client: Client, ref: string): Promise<string> {
  if (!ref.includes("@")) {
    if (!/^[\w-]+$/.test(ref)) throw new ApiFailure("not_found", "User not found");
    return ref;
  }
  const wanted = ref.trim().toLowerCase();
  const found = await client.call<UserObject[]>("GET", "/users/", { q: wanted, limit: 100 });
  const user = found.data.find((u) => u.email.toLowerCase() === wanted);
  if (!user) throw new ApiFailure("not_found", `No user with email ${ref}`);
  return user.id;
}
