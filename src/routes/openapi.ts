/**
 * Shared pieces of every router: the router factory (with the validation hook), the response
 * envelope schemas and the standard error responses, so the OpenAPI document and the handlers'
 * types come from the same zod schemas.
 */
import { OpenAPIHono, z } from "@hono/zod-openapi";
import type { AppEnv } from "../app-env";
import { ERROR_CODES, ERROR_STATUS, type ErrorCode, validationError } from "../errors";
import { CachedTrieRouter } from "./route-cache";

/** A router whose failed validations become the 400 `validation_failed` envelope. */
export function createRouter() {
  return new OpenAPIHono<AppEnv>({
    strict: false,
    router: new CachedTrieRouter(),
    defaultHook: (result) => {
      if (!result.success) throw validationError(result.error);
    },
  });
}

export const ErrorSchema = z
  .object({
    success: z.literal(false),
    message: z.string(),
    error: z.enum(ERROR_CODES as [ErrorCode, ...ErrorCode[]]),
    details: z
      .record(z.string(), z.array(z.string()))
      .optional()
      .openapi({ description: "Per-field messages, only for validation errors." }),
  })
  .openapi("Error", {
    example: {
      success: false,
      message: "Validation failed",
      error: "validation_failed",
      details: { email: ["Enter a valid email address."] },
    },
  });

/** `{ success: true, message, data }` around a data schema. */
export function envelope<T extends z.ZodType>(data: T) {
  return z.object({ success: z.literal(true), message: z.string(), data });
}

export function jsonContent<T extends z.ZodType>(schema: T, description: string) {
  return { content: { "application/json": { schema } }, description };
}

export function jsonRequest<T extends z.ZodType>(schema: T) {
  return { content: { "application/json": { schema } }, required: true };
}

const ERROR_DESCRIPTIONS: Partial<Record<number, string>> = {
  400: "Validation failed or malformed JSON",
  401: "Missing or invalid credentials",
  403: "Authenticated but not allowed",
  404: "Not found",
  409: "Conflict",
  413: "Body larger than 64 KiB",
  415: "Body is not JSON",
  422: "Idempotency key reused with another body",
  429: "Rate limited",
  500: "Internal error (never with details)",
  503: "A dependency is unavailable",
};

/** Error responses for the given codes, grouped by status, for a route's `responses`. */
export function errorResponses(...codes: ErrorCode[]) {
  const statuses = new Set<number>([...codes.map((code) => ERROR_STATUS[code]), 413, 415, 500]);
  return Object.fromEntries(
    [...statuses].map((status) => [
      status,
      jsonContent(ErrorSchema, ERROR_DESCRIPTIONS[status] ?? "Error"),
    ]),
  ) as Record<number, ReturnType<typeof jsonContent<typeof ErrorSchema>>>;
}

/** Success envelope with data, typed for `c.json(...)`. */
export function ok<T>(message: string, data: T) {
  return { success: true as const, message, data };
}
