/**
 * The rules the document states are the rules the server enforces (issue 17: schema-valid
 * requests were refused). For each rule the document now carries, what it allows is accepted and
 * what it forbids is refused with 400 — checked against the served document itself.
 */
import { Validator } from "@cfworker/json-schema";
import { beforeAll, describe, expect, it } from "vitest";
import { call, type Envelope } from "./helpers/api";
import { register } from "./helpers/users";

type Json = Record<string, unknown>;
let schemas: Record<string, Json>;

beforeAll(async () => {
  const res = await call<{ components: { schemas: Record<string, Json> } }>(
    "GET",
    "http://localhost/openapi.json",
  );
  schemas = res.body.components.schemas;
});

/** Whether the document's named schema accepts a body (formats aside, as in the contract test). */
function documentAccepts(name: string, body: unknown): boolean {
  const strip = (node: unknown): unknown =>
    Array.isArray(node)
      ? node.map(strip)
      : node && typeof node === "object"
        ? Object.fromEntries(
            Object.entries(node)
              .filter(([key]) => key !== "example")
              .map(([key, value]) => [key, strip(value)]),
          )
        : node;
  return new Validator(strip(schemas[name]) as never, "2020-12", false).validate(body).valid;
}

describe("the document's rules are the server's", () => {
  it("a push device's provider: every platform × provider pair the document allows is accepted, every other refused", async () => {
    const user = await register();
    let n = 0;
    for (const platform of ["web", "android", "ios"]) {
      for (const provider of ["fcm", "apns", "webpush"]) {
        const body = {
          token: `rule-token-${crypto.randomUUID()}`,
          platform,
          provider,
          device_id: `d${n++}`,
        };
        const res = await call<Envelope>("POST", "/users/push-tokens/", {
          token: user.access_token,
          body,
        });
        const allowed = documentAccepts("PushTokenWrite", body);
        expect(res.status, `${platform}/${provider}: ${res.text}`).toBe(allowed ? 201 : 400);
      }
    }
  });

  it("time zones: the document's zones are accepted (a sample), a zone it does not list is refused", async () => {
    const user = await register();
    const zones = JSON.stringify(schemas).match(/"enum":\["Africa\/Abidjan"[^\]]*\]/)?.[0];
    const listed = JSON.parse(zones?.slice(7) ?? "[]") as string[];
    expect(listed.length).toBeGreaterThan(300);
    const sample = ["UTC", ...listed.filter((_, i) => i % 37 === 0)];
    for (const timezone of sample) {
      const res = await call("PATCH", "/users/preferences/", {
        token: user.access_token,
        body: { timezone },
      });
      expect(res.status, `${timezone}: ${res.text}`).toBe(200);
    }
    const refused = await call("PATCH", "/users/preferences/", {
      token: user.access_token,
      body: { timezone: "Mars/Olympus_Mons" },
    });
    expect(refused.status).toBe(400);
  });

  it("refresh: a body with neither field is refused by the document and the server alike", async () => {
    expect(documentAccepts("RefreshRequest", {})).toBe(false);
    expect(documentAccepts("RefreshRequest", { refresh: "x" })).toBe(true);
    const res = await call("POST", "/auth/refresh/", { body: {} });
    expect(res.status).toBe(400);
  });

  it("usernames: the document's pattern accepts what the server accepts, and refuses what it refuses", async () => {
    const pattern = new RegExp(
      (JSON.stringify(schemas).match(/"pattern":"(\^\[\\\\p\{L\}[^"]*)"/)?.[1] ?? "").replaceAll(
        "\\\\",
        "\\",
      ),
      "u",
    );
    for (const [username, ok] of [
      ["Émile.k", true],
      ["ada+1@x", true],
      ["no spaces", false],
      ["semi;colon", false],
    ] as const) {
      expect(pattern.test(username), username).toBe(ok);
      const user = await register();
      const res = await call("PATCH", "/users/me/", {
        token: user.access_token,
        body: { username },
      });
      expect(res.status, `${username}: ${res.text}`).toBe(ok ? 200 : 400);
    }
  });
});
