/**
 * The contract test: every answer the suite receives through `call` / `callWith` is checked
 * against the OpenAPI document's schema for that operation and status (test/helpers/api.ts), so
 * the document can never promise what the service does not do. A status the operation does not
 * document fails the test that received it; so does a body its schema refuses. Answers to paths
 * the document does not list (deliberately unknown paths, 404s) are not checked.
 */

import { exports } from "cloudflare:workers";
import { Validator } from "@cfworker/json-schema";

type Json = Record<string, unknown>;
interface Operation {
  responses: Record<string, Json>;
}
interface Doc {
  paths: Record<string, Record<string, Operation>>;
  components: Json;
}

let loaded:
  | Promise<{
      doc: Doc;
      routes: { method: string; pattern: RegExp; path: string; fixed: number }[];
    }>
  | undefined;

function load() {
  loaded ??= (async () => {
    const res = await exports.default.fetch(new Request("http://localhost/openapi.json"));
    const doc = (await res.json()) as Doc;
    const routes = Object.entries(doc.paths).flatMap(([path, item]) =>
      Object.keys(item).map((method) => ({
        method: method.toUpperCase(),
        path,
        pattern: new RegExp(`^${path.replace(/\{[^}]+\}/g, "[^/]+")}/?$`),
        // More fixed segments first: `/users/profile` before `/users/{id}`.
        fixed: path.split("/").filter((part) => part && !part.startsWith("{")).length,
      })),
    );
    routes.sort((a, b) => b.fixed - a.fixed);
    return { doc, routes };
  })();
  return loaded;
}

const validators = new Map<string, Validator>();

/**
 * The schema as the validator needs it: without examples (it indexes every object it finds by
 * `id`, and an example's `id` field is no schema id), and without `format: email`, whose syntax
 * JSON Schema validators define each their own way (this one refuses a 65-character local part
 * that the service's zod check, like Django's, accepts). Every other format is checked.
 */
function forValidator(node: unknown): unknown {
  if (Array.isArray(node)) return node.map(forValidator);
  if (!node || typeof node !== "object") return node;
  return Object.fromEntries(
    Object.entries(node)
      .filter(
        ([key, value]) =>
          key !== "example" && key !== "examples" && !(key === "format" && value === "email"),
      )
      .map(([key, value]) => [key, forValidator(value)]),
  );
}

function validatorFor(doc: Doc, key: string, schema: Json): Validator {
  let validator = validators.get(key);
  if (!validator) {
    // The schema's `$ref`s point into the document's components: give it them at its root.
    const root = forValidator({ ...schema, components: doc.components });
    validator = new Validator(root as never, "2020-12", false);
    validators.set(key, validator);
  }
  return validator;
}

function resolve(doc: Doc, node: Json): Json {
  const ref = node.$ref;
  if (typeof ref !== "string") return node;
  const [, , kind, name] = ref.split("/");
  const found = (doc.components[kind ?? ""] as Record<string, Json> | undefined)?.[name ?? ""];
  return found ? resolve(doc, found) : node;
}

/** Throws when an answer breaks the document's promise for its operation and status. */
export async function checkContract(
  request: Request,
  status: number,
  headers: Headers,
  body: unknown,
) {
  const url = new URL(request.url);
  if (url.pathname === "/openapi.json") return;
  const { doc, routes } = await load();
  const route = routes.find((r) => r.method === request.method && r.pattern.test(url.pathname));
  if (!route) return;
  const operation = doc.paths[route.path]?.[route.method.toLowerCase()];
  const key = `${route.method} ${route.path}`;
  const documented = operation?.responses[String(status)] ?? operation?.responses.default;
  if (!documented) {
    throw new Error(`contract: ${key} answered ${status}, which the document does not list`);
  }
  const response = resolve(doc, documented);
  const content = (response.content ?? {}) as Record<string, { schema?: Json }>;
  const type = headers.get("Content-Type") ?? "";
  if (!type.startsWith("application/json")) return;
  const schema = content["application/json"]?.schema;
  if (!schema) {
    throw new Error(
      `contract: ${key} ${status} answered JSON, which the document does not describe`,
    );
  }
  const result = validatorFor(doc, `${key} ${status}`, schema).validate(body);
  if (!result.valid) {
    const errors = result.errors
      .slice(-4)
      .map((e) => `${e.instanceLocation}: ${e.error}`)
      .join("; ");
    throw new Error(`contract: ${key} ${status} body does not match its schema: ${errors}`);
  }
}
