/**
 * Calling the Worker the way clients do: HTTP through `exports.default.fetch`, or through the
 * exported handler with changed vars (a different configuration, same real bindings).
 */
import { createExecutionContext, waitOnExecutionContext } from "cloudflare:test";
import { env, exports } from "cloudflare:workers";
import { expect } from "vitest";
import worker from "../../src/dev/local";
import { checkContract } from "./contract";

export const BASE = "http://localhost/api/v1";

export interface ApiResponse<T = unknown> {
  status: number;
  headers: Headers;
  body: T;
  text: string;
}

export interface Envelope<T = unknown> {
  success: boolean;
  message: string;
  data: T;
  error?: string;
  details?: Record<string, string[]>;
}

type Body = Record<string, unknown> | unknown[] | string | undefined;

export function request(
  method: string,
  path: string,
  options: { body?: Body; token?: string; headers?: Record<string, string> } = {},
): Request {
  const headers = new Headers(options.headers);
  if (options.token) headers.set("Authorization", `Bearer ${options.token}`);
  let body: string | undefined;
  if (typeof options.body === "string") body = options.body;
  else if (options.body !== undefined) {
    body = JSON.stringify(options.body);
    if (!headers.has("Content-Type")) headers.set("Content-Type", "application/json");
  }
  const url = path.startsWith("http") ? path : `${BASE}${path}`;
  return new Request(url, { method, headers, body });
}

async function read<T>(req: Request, res: Response): Promise<ApiResponse<T>> {
  const text = await res.text();
  let body: unknown = null;
  try {
    body = JSON.parse(text);
  } catch {
    body = text;
  }
  // The contract test (test/helpers/contract.ts): every answer the suite sees must be documented.
  await checkContract(req, res.status, res.headers, body);
  return { status: res.status, headers: res.headers, body: body as T, text };
}

/** Sends a request to the Worker as deployed (the default export, wrangler.toml vars). */
export async function call<T = Envelope>(
  method: string,
  path: string,
  options: { body?: Body; token?: string; headers?: Record<string, string> } = {},
): Promise<ApiResponse<T>> {
  const req = request(method, path, options);
  return read<T>(req, await exports.default.fetch(req.clone()));
}

/**
 * Sends a request with some vars or bindings replaced, e.g. a shorter grace window or a missing
 * secret. Waits for `ctx.waitUntil` work so the test sees its effects.
 */
export async function callWith<T = Envelope>(
  overrides: Partial<Record<keyof Env, unknown>>,
  req: Request,
): Promise<ApiResponse<T>> {
  const ctx = createExecutionContext();
  const res = await worker.fetch(req.clone(), { ...env, ...overrides } as Env, ctx);
  await waitOnExecutionContext(ctx);
  return read<T>(req, res);
}

/**
 * Bindings that put the general per-client ceiling at `limit` a minute: its counting is the
 * rate-limiting binding's (wrangler.toml), so a test swaps in one of the small ones
 * vitest.config.ts defines, and the var that names it in headers.
 */
export function globalCeiling(limit: 1 | 2 | 3) {
  return {
    RATE_LIMIT_GLOBAL_IP: `${limit}/60`,
    GLOBAL_LIMITER: (env as unknown as Record<string, unknown>)[`TEST_GLOBAL_LIMITER_${limit}`],
  };
}

/** Asserts the error envelope: status, stable code, and nothing but the documented fields. */
export function expectError(res: ApiResponse, status: number, code: string) {
  expect(res.status, res.text).toBe(status);
  const body = res.body as Envelope;
  expect(body.success).toBe(false);
  expect(body.error).toBe(code);
  expect(typeof body.message).toBe("string");
  for (const key of Object.keys(body)) {
    expect(["success", "message", "error", "details"]).toContain(key);
  }
}

/** The response's header names, without the per-request correlation id (for sameness checks). */
export function headerNames(res: ApiResponse): string {
  return [...res.headers.keys()]
    .filter((k) => k !== "x-correlation-id")
    .sort()
    .join(",");
}
