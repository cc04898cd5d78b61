/**
 * The one error path: handlers `throw new ApiError(code, message)`; `handleError` and the
 * validation hook render the envelope. The codes are a closed list that clients may rely on.
 */
import type { Context } from "hono";
import { HTTPException } from "hono/http-exception";
import type { ContentfulStatusCode } from "hono/utils/http-status";
import { z } from "zod";
import { errorDetail, log } from "./logging";

export const ERROR_STATUS = {
  validation_failed: 400,
  invalid_json: 400,
  authentication_required: 401,
  invalid_credentials: 401,
  invalid_token: 401,
  token_expired: 401,
  refresh_token_reused: 401,
  reauthentication_required: 401,
  mfa_verification_failed: 401,
  invalid_code: 401,
  oauth_failed: 400,
  forbidden: 403,
  email_not_verified: 403,
  mfa_required: 403,
  csrf_failed: 403,
  not_found: 404,
  method_not_allowed: 405,
  conflict: 409,
  email_taken: 409,
  username_taken: 409,
  identity_not_linked: 409,
  identity_taken: 409,
  last_sign_in_method: 409,
  payload_too_large: 413,
  unsupported_media_type: 415,
  idempotency_key_reused: 422,
  rate_limited: 429,
  internal_error: 500,
  misconfigured: 500,
  service_unavailable: 503,
} as const satisfies Record<string, ContentfulStatusCode>;

export type ErrorCode = keyof typeof ERROR_STATUS;
export const ERROR_CODES = Object.keys(ERROR_STATUS) as ErrorCode[];

/** Field name (dotted path for nested fields) → human-readable messages, Django REST style. */
export type FieldErrors = Record<string, string[]>;

export class ApiError extends Error {
  readonly code: ErrorCode;
  readonly status: ContentfulStatusCode;
  readonly details: FieldErrors | undefined;
  readonly headers: Record<string, string> | undefined;

  constructor(
    code: ErrorCode,
    message: string,
    options: { details?: FieldErrors; headers?: Record<string, string>; cause?: unknown } = {},
  ) {
    super(message, { cause: options.cause });
    this.name = "ApiError";
    this.code = code;
    this.status = ERROR_STATUS[code];
    this.details = options.details;
    this.headers = options.headers;
  }
}

/** A 400 for one field, rendered exactly like a schema validation failure. */
export function fieldError(field: string, message: string): ApiError {
  return new ApiError("validation_failed", "Validation failed", {
    details: { [field]: [message] },
  });
}

interface ErrorBody {
  success: false;
  message: string;
  error: ErrorCode;
  details?: FieldErrors;
}

function errorBody(error: ApiError): ErrorBody {
  const body: ErrorBody = { success: false, message: error.message, error: error.code };
  if (error.details) body.details = error.details;
  return body;
}

/** Renders an ApiError as the envelope response. */
export function errorResponse(error: ApiError): Response {
  const headers = new Headers(error.headers);
  headers.set("Content-Type", "application/json; charset=UTF-8");
  return new Response(JSON.stringify(errorBody(error)), { status: error.status, headers });
}

/**
 * Maps what the framework throws (malformed JSON, unsupported media type, body limit) onto our
 * codes, and turns anything unexpected into a 500 that says nothing about the internals.
 */
export function toApiError(err: unknown): ApiError {
  if (err instanceof ApiError) return err;
  if (err instanceof HTTPException) {
    switch (err.status) {
      case 400:
        return new ApiError("invalid_json", "Request body is not valid JSON");
      case 413:
        return new ApiError("payload_too_large", "Request body is too large");
      case 415:
        return new ApiError("unsupported_media_type", "Request body must be application/json");
      case 401:
        return new ApiError(
          "authentication_required",
          "Authentication credentials were not provided",
        );
      case 404:
        return new ApiError("not_found", "Not found");
    }
  }
  return new ApiError("internal_error", "Internal server error", { cause: err });
}

/**
 * Typed by the one variable it reads rather than by AppEnv: the request types (src/app-env.ts)
 * depend on the configuration, which throws these errors, so errors.ts stays below both.
 */
export function handleError<E extends { Variables: { correlationId: string } }>(
  err: Error,
  c: Context<E>,
): Response {
  const apiError = toApiError(err);
  if (apiError.status >= 500) {
    // The cause goes to the log (with the correlation id), never to the client.
    log("error", "request_failed", {
      correlation_id: c.get("correlationId"),
      error: apiError.code,
      detail: errorDetail(apiError.cause ?? err),
    });
  }
  const res = errorResponse(apiError);
  // Headers a middleware set before the error (the RateLimit headers of policies already counted)
  // are not carried over by the framework when a middleware throws; they matter most on a 429.
  for (const name of CARRIED_HEADERS) {
    const value = c.res.headers.get(name);
    if (value && !res.headers.has(name)) res.headers.set(name, value);
  }
  return res;
}

const CARRIED_HEADERS = ["RateLimit", "RateLimit-Policy"];

/**
 * Django-style message for one zod issue, so clients of the replaced services see familiar text.
 * Installed as zod's global error map (below): only there is the rejected input available, which
 * tells a missing field from a wrongly typed one. Schemas with their own message keep it.
 */
function djangoMessage(issue: z.core.$ZodRawIssue): string | undefined {
  switch (issue.code) {
    case "invalid_type":
      if (issue.input === undefined) return "This field is required.";
      if (issue.input === null) return "This field may not be null.";
      switch (issue.expected) {
        case "string":
          return "Not a valid string.";
        case "boolean":
          return "Must be a valid boolean.";
        case "number":
        case "int":
          return "A valid integer is required.";
        case "object":
        case "record":
          return "Expected a dictionary of items.";
        case "array":
          return "Expected a list of items.";
        default:
          return "Invalid value.";
      }
    case "too_small":
      if (issue.origin === "string") {
        return Number(issue.minimum) === 1
          ? "This field may not be blank."
          : `Ensure this field has at least ${issue.minimum} characters.`;
      }
      return `Ensure this value is greater than or equal to ${issue.minimum}.`;
    case "too_big":
      if (issue.origin === "string") {
        return `Ensure this field has no more than ${issue.maximum} characters.`;
      }
      return `Ensure this value is less than or equal to ${issue.maximum}.`;
    case "invalid_format":
      if (issue.format === "email") return "Enter a valid email address.";
      if (issue.format === "uuid") return "Must be a valid UUID.";
      return "Enter a valid value.";
    case "invalid_value":
      return `"${shown(issue.input)}" is not a valid choice.`;
    case "unrecognized_keys":
      return "Unexpected field.";
    default:
      return undefined;
  }
}

/**
 * A rejected value as a message shows it. Not `String(value)` for objects: a client's
 * `{"toString": null}` would make that throw, and the 400 a 500.
 */
function shown(value: unknown): string {
  if (typeof value !== "object" || value === null) return String(value);
  try {
    return JSON.stringify(value).slice(0, 100);
  } catch {
    return Array.isArray(value) ? "array" : "object";
  }
}

z.config({ customError: djangoMessage });

/** Groups zod issues by field path; object-level issues go under `non_field_errors`. */
function fieldErrors(error: z.ZodError): FieldErrors {
  const details: FieldErrors = {};
  for (const issue of error.issues) {
    const paths =
      issue.code === "unrecognized_keys"
        ? issue.keys.map((key) => [...issue.path, key].join("."))
        : [issue.path.length > 0 ? issue.path.join(".") : "non_field_errors"];
    for (const path of paths) {
      const list = details[path] ?? [];
      if (!list.includes(issue.message)) list.push(issue.message);
      details[path] = list;
    }
  }
  return details;
}

export function validationError(error: z.ZodError): ApiError {
  return new ApiError("validation_failed", "Validation failed", { details: fieldErrors(error) });
}
