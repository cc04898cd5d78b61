/**
 * The TypeScript client (clients/typescript/) against the locally served Worker:
 *
 * - its schema.ts is what scripts/generate-client.ts makes of this Worker's document, so a change
 *   to the API that was not regenerated fails here;
 * - a user's session runs through it from start to end: register → login → profile → refresh →
 *   logout, after which neither the access token nor the refresh token works.
 *
 * - the served document passes the tools client authors use: Redocly's recommended lint
 *   (redocly.yaml: no error, no warning) and swagger-parser's validation.
 *
 * Run by `npm run test:client` (part of `npm test`), with Node's test runner.
 */
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { randomUUID } from "node:crypto";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import SwaggerParser from "@apidevtools/swagger-parser";
import { type LocalServer, startServer } from "../../bench/local-server.ts";
import { createUserServiceClient } from "../../clients/typescript/index.ts";
import {
  describeDrift,
  generateSchema,
  SCHEMA_PATH,
  servedDocument,
} from "../../scripts/generate-client.ts";
import { buildWasm } from "../../src/auth/wasm/build.ts";

const PORT = 8796;
const STATE = ".wrangler/e2e-client-state";

let server: LocalServer | undefined;

before(async () => {
  buildWasm();
  server = await startServer(PORT, STATE);
});

after(async () => {
  await server?.stop();
  rmSync(STATE, { recursive: true, force: true });
});

function base(): string {
  assert.ok(server, "the server started");
  return server.base;
}

describe("the generated schema", () => {
  it("is what the generator makes of the served document", async () => {
    const generated = await generateSchema(await servedDocument(base()));
    const drift = describeDrift(readFileSync(SCHEMA_PATH, "utf8"), generated);
    if (drift !== null) assert.fail(drift);
  });

  it("documents the API as deployed, without the local dev tools", async () => {
    const schema = readFileSync(SCHEMA_PATH, "utf8");
    assert.ok(schema.includes('"/api/v1/auth/login": {'), "the API is there");
    assert.ok(!schema.includes('"/_dev/'), "no /_dev/* route is");
    // The local document does list them, so the check above is not vacuous.
    const local = (await (await fetch(`${base()}/openapi.json`)).json()) as { paths: object };
    assert.ok(Object.keys(local.paths).some((path) => path.startsWith("/_dev/")));
  });
});

describe("the document, as the usual tools read it", () => {
  it("passes Redocly's recommended lint with no error and no warning", async () => {
    const dir = mkdtempSync(join(tmpdir(), "redocly-"));
    try {
      const file = join(dir, "openapi.json");
      writeFileSync(file, JSON.stringify(await servedDocument(base())));
      const lint = spawnSync(
        "node_modules/.bin/redocly",
        ["lint", file, "--config", "redocly.yaml", "--format", "json"],
        {
          encoding: "utf8",
          env: { ...process.env, REDOCLY_TELEMETRY: "off", REDOCLY_SUPPRESS_UPDATE_NOTICE: "true" },
        },
      );
      const report = JSON.parse(lint.stdout) as {
        totals: { errors: number; warnings: number };
        problems: { ruleId: string; message: string }[];
      };
      const problems = report.problems.map((p) => `${p.ruleId}: ${p.message}`).slice(0, 20);
      assert.deepEqual(
        report.totals,
        { ...report.totals, errors: 0, warnings: 0 },
        problems.join("\n"),
      );
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("is a valid OpenAPI document for swagger-parser", async () => {
    const document = (await servedDocument(base())) as unknown as Parameters<
      typeof SwaggerParser.validate
    >[0];
    await SwaggerParser.validate(structuredClone(document));
  });
});

describe("a session through the client", () => {
  it("registers, logs in, reads the profile, refreshes and logs out", async () => {
    const email = `client-${randomUUID()}@example.com`;
    const password = `Client e2e ${randomUUID()}`;
    let accessToken: string | undefined;
    const client = createUserServiceClient({ baseUrl: base(), accessToken: () => accessToken });

    const registered = await client.POST("/api/v1/users", {
      body: { email, password, name: "Client E2E" },
    });
    assert.equal(registered.response.status, 201);
    // The 202 answer (REQUIRE_EMAIL_VERIFICATION) carries no tokens; its type has no `data`.
    assert.ok(registered.data && "data" in registered.data, "registration returns tokens");
    assert.equal(registered.data.data.user.email, email);
    const userId = registered.data.data.user.id;

    const login = await client.POST("/api/v1/auth/login", { body: { email, password } });
    assert.equal(login.response.status, 200);
    assert.ok(login.data, "login succeeds");
    const session = login.data.data;
    assert.ok(!("mfa_required" in session), "no second factor is enrolled");
    assert.equal(session.user.id, userId);
    assert.equal(session.token_type, "Bearer");
    accessToken = session.access_token;

    const profile = await client.GET("/api/v1/users/me");
    assert.equal(profile.response.status, 200);
    assert.equal(profile.data?.data.email, email);
    assert.equal(profile.data?.data.id, userId);

    const refreshed = await client.POST("/api/v1/auth/refresh", {
      body: { refresh_token: session.refresh_token },
    });
    assert.equal(refreshed.response.status, 200);
    assert.ok(refreshed.data, "refresh succeeds");
    const rotated = refreshed.data.data;
    assert.notEqual(rotated.refresh_token, session.refresh_token, "the refresh token rotates");
    assert.equal(rotated.user.id, userId);
    accessToken = rotated.access_token;

    const afterRefresh = await client.GET("/api/v1/users/me");
    assert.equal(afterRefresh.response.status, 200, "the refreshed access token is sent");

    const logout = await client.POST("/api/v1/auth/logout", { body: {} });
    assert.equal(logout.response.status, 200);
    assert.ok((logout.data?.data.revoked_sessions ?? 0) >= 1, "the session is revoked");

    const afterLogout = await client.GET("/api/v1/users/me");
    assert.equal(afterLogout.response.status, 401, "the access token no longer works");
    assert.equal(afterLogout.data, undefined);
    assert.equal(afterLogout.error?.success, false);
    const refreshAfterLogout = await client.POST("/api/v1/auth/refresh", {
      body: { refresh_token: rotated.refresh_token },
    });
    assert.equal(refreshAfterLogout.response.status, 401, "nor does the refresh token");
    assert.equal(refreshAfterLogout.data, undefined, "no token is issued");
  });

  it("answers a wrong password with the typed error envelope and no tokens", async () => {
    const client = createUserServiceClient({ baseUrl: base() });
    const email = `client-${randomUUID()}@example.com`;
    const password = `Client e2e ${randomUUID()}`;
    const registered = await client.POST("/api/v1/users", { body: { email, password } });
    assert.equal(registered.response.status, 201);

    const login = await client.POST("/api/v1/auth/login", {
      body: { email, password: `${password} wrong` },
    });
    assert.equal(login.response.status, 401);
    assert.equal(login.data, undefined, "no token is issued");
    assert.equal(login.error?.error, "invalid_credentials");
  });

  it("sends no Authorization without a token, and keeps one the caller set", async () => {
    const seen: (string | null)[] = [];
    const recording = (request: Request) => {
      seen.push(request.headers.get("Authorization"));
      return fetch(request);
    };
    const anonymous = createUserServiceClient({ baseUrl: base(), fetch: recording });
    const withoutToken = await anonymous.GET("/api/v1/users/me");
    assert.equal(withoutToken.response.status, 401);

    const client = createUserServiceClient({
      baseUrl: base(),
      fetch: recording,
      accessToken: "from-the-option",
    });
    await client.GET("/api/v1/users/me", { headers: { Authorization: "Bearer from-the-call" } });
    await client.GET("/api/v1/users/me");
    assert.deepEqual(seen, [null, "Bearer from-the-call", "Bearer from-the-option"]);
  });
});
