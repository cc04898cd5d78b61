/**
 * The OpenAPI 3.1 document served at /openapi.json, generated from the same zod route contracts
 * that validate requests. What every route shares — the general rate limit (429), idempotency
 * headers on writes (409/422), the correlation id, the tag list — is added here once, so the
 * route files only say what is particular to each route.
 */
import type { OpenAPIHono } from "@hono/zod-openapi";
import type { AppEnv } from "../app-env";
import { WRITE_METHODS } from "../middleware/json-body";
import { ErrorSchema } from "./openapi";
import { nameOperations, operationIdFromPath } from "./operation-ids";
import { documentTags } from "./tags";

type Document = ReturnType<OpenAPIHono<AppEnv>["getOpenAPI31Document"]>;
type Operation = {
  operationId?: string;
  tags?: string[];
  security?: Record<string, string[]>[];
  parameters?: unknown[];
  responses: Record<string, unknown>;
  deprecated?: boolean;
};

const METHODS = ["get", "put", "post", "delete", "patch", "head", "options"] as const;

const ref = (kind: string, name: string) => ({ $ref: `#/components/${kind}/${name}` });
const errorContent = { "application/json": { schema: ref("schemas", "Error") } };

/** `hidden` paths are left out (routes that do not answer where the document is served). */
export function buildOpenApiDocument(
  app: OpenAPIHono<AppEnv>,
  version: string,
  hidden: ReadonlySet<string> = new Set(),
): Document {
  // The Error schema is registered by name through the routes that use it; make sure it exists.
  app.openAPIRegistry.register("Error", ErrorSchema);
  nameOperations(app.openAPIRegistry.definitions);
  const doc = app.getOpenAPI31Document({
    openapi: "3.1.0",
    info: {
      title: "User Service API",
      version,
      description:
        "Identity and user service: accounts, credentials, sessions and tokens, notification " +
        "preferences, push devices and delivery status.\n\n" +
        "Every answer is the JSON envelope `{ success, message, data }` or, for errors, " +
        "`{ success: false, message, error, details? }` with a stable `error` code. Writes take " +
        "`Idempotency-Key`; every answer carries `X-Correlation-ID`; rate-limited answers carry " +
        "`RateLimit-Policy` / `RateLimit` and, over a limit, 429 with `Retry-After`.",
      license: { name: "Proprietary", url: "https://example.com/user-service/license" },
    },
    servers: [{ url: "/", description: "This service" }],
  });

  for (const path of hidden) delete doc.paths?.[path];

  doc.components ??= {};
  doc.components.parameters = {
    ...doc.components.parameters,
    IdempotencyKey: {
      name: "Idempotency-Key",
      in: "header",
      required: false,
      description:
        "Makes a retry of this write return the first answer (with `Idempotent-Replayed: true`) " +
        "for 24 h instead of running again. 1–255 visible ASCII characters; a UUID per operation.",
      schema: { type: "string", minLength: 1, maxLength: 255 },
      example: "5f0c8a9e-4c1b-4f5e-9d51-2b8f3f0e7a11",
    },
    RequestId: {
      name: "X-Request-ID",
      in: "header",
      required: false,
      deprecated: true,
      description: "The older name of `Idempotency-Key`, accepted the same way.",
      schema: { type: "string", minLength: 1, maxLength: 255 },
    },
    CorrelationId: {
      name: "X-Correlation-ID",
      in: "header",
      required: false,
      description:
        "Carried into logs and events, and echoed on the answer; generated when absent or " +
        "malformed (1–128 of `A-Za-z0-9._:-`).",
      schema: { type: "string", maxLength: 128 },
    },
  };
  doc.components.headers = {
    ...doc.components.headers,
    "Retry-After": {
      description: "Seconds until a retry can succeed.",
      schema: { type: "integer" },
    },
    RateLimit: {
      description: 'Per policy: `"<policy>";r=<remaining>;t=<seconds to reset>`.',
      schema: { type: "string" },
    },
    "RateLimit-Policy": {
      description: 'Per policy: `"<policy>";q=<quota>;w=<window seconds>`.',
      schema: { type: "string" },
    },
    "X-Correlation-ID": {
      description: "The request's correlation id.",
      schema: { type: "string" },
    },
  };
  doc.components.responses = {
    ...doc.components.responses,
    RateLimited: {
      description: "Rate limited (the general per-client limit, or the route's own).",
      headers: {
        "Retry-After": ref("headers", "Retry-After"),
        RateLimit: ref("headers", "RateLimit"),
        "RateLimit-Policy": ref("headers", "RateLimit-Policy"),
        "X-Correlation-ID": ref("headers", "X-Correlation-ID"),
      },
      content: errorContent,
    },
    IdempotencyConflict: {
      description: "A request with this Idempotency-Key is still in progress (`conflict`).",
      headers: { "Retry-After": ref("headers", "Retry-After") },
      content: errorContent,
    },
    AuthenticationUnavailable: {
      description:
        "The revocation deny-list could not be read (`service_unavailable`): retry shortly.",
      content: errorContent,
    },
    CsrfFailed: {
      description:
        "Forbidden (`forbidden`), or, for a browser session's request, a missing or wrong " +
        "`X-CSRF-Token` or a foreign `Origin` (`csrf_failed`, README: Browser sessions).",
      content: errorContent,
    },
    IdempotencyKeyReused: {
      description: "This Idempotency-Key was used with another body (`idempotency_key_reused`).",
      content: errorContent,
    },
  };

  const usedTags = new Set<string>();
  const usedIds = new Set<string>();
  for (const [path, item] of Object.entries(doc.paths ?? {})) {
    for (const method of METHODS) {
      const op = (item as Record<string, Operation | undefined>)[method];
      if (!op) continue;
      for (const tag of op.tags ?? []) usedTags.add(tag);
      // A router mounted twice (health under /api/v1 and at the root) names the second one apart.
      let id = op.operationId ?? operationIdFromPath(method, path, op.deprecated === true);
      if (usedIds.has(id)) id = `${id}${path.startsWith("/api/") ? "Api" : "Root"}`;
      usedIds.add(id);
      op.operationId = id;
      // Public unless a route says otherwise: tools want that said, not left to be guessed.
      op.security ??= [];
      // A path parameter is never empty (the router matches no empty segment).
      for (const parameter of op.parameters ?? []) {
        const p = parameter as { in?: string; schema?: { type?: string; minLength?: number } };
        if (p.in === "path" && p.schema?.type === "string") p.schema.minLength ??= 1;
      }
      op.parameters = [...(op.parameters ?? []), ref("parameters", "CorrelationId")];
      op.responses["429"] ??= ref("responses", "RateLimited");
      if ((op.security ?? []).some((requirement) => "bearerAuth" in requirement)) {
        op.responses["503"] ??= ref("responses", "AuthenticationUnavailable");
        // The access cookie of a browser session is taken wherever a bearer token is.
        op.security = [...(op.security ?? []), { browserSession: [] }];
        if (WRITE_METHODS.has(method.toUpperCase())) {
          op.responses["403"] ??= ref("responses", "CsrfFailed");
        }
      }
      if (!WRITE_METHODS.has(method.toUpperCase())) {
        // Bodies are only read on writes: a read never answers 413 or 415.
        delete op.responses["413"];
        delete op.responses["415"];
      }
      if (WRITE_METHODS.has(method.toUpperCase())) {
        // Every write's body is checked (src/middleware/json-body.ts), even where none is expected.
        op.responses["400"] ??= {
          description: "Malformed JSON or an invalid body",
          content: errorContent,
        };
        op.parameters.push(ref("parameters", "IdempotencyKey"), ref("parameters", "RequestId"));
        op.responses["409"] ??= ref("responses", "IdempotencyConflict");
        op.responses["422"] ??= ref("responses", "IdempotencyKeyReused");
      }
    }
  }
  doc.tags = documentTags(usedTags);
  return doc;
}
