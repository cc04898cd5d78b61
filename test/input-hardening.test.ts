/**
 * Input hardening (issue 6): every string field has a maximum length, keys that could reach an
 * object's prototype are never honoured, and strings are stored exactly as sent.
 */
import { eq } from "drizzle-orm";
import { describe, expect, it } from "vitest";
import { PASSWORD_MAX_LENGTH } from "../src/auth/passwords";
import { notificationStatus, pushTokens, users } from "../src/db/schema";
import { call, type Envelope, expectError } from "./helpers/api";
import {
  db,
  login,
  makeAdmin,
  PASSWORD,
  register,
  SERVICE,
  uniqueEmail,
  userRow,
} from "./helpers/users";

type Auth = "none" | "user" | "service";

interface LimitCase {
  method: string;
  path: string;
  auth: Auth;
  /** A body that is valid but for the one field under test. */
  body: (over: string) => Record<string, unknown>;
  field: string;
  max: number;
  /** Makes a value of the given length that is otherwise valid for the field. */
  value?: (length: number) => string;
}

const text = (length: number) => "x".repeat(length);
const email = (length: number) => `${"a".repeat(length - "@example.com".length)}@example.com`;

const cases: LimitCase[] = [
  {
    method: "POST",
    path: "/users/",
    auth: "none",
    field: "email",
    max: 254,
    value: email,
    body: (v) => ({ email: v, password: PASSWORD }),
  },
  {
    method: "POST",
    path: "/users/",
    auth: "none",
    field: "password",
    max: PASSWORD_MAX_LENGTH,
    body: (v) => ({ email: uniqueEmail(), password: v }),
  },
  {
    method: "POST",
    path: "/users/",
    auth: "none",
    field: "name",
    max: 150,
    body: (v) => ({ email: uniqueEmail(), password: PASSWORD, name: v }),
  },
  {
    method: "POST",
    path: "/users/",
    auth: "none",
    field: "username",
    max: 150,
    body: (v) => ({ email: uniqueEmail(), password: PASSWORD, username: v }),
  },
  {
    method: "PATCH",
    path: "/users/me/",
    auth: "user",
    field: "name",
    max: 150,
    body: (v) => ({ name: v }),
  },
  {
    method: "PATCH",
    path: "/users/me/",
    auth: "user",
    field: "current_password",
    max: 1024,
    body: (v) => ({ email: uniqueEmail(), current_password: v }),
  },
  {
    method: "POST",
    path: "/auth/login/",
    auth: "none",
    field: "password",
    max: 1024,
    body: (v) => ({ email: uniqueEmail(), password: v }),
  },
  {
    method: "POST",
    path: "/auth/login/",
    auth: "none",
    field: "email",
    max: 254,
    value: email,
    body: (v) => ({ email: v, password: PASSWORD }),
  },
  {
    method: "POST",
    path: "/auth/refresh/",
    auth: "none",
    field: "refresh_token",
    max: 4096,
    body: (v) => ({ refresh_token: v }),
  },
  {
    method: "POST",
    path: "/auth/verify-email/",
    auth: "none",
    field: "token",
    max: 512,
    body: (v) => ({ token: v }),
  },
  {
    method: "POST",
    path: "/auth/password-reset/",
    auth: "none",
    field: "email",
    max: 254,
    value: email,
    body: (v) => ({ email: v }),
  },
  {
    method: "POST",
    path: "/auth/password-reset/confirm/",
    auth: "none",
    field: "token",
    max: 512,
    body: (v) => ({ token: v, password: PASSWORD }),
  },
  {
    method: "POST",
    path: "/users/change-password/",
    auth: "user",
    field: "old_password",
    max: 1024,
    body: (v) => ({ old_password: v, new_password: `${PASSWORD}-new` }),
  },
  {
    method: "POST",
    path: "/users/change-password/",
    auth: "user",
    field: "new_password",
    max: PASSWORD_MAX_LENGTH,
    body: (v) => ({ old_password: PASSWORD, new_password: v }),
  },
  {
    method: "POST",
    path: "/users/push-tokens/",
    auth: "user",
    field: "token",
    max: 4096,
    body: (v) => ({ token: v, platform: "ios" }),
  },
  {
    method: "POST",
    path: "/users/push-tokens/",
    auth: "user",
    field: "device_id",
    max: 255,
    body: (v) => ({ token: crypto.randomUUID(), platform: "ios", device_id: v }),
  },
  {
    method: "POST",
    path: "/users/push-tokens/",
    auth: "user",
    field: "device_name",
    max: 255,
    body: (v) => ({ token: crypto.randomUUID(), platform: "ios", device_name: v }),
  },
  {
    method: "PATCH",
    path: "/users/preferences/",
    auth: "user",
    field: "timezone",
    max: 64,
    body: (v) => ({ timezone: v }),
  },
  {
    method: "POST",
    path: "/email/status/",
    auth: "service",
    field: "notification_id",
    max: 255,
    body: (v) => ({ notification_id: v, status: "sent" }),
  },
  {
    method: "POST",
    path: "/email/status/",
    auth: "service",
    field: "error",
    max: 2000,
    body: (v) => ({ notification_id: crypto.randomUUID(), status: "failed", error: v }),
  },
  {
    method: "POST",
    path: "/email/status/",
    auth: "service",
    field: "metadata",
    max: 4096,
    value: (length) => JSON.stringify({ note: "x".repeat(length - '{"note":""}'.length) }),
    body: (v) => ({
      notification_id: crypto.randomUUID(),
      status: "sent",
      metadata: JSON.parse(v),
    }),
  },
  {
    method: "POST",
    path: "/auth/validate/",
    auth: "service",
    field: "token",
    max: 8192,
    body: (v) => ({ token: v }),
  },
];

async function send(c: LimitCase, value: string) {
  const user = c.auth === "user" ? await register() : undefined;
  return call<Envelope>(c.method, c.path, {
    token: user?.access_token,
    headers: c.auth === "service" ? SERVICE : {},
    body: c.body(value),
  });
}

describe("every string field has a maximum length", () => {
  it.each(cases.map((c) => [`${c.method} ${c.path} ${c.field}`, c] as const))(
    "%s: one character over is a 400 naming the field",
    async (_name, c) => {
      const make = c.value ?? text;
      const res = await send(c, make(c.max + 1));
      expectError(res, 400, "validation_failed");
      expect(Object.keys(res.body.details ?? {})).toContain(c.field);
      expect(res.body.details?.[c.field]?.join(" ")).toMatch(/no more than/);
      // At the maximum, the length is not what the answer complains about (a made-up token or
      // password may still be refused for what it is).
      const atMax = await send(c, make(c.max));
      expect(atMax.body.details?.[c.field]?.join(" ") ?? "").not.toMatch(/no more than/);
    },
  );

  it("query strings too: an over-long admin search is refused", async () => {
    const admin = await register();
    await makeAdmin(admin);
    const { body } = await login(admin.email);
    const res = await call("GET", `/users/?q=${"x".repeat(255)}`, {
      token: body.data.access_token,
    });
    expectError(res, 400, "validation_failed");
    const atMax = await call("GET", `/users/?q=${"x".repeat(254)}`, {
      token: body.data.access_token,
    });
    expect(atMax.status).toBe(200);
  });
});

describe("keys that reach an object's prototype are not honoured", () => {
  it("a __proto__ key anywhere is a 400 naming where, and nothing is written", async () => {
    const address = uniqueEmail();
    for (const body of [
      `{"email":"${address}","password":"${PASSWORD}","__proto__":{"role":"admin"}}`,
      `{"email":"${address}","password":"${PASSWORD}","preferences":{"__proto__":{"push":false}}}`,
    ]) {
      const res = await call<Envelope>("POST", "/users/", {
        body,
        headers: { "Content-Type": "application/json" },
      });
      expectError(res, 400, "validation_failed");
      expect(Object.keys(res.body.details ?? {})).toEqual([
        body.includes('"preferences"') ? "preferences.__proto__" : "__proto__",
      ]);
    }
    expect(await db().select().from(users).where(eq(users.email, address))).toHaveLength(0);
    // Nothing leaked onto Object.prototype in the Worker's isolate either.
    expect(({} as Record<string, unknown>).role).toBeUndefined();
  });

  it("constructor and prototype are plain data: kept where free-form data is allowed, never applied", async () => {
    const notificationId = crypto.randomUUID();
    const metadata = { constructor: "x", prototype: { role: "admin" }, provider: "ses" };
    const report = await call("POST", "/email/status/", {
      headers: SERVICE,
      body: { notification_id: notificationId, status: "sent", metadata },
    });
    expect(report.status, report.text).toBe(201);
    const [row] = await db()
      .select()
      .from(notificationStatus)
      .where(eq(notificationStatus.notificationId, notificationId));
    expect(row?.metadata).toEqual(metadata);

    const user = await register();
    const res = await call<Envelope<{ role: string; name: string }>>("PATCH", "/users/me/", {
      token: user.access_token,
      body: { name: "Ada", constructor: { prototype: { role: "admin" } } },
    });
    expect(res.body.data?.role ?? "user").toBe("user");
    expect((await userRow(user.id))?.role).toBe("user");
  });

  it("a number JSON can write but not hold is refused, not turned into null", async () => {
    const res = await call<Envelope>("POST", "/email/status/", {
      headers: { ...SERVICE, "Content-Type": "application/json" },
      body: `{"notification_id":"${crypto.randomUUID()}","status":"sent","metadata":{"n":1e400}}`,
    });
    expectError(res, 400, "validation_failed");
    expect(Object.keys(res.body.details ?? {})).toEqual(["metadata.n"]);
  });
});

describe("values that cannot be turned into text", () => {
  // Found by test/push-fuzz.test.ts: the message of a refused choice printed the value with
  // String(), which throws for an object whose toString is not a function.
  it("an object with no usable toString where a choice is expected is a 400, not a 500", async () => {
    const user = await register();
    const res = await call("POST", "/users/push-tokens/", {
      token: user.access_token,
      body: { token: "t", platform: { toString: null, valueOf: null } },
    });
    expectError(res, 400, "validation_failed");
    expect(res.body.details?.platform?.[0]).toContain("is not a valid choice");
  });
});

describe("strings are stored exactly as sent", () => {
  // Markup, quotes, SQL, emoji, combining characters and right-to-left text: no escaping, no
  // Unicode normalisation (escaping is the job of whoever renders it).
  const tricky = `<script>alert("x")</script> & 'O''Brien'; DROP TABLE users;-- 🙂 e\u0301 \u05e9\u05dc\u05d5\u05dd`;

  it("a name", async () => {
    const user = await register({ name: tricky });
    expect(user.user.name).toBe(tricky);
    expect((await userRow(user.id))?.name).toBe(tricky);
    const me = await call<Envelope<{ name: string }>>("GET", "/users/me/", {
      token: user.access_token,
    });
    expect(me.body.data.name).toBe(tricky);
  });

  it("a device name and a delivery error", async () => {
    const user = await register();
    const token = `device-${crypto.randomUUID()}`;
    const created = await call("POST", "/users/push-tokens/", {
      token: user.access_token,
      body: { token, platform: "android", device_name: tricky },
    });
    expect(created.status, created.text).toBe(201);
    const [device] = await db().select().from(pushTokens).where(eq(pushTokens.token, token));
    expect(device?.deviceName).toBe(tricky);

    const notificationId = crypto.randomUUID();
    const report = await call("POST", "/email/status/", {
      headers: SERVICE,
      body: {
        notification_id: notificationId,
        status: "failed",
        error: tricky,
        metadata: { tricky },
      },
    });
    expect(report.status, report.text).toBe(201);
    const [row] = await db()
      .select()
      .from(notificationStatus)
      .where(eq(notificationStatus.notificationId, notificationId));
    expect(row?.error).toBe(tricky);
    expect(row?.metadata).toEqual({ tricky });
  });

  it("a password: the exact characters, not a normalised form, are what log in", async () => {
    // "é" precomposed at registration; the decomposed spelling is a different password.
    const password = "caf\u00e9-Harbor-42";
    const user = await register({ password });
    const wrong = await call("POST", "/auth/login/", {
      body: { email: user.email, password: "cafe\u0301-Harbor-42" },
    });
    expectError(wrong, 401, "invalid_credentials");
    expect(
      (await call("POST", "/auth/login/", { body: { email: user.email, password } })).status,
    ).toBe(200);
  });

  it("the raw bytes survive the body check (escapes, separators and NUL included)", async () => {
    const name = "tab\there \\ \u2028 \u0000 end";
    const res = await call<Envelope<{ user: { id: string } }>>("POST", "/users/", {
      body: JSON.stringify({ email: uniqueEmail(), password: PASSWORD, name }),
      headers: { "Content-Type": "application/json" },
    });
    expect(res.status, res.text).toBe(201);
    expect((await userRow(res.body.data.user.id))?.name).toBe(name);
  });
});
