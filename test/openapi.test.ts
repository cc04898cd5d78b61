/**
 * The OpenAPI 3.1 document at /openapi.json: it covers exactly the routes the app serves, every
 * operation says who may call it and how it can fail, and every example is valid for the schema
 * it illustrates.
 */
import type { z } from "@hono/zod-openapi";
import { beforeAll, describe, expect, it } from "vitest";
import { createApp } from "../src/app";
import { PreferencesSchema } from "../src/preferences/preferences";
import { ImportResultSchema } from "../src/routes/admin/admin.routes";
import { DeadLetterSchema } from "../src/routes/admin/operations.routes";
import { LoginResultSchema } from "../src/routes/auth/auth.schemas";
import {
  GatewayPreferencesSchema,
  GatewayUserSchema,
  GatewayValidationSchema,
} from "../src/routes/compat/siblings.routes";
import { devTools } from "../src/routes/dev/dev.index";
import { HealthSchema } from "../src/routes/health/health.routes";
import {
  ContactSchema,
  NotificationTargetsSchema,
  PushTokenLookupSchema,
  TokenValidationSchema,
} from "../src/routes/lookups/lookups.routes";
import * as mfaSchemas from "../src/routes/mfa/mfa.schemas";
import * as passkeySchemas from "../src/routes/mfa/passkeys.schemas";
import * as tokenSchemas from "../src/routes/mfa/tokens.schemas";
import { StatusEntrySchema } from "../src/routes/notifications/notifications.schemas";
import { ErrorSchema } from "../src/routes/openapi";
import { PageMetaSchema } from "../src/routes/pagination";
import { IngressResultSchema } from "../src/routes/push-requests/push-requests.routes";
import { PushTokenSchema } from "../src/routes/push-tokens/push-tokens.schemas";
import { SessionSchema } from "../src/routes/sessions/sessions.schemas";
import * as oauthSchemas from "../src/routes/sign-in/oauth.schemas";
import {
  AuditEntrySchema,
  CookieSessionSchema,
  TokenPairSchema,
  UserSchema,
} from "../src/routes/users/users.schemas";
import {
  WebhookDeliverySchema,
  WebhookEndpointSchema,
} from "../src/routes/webhooks/webhooks.routes";
import { JwksSchema } from "../src/routes/well-known/well-known.index";
import { call } from "./helpers/api";

type Json = Record<string, unknown>;
interface Operation {
  operationId?: string;
  summary?: string;
  tags?: string[];
  security?: Json[];
  deprecated?: boolean;
  parameters?: Json[];
  requestBody?: { content: Record<string, { schema: Json }> };
  responses: Record<string, Json>;
}
interface Doc {
  openapi: string;
  info: Json;
  paths: Record<string, Record<string, Operation>>;
  tags: { name: string; description?: string }[];
  components: {
    schemas: Record<string, Json>;
    securitySchemes: Record<string, Json>;
    responses: Record<string, Json>;
  };
}

/** Routes served only to show the document itself. */
const SELF = new Set(["GET /openapi.json"]);
const METHODS = ["get", "put", "post", "delete", "patch"];

let doc: Doc;
beforeAll(async () => {
  const res = await call<Doc>("GET", "http://localhost/openapi.json");
  expect(res.status).toBe(200);
  expect(res.headers.get("Content-Type")).toMatch(/^application\/json/);
  doc = res.body;
});

function operations(): [string, Operation][] {
  return Object.entries(doc.paths).flatMap(([path, item]) =>
    METHODS.filter((m) => item[m]).map((m) => [`${m.toUpperCase()} ${path}`, item[m] as Operation]),
  );
}

/** Follows a local `$ref`. */
function resolve(node: Json): Json {
  const ref = node.$ref;
  if (typeof ref !== "string") return node;
  const [, , kind, name] = ref.split("/");
  return resolve(
    (doc.components as unknown as Record<string, Record<string, Json>>)[kind ?? ""]?.[name ?? ""] ??
      {},
  );
}

describe("the document", () => {
  it("is OpenAPI 3.1 with both security schemes", () => {
    expect(doc.openapi).toBe("3.1.0");
    expect(doc.info.title).toBeTruthy();
    expect(doc.info.version).toMatch(/^\d+\.\d+\.\d+/);
    expect(doc.components.securitySchemes.bearerAuth).toMatchObject({
      type: "http",
      scheme: "bearer",
    });
    expect(doc.components.securitySchemes.serviceKey).toMatchObject({
      type: "apiKey",
      in: "header",
      name: "X-Service-Key",
    });
  });

  it("documents every registered route, and every documented route exists", () => {
    const registered = new Set(
      createApp(devTools)
        .routes.filter((r) => r.method !== "ALL")
        .map((r) => `${r.method} ${r.path.replace(/:(\w+)/g, "{$1}")}`)
        .filter((route) => !SELF.has(route)),
    );
    const documented = new Set(operations().map(([key]) => key));
    expect(
      [...registered].filter((r) => !documented.has(r)),
      "registered, not documented",
    ).toEqual([]);
    expect(
      [...documented].filter((d) => !registered.has(d)),
      "documented, not registered",
    ).toEqual([]);
    expect(registered.size).toBeGreaterThan(60);
  });
});

describe("what the usual tools need", () => {
  it("every operation has a unique camelCase operationId and says its security, [] when public", () => {
    const ids = operations().map(([key, op]) => {
      expect(op.operationId, key).toMatch(/^[a-z][A-Za-z0-9]*$/);
      expect(Array.isArray(op.security), key).toBe(true);
      return op.operationId;
    });
    expect(new Set(ids).size).toBe(ids.length);
    // Named from the route modules, not from the path.
    const login = doc.paths["/api/v1/auth/login"]?.post;
    expect(login?.operationId).toBe("authLogin");
    expect(login?.security).toEqual([]);
    expect(doc.paths["/api/v1/users/me"]?.get?.operationId).toBe("usersMeGet");
  });

  it("every pattern is a JSON Schema pattern (no regex flags), and the username's accepts names", () => {
    const patterns: string[] = [];
    const walk = (node: unknown) => {
      if (Array.isArray(node)) node.forEach(walk);
      else if (node && typeof node === "object") {
        for (const [key, value] of Object.entries(node)) {
          if (key === "pattern" && typeof value === "string") patterns.push(value);
          else walk(value);
        }
      }
    };
    walk(doc);
    expect(patterns.length).toBeGreaterThan(3);
    for (const pattern of patterns) {
      expect(pattern, pattern).not.toMatch(/\/[dgimsuyv]+$/);
      expect(() => new RegExp(pattern, "u"), pattern).not.toThrow();
    }
    expect(patterns).toContain("^[\\p{L}\\p{N}_.@+-]+$");
    expect(/^[\p{L}\p{N}_.@+-]+$/u.test("Émile.k")).toBe(true);
  });

  it("says the rules the server enforces: email format, IANA zones, provider per platform, one refresh field, non-empty path parameters", () => {
    const json = JSON.stringify(doc);
    expect(json).toContain('"format":"email"');
    // Every schema a client sends preferences in (registration, PUT, PATCH) lists the zones.
    const zones = [
      ...json.matchAll(/"timezone":\{"type":"string","maxLength":64,"enum":(\[[^\]]*\])/g),
    ];
    expect(zones.length).toBeGreaterThan(0);
    const [first] = zones.map((m) => JSON.parse(m[1] ?? "[]") as string[]);
    expect(first).toEqual(expect.arrayContaining(["UTC", "Europe/London", "America/New_York"]));
    expect(first).not.toContain("Mars/Olympus_Mons");
    const write = doc.components.schemas.PushTokenWrite as { allOf?: Json[] };
    expect(write.allOf).toHaveLength(3);
    expect(doc.components.schemas.RefreshRequest?.anyOf).toEqual([
      { required: ["refresh_token"] },
      { required: ["refresh"] },
    ]);
    for (const [key, op] of operations()) {
      for (const parameter of op.parameters ?? []) {
        const p = resolve(parameter);
        const schema = p.schema as Json;
        if (p.in === "path" && schema.type === "string") expect(schema.minLength, key).toBe(1);
      }
    }
  });
});

describe("every operation", () => {
  it("has a summary and a described tag", () => {
    const described = new Set(doc.tags.filter((t) => t.description).map((t) => t.name));
    for (const [key, op] of operations()) {
      expect(op.summary, key).toBeTruthy();
      expect(op.tags?.length, key).toBe(1);
      expect(described.has(op.tags?.[0] ?? ""), `${key}: tag ${op.tags?.[0]}`).toBe(true);
    }
  });

  it("has a success response, the shared error responses, and errors in the envelope", () => {
    for (const [key, op] of operations()) {
      const codes = Object.keys(op.responses);
      // A success, or the redirect of a browser step (a sign-in with an identity provider).
      expect(
        codes.some((c) => c.startsWith("2") || c === "302"),
        key,
      ).toBe(true);
      expect(codes, key).toContain("429");
      const write = /^(POST|PUT|PATCH|DELETE) /.test(key);
      if (write) {
        expect(codes, key).toEqual(expect.arrayContaining(["413", "415", "422"]));
        const names = (op.parameters ?? []).map((p) => resolve(p).name);
        expect(names, key).toContain("Idempotency-Key");
      } else {
        expect(codes, key).not.toContain("413");
        expect(codes, key).not.toContain("415");
      }
      for (const code of codes.filter((c) => Number(c) >= 400 && c !== "503")) {
        const schema = (
          resolve(op.responses[code] as Json).content as Record<string, { schema: Json }>
        )["application/json"]?.schema;
        expect(schema?.$ref, `${key} ${code}`).toBe("#/components/schemas/Error");
      }
    }
  });

  it("that can answer 401 names its security scheme, unless the credential is in the body", () => {
    // Login and refresh are public: the password or refresh token in the body is the credential
    // (the `mfa_token` and a second factor, a passkey assertion, an emailed code, a sign-in code).
    const credentialInBody =
      /\/(auth\/login|auth\/refresh|users\/login|users\/token\/refresh|auth\/mfa\/challenge|auth\/passkeys\/verify|auth\/otp\/verify|auth\/oauth\/token)$/;
    for (const [key, op] of operations()) {
      const security = op.security ?? [];
      if ("401" in op.responses && !credentialInBody.test(key)) {
        expect(security, key).not.toEqual([]);
      }
      if (security.length > 0) expect(op.responses, key).toHaveProperty("401");
      // A bearer token's revocation check can fail (KV unreadable): 503.
      if (security.some((r) => "bearerAuth" in r)) expect(op.responses, key).toHaveProperty("503");
      for (const requirement of security) {
        for (const scheme of Object.keys(requirement)) {
          expect(doc.components.securitySchemes, key).toHaveProperty(scheme);
        }
      }
    }
  });

  it("is deprecated exactly when it is a compatibility path", () => {
    const canonical =
      /^(GET|POST|PUT|PATCH|DELETE) (\/api\/v1\/|\/health$|\/health\/ready$|\/\.well-known\/|\/_dev\/|\/docs|\/asyncapi\.json$|\/admin(\/|$))/;
    const compat =
      /^(POST \/api\/v1\/users\/(register|login|logout|token\/refresh)$|POST \/api\/v1\/auth\/register$)/;
    for (const [key, op] of operations()) {
      const deprecated = compat.test(key) || !canonical.test(key);
      expect(op.deprecated ?? false, key).toBe(deprecated);
    }
    expect(operations().filter(([, op]) => op.deprecated)).toHaveLength(24);
  });
});

describe("examples", () => {
  it("every request body has one, and the route's own schema accepts it", () => {
    const routes = createApp(devTools).openAPIRegistry.definitions.flatMap((d) =>
      d.type === "route" ? [d.route] : [],
    );
    let checked = 0;
    for (const [key, op] of operations()) {
      const body = op.requestBody?.content["application/json"]?.schema;
      if (!body) continue;
      const example = resolve(body).example;
      expect(example, `${key} has no request example`).toBeDefined();
      const [method, path] = key.split(" ");
      const route = routes.find((r) => r.method.toUpperCase() === method && r.path === path);
      const schema = (route?.request?.body?.content["application/json"] as { schema?: z.ZodType })
        ?.schema;
      expect(schema, key).toBeDefined();
      const parsed = schema?.safeParse(example);
      expect(parsed?.success, `${key}: ${JSON.stringify(parsed?.error?.issues)}`).toBe(true);
      checked++;
    }
    expect(checked).toBeGreaterThan(30);
  });

  it("every named schema has one; response schemas accept theirs", () => {
    const responses: Record<string, z.ZodType> = {
      User: UserSchema,
      TokenPair: TokenPairSchema,
      LoginResult: LoginResultSchema,
      AuditEntry: AuditEntrySchema,
      PageMeta: PageMetaSchema,
      Preferences: PreferencesSchema,
      PushToken: PushTokenSchema,
      Session: SessionSchema,
      StatusEntry: StatusEntrySchema,
      TokenValidation: TokenValidationSchema,
      NotificationTargets: NotificationTargetsSchema,
      Health: HealthSchema,
      JWKS: JwksSchema,
      Error: ErrorSchema,
      Contact: ContactSchema,
      PrimaryPushToken: PushTokenLookupSchema,
      PushIngressResult: IngressResultSchema,
      GatewayUser: GatewayUserSchema,
      GatewayPreferences: GatewayPreferencesSchema,
      GatewayValidation: GatewayValidationSchema,
      ImportResult: ImportResultSchema,
      WebhookEndpoint: WebhookEndpointSchema,
      WebhookDelivery: WebhookDeliverySchema,
      DeadLetter: DeadLetterSchema,
      MfaFactor: mfaSchemas.FactorSchema,
      MfaRequired: mfaSchemas.MfaRequiredSchema,
      TotpEnrolment: mfaSchemas.TotpEnrolmentSchema,
      TotpVerified: mfaSchemas.TotpVerifiedSchema,
      RecoveryCodes: mfaSchemas.RecoveryCodesSchema,
      ReissuedAccessToken: tokenSchemas.AccessTokenSchema,
      WebAuthnCeremony: passkeySchemas.CeremonySchema,
      PasskeyRegistered: passkeySchemas.PasskeyRegisteredSchema,
      CookieSession: CookieSessionSchema,
      IdentityProvider: oauthSchemas.ProviderSchema,
      Identity: oauthSchemas.IdentitySchema,
      IdentityLink: oauthSchemas.LinkResultSchema,
      IdentityLinked: oauthSchemas.LinkConfirmedSchema,
      // Parts of request bodies.
      WebAuthnAssertion: passkeySchemas.AssertionSchema,
      WebAuthnAttestation: passkeySchemas.AttestationSchema,
    };
    const requestSchemas = new Set(
      operations().flatMap(([, op]) => {
        const ref = op.requestBody?.content["application/json"]?.schema.$ref;
        return typeof ref === "string" ? [ref.split("/").pop()] : [];
      }),
    );
    for (const [name, schema] of Object.entries(doc.components.schemas)) {
      expect(schema.example, `${name} has no example`).toBeDefined();
      if (requestSchemas.has(name)) continue;
      const zod = responses[name];
      expect(zod, `${name}: neither a request body nor a known response schema`).toBeDefined();
      const parsed = zod?.safeParse(schema.example);
      expect(parsed?.success, `${name}: ${JSON.stringify(parsed?.error?.issues)}`).toBe(true);
    }
  });
});
