/**
 * Request bodies of writes: at most 64 KiB (413), JSON only (415), well-formed (400 `invalid_json`),
 * within the shape limits below, with no `__proto__` key at any depth and no number out of range
 * (400). Checked once here, before any route, so every endpoint answers the same way — including
 * the ones whose body is optional.
 */
import { createMiddleware } from "hono/factory";
import type { AppEnv } from "../app-env";
import { ApiError } from "../errors";

const MAX_BODY_BYTES = 64 * 1024;
/** The methods whose bodies are read (and whose requests can be idempotent). */
export const WRITE_METHODS = new Set(["POST", "PUT", "PATCH", "DELETE"]);
const JSON_MEDIA_TYPE = /^application\/([\w.-]+\+)?json$/i;
/**
 * The one route a form posts to: an identity provider answering with `response_mode=form_post`
 * (Apple). Its body is still size-limited and must be UTF-8.
 */
const FORM_POST_PATH = /^\/api\/v1\/auth\/oauth\/[^/]+\/callback\/?$/;
const FORM_MEDIA_TYPE = "application/x-www-form-urlencoded";
/** The one key through which plain data can reach an object's prototype (`Object.assign` etc.). */
const PROTO_KEY = "__proto__";

const tooLarge = () =>
  new ApiError("payload_too_large", `Request body must not exceed ${MAX_BODY_BYTES} bytes`);

/** Reads the body with a hard byte limit, whatever Content-Length claims. */
async function readLimited(body: ReadableStream<Uint8Array>): Promise<Uint8Array> {
  const reader = body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.byteLength;
    if (size > MAX_BODY_BYTES) {
      await reader.cancel();
      throw tooLarge();
    }
    chunks.push(value);
  }
  const bytes = new Uint8Array(size);
  let offset = 0;
  for (const chunk of chunks) {
    bytes.set(chunk, offset);
    offset += chunk.byteLength;
  }
  return bytes;
}

export const jsonBody = createMiddleware<AppEnv>(async (c, next) => {
  if (!WRITE_METHODS.has(c.req.method)) return next();

  const declared = Number(c.req.header("Content-Length") ?? "0");
  if (declared > MAX_BODY_BYTES) throw tooLarge();

  const bytes = c.req.raw.body ? await readLimited(c.req.raw.body) : new Uint8Array();
  let text: string;
  try {
    text = new TextDecoder("utf-8", { fatal: true, ignoreBOM: false }).decode(bytes);
  } catch {
    throw new ApiError("invalid_json", "Request body is not valid UTF-8");
  }

  const mediaType = (c.req.header("Content-Type") ?? "").split(";")[0]?.trim() ?? "";
  const isJson = JSON_MEDIA_TYPE.test(mediaType);
  if (text.trim() === "") {
    // No body is the same as an empty object: validation then names the required fields.
    const headers = new Headers(c.req.raw.headers);
    headers.delete("Content-Length");
    c.req.raw = new Request(c.req.raw, { headers, body: isJson ? "{}" : null });
    return next();
  }
  if (!isJson && mediaType.toLowerCase() === FORM_MEDIA_TYPE && FORM_POST_PATH.test(c.req.path)) {
    c.req.raw = new Request(c.req.raw, { body: text });
    return next();
  }
  if (!isJson) {
    throw new ApiError("unsupported_media_type", "Request body must be application/json");
  }
  if (nestingDepth(text) > JSON_LIMITS.depth) {
    throw shapeError("non_field_errors", `JSON may nest at most ${JSON_LIMITS.depth} levels deep.`);
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw new ApiError("invalid_json", "Request body is not valid JSON");
  }
  const refused = refusedValues(value);
  if (refused.length > 0) {
    throw new ApiError("validation_failed", "Validation failed", {
      details: Object.fromEntries(refused),
    });
  }
  // The stream is consumed: hand the checked text on, byte for byte, to the validators (as Hono's
  // bodyLimit does). The declared length goes: the body is now a string of known length.
  const headers = new Headers(c.req.raw.headers);
  headers.delete("Content-Length");
  c.req.raw = new Request(c.req.raw, { headers, body: text });
  return next();
});

/**
 * The shape limits of any JSON body. No route needs more (the widest is a batch of push requests
 * or import rows, a few hundred items); anything beyond is refused before it reaches a validator,
 * so no input can make recursive code (zod, JSON.stringify, our own) run out of stack.
 */
export const JSON_LIMITS = { depth: 32, keys: 1_000, arrayLength: 10_000 } as const;

function shapeError(field: string, message: string) {
  return new ApiError("validation_failed", "Validation failed", {
    details: { [field]: [message] },
  });
}

/**
 * The deepest nesting of a JSON text, read off its brackets outside strings: one pass, no
 * recursion, before JSON.parse builds anything.
 */
function nestingDepth(text: string): number {
  let depth = 0;
  let deepest = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const ch = text.charCodeAt(i);
    if (inString) {
      if (ch === 0x5c)
        i++; // a backslash escapes the next character
      else if (ch === 0x22) inString = false;
    } else if (ch === 0x22) inString = true;
    else if (ch === 0x7b || ch === 0x5b) deepest = Math.max(deepest, ++depth);
    else if (ch === 0x7d || ch === 0x5d) depth--;
  }
  return deepest;
}

/**
 * What no route accepts anywhere in a body, each with its dotted path: a `__proto__` key (refused,
 * not silently dropped, so nothing a client sent is quietly lost), numbers JSON can write but not
 * hold (`1e400` parses as Infinity), and objects or arrays wider than JSON_LIMITS. An explicit
 * stack, not recursion: the depth is already bounded, but the walk must not depend on it.
 */
function refusedValues(root: unknown): [string, string[]][] {
  const refused: [string, string[]][] = [];
  const pending: { value: unknown; path: string }[] = [{ value: root, path: "" }];
  for (let next = pending.pop(); next; next = pending.pop()) {
    const { value, path } = next;
    const at = (key: string | number) => (path ? `${path}.${key}` : String(key));
    if (typeof value === "number" && !Number.isFinite(value)) {
      refused.push([path || "non_field_errors", ["Number is out of range."]]);
    } else if (Array.isArray(value)) {
      if (value.length > JSON_LIMITS.arrayLength) {
        throw shapeError(
          path || "non_field_errors",
          `Arrays may hold at most ${JSON_LIMITS.arrayLength} items.`,
        );
      }
      value.forEach((item, i) => {
        pending.push({ value: item, path: at(i) });
      });
    } else if (value !== null && typeof value === "object") {
      const keys = Object.keys(value);
      if (keys.length > JSON_LIMITS.keys) {
        throw shapeError(
          path || "non_field_errors",
          `Objects may hold at most ${JSON_LIMITS.keys} keys.`,
        );
      }
      for (const key of keys) {
        if (key === PROTO_KEY) refused.push([at(key), ["This key is not allowed."]]);
        else pending.push({ value: (value as Record<string, unknown>)[key], path: at(key) });
      }
    }
  }
  return refused.reverse();
}
