/**
 * Request bodies of writes: at most 64 KiB (413), JSON only (415), well-formed (400 `invalid_json`),
 * no `__proto__` key at any depth and no number out of range (400). Checked once here, before any route, so every endpoint answers the same way — including the ones
 * whose body is optional.
 */
import { createMiddleware } from "hono/factory";
import type { AppEnv } from "../app-env";
import { ApiError } from "../errors";

const MAX_BODY_BYTES = 64 * 1024;
/** The methods whose bodies are read (and whose requests can be idempotent). */
export const WRITE_METHODS = new Set(["POST", "PUT", "PATCH", "DELETE"]);
const JSON_MEDIA_TYPE = /^application\/([\w.-]+\+)?json$/i;
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
  if (!isJson) {
    throw new ApiError("unsupported_media_type", "Request body must be application/json");
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
 * What no route accepts anywhere in a body, each with its dotted path: a `__proto__` key (refused,
 * not silently dropped, so nothing a client sent is quietly lost), and numbers JSON can write but
 * not hold (`1e400` parses as Infinity).
 */
function refusedValues(value: unknown, path = ""): [string, string[]][] {
  const at = (key: string | number) => (path ? `${path}.${key}` : String(key));
  if (typeof value === "number" && !Number.isFinite(value)) {
    return [[path || "non_field_errors", ["Number is out of range."]]];
  }
  if (Array.isArray(value)) return value.flatMap((item, i) => refusedValues(item, at(i)));
  if (value === null || typeof value !== "object") return [];
  return Object.keys(value).flatMap((key): [string, string[]][] =>
    key === PROTO_KEY
      ? [[at(key), ["This key is not allowed."]]]
      : refusedValues((value as Record<string, unknown>)[key], at(key)),
  );
}
