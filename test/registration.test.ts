/**
 * POST /users/ — registration.
 */

import { env } from "cloudflare:workers";
import { count, eq } from "drizzle-orm";
import { describe, expect, it } from "vitest";
import { verifyAccessToken } from "../src/auth/jwt";
import { getConfig } from "../src/config";
import { auditLog, outbox, preferences, sessions, users } from "../src/db/schema";
import { call, type Envelope, expectError } from "./helpers/api";
import {
  auditFor,
  claims,
  db,
  outboxFor,
  PASSWORD,
  register,
  sessionsFor,
  type TokenPair,
  uniqueEmail,
  userRow,
} from "./helpers/users";

async function counts() {
  const d = db();
  const [u] = await d.select({ n: count() }).from(users);
  const [p] = await d.select({ n: count() }).from(preferences);
  const [s] = await d.select({ n: count() }).from(sessions);
  const [o] = await d.select({ n: count() }).from(outbox);
  const [a] = await d.select({ n: count() }).from(auditLog);
  return { users: u?.n, preferences: p?.n, sessions: s?.n, outbox: o?.n, audit: a?.n };
}

describe("registration", () => {
  it("creates the user, preferences, a session, an audit row and a user.created event", async () => {
    const email = uniqueEmail("Reg");
    const res = await call<Envelope<TokenPair>>("POST", "/users/", {
      body: {
        email: `  ${email.toUpperCase()}  `,
        password: PASSWORD,
        name: "Ada Lovelace",
        username: `Ada_${crypto.randomUUID().slice(0, 8)}`,
        push_token: "device-token-1",
        preferences: { push: false, email_marketing: true, timezone: "Europe/Paris" },
      },
    });
    expect(res.status, res.text).toBe(201);
    const { user, access_token, refresh_token, token_type, expires_in } = res.body.data;
    expect(res.body.success).toBe(true);
    expect(token_type).toBe("Bearer");
    expect(expires_in).toBe(900);
    expect(refresh_token).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(user).toMatchObject({
      email: email.toLowerCase(),
      name: "Ada Lovelace",
      role: "user",
      is_active: true,
      email_verified: false,
      push_token: "device-token-1",
      preferences: { email: true, push: false },
      last_login_at: null,
    });
    expect(user.user_id).toBe(user.id);
    expect(Object.keys(user).sort()).toEqual(
      [
        "created_at",
        "email",
        "email_verified",
        "id",
        "is_active",
        "last_login_at",
        "name",
        "preferences",
        "push_token",
        "role",
        "updated_at",
        "user_id",
        "username",
      ].sort(),
    );

    const claimsOf = await verifyAccessToken(getConfig(env), access_token);
    expect(claimsOf).toMatchObject({ userId: user.id, email: user.email, role: "user" });

    const [prefs] = await db().select().from(preferences).where(eq(preferences.user_id, user.id));
    expect(prefs).toMatchObject({
      email: true,
      push: false,
      email_marketing: true,
      push_marketing: false,
      email_security: true,
      timezone: "Europe/Paris",
      frequency_limit: 50,
    });
    const userSessions = await sessionsFor(user.id);
    expect(userSessions).toHaveLength(1);
    expect(userSessions[0]?.id).toBe(claims(access_token).sid);
    expect(userSessions[0]?.refreshTokenHash).not.toBe(refresh_token);

    const [created] = await outboxFor(user.id, "user.created");
    expect(created?.event).toMatchObject({
      type: "user.created",
      version: 1,
      data: { user_id: user.id, email: user.email, username: user.username, name: "Ada Lovelace" },
    });
    expect(await auditFor(user.id, "register")).toHaveLength(1);
  });

  it("stores an Argon2id hash with the default parameters, never the password", async () => {
    const user = await register();
    const row = await userRow(user.id);
    expect(row?.passwordHash).toMatch(/^\$argon2id\$v=19\$m=19456,t=2,p=1\$/);
    expect(row?.passwordHash).not.toContain(PASSWORD);
  });

  it("applies defaults to optional fields", async () => {
    const user = await register();
    expect(user.user).toMatchObject({ username: null, name: "", push_token: null });
    const [prefs] = await db().select().from(preferences).where(eq(preferences.user_id, user.id));
    expect(prefs).toMatchObject({
      email: true,
      push: true,
      timezone: "UTC",
      quiet_hours_start: null,
    });
  });

  it("accepts the confirmation fields of the replaced services when they match", async () => {
    await register({ password2: PASSWORD });
    await register({ password_confirm: PASSWORD });
  });
});

describe("registration validation", () => {
  const cases: [string, Record<string, unknown>, Record<string, string[]>][] = [
    [
      "missing fields",
      {},
      { email: ["This field is required."], password: ["This field is required."] },
    ],
    [
      "an invalid email",
      { email: "not-an-email", password: PASSWORD },
      { email: ["Enter a valid email address."] },
    ],
    [
      "a short password",
      { email: uniqueEmail(), password: "Ab1!x" },
      { password: ["This password is too short. It must contain at least 8 characters."] },
    ],
    [
      "a common password",
      { email: uniqueEmail(), password: "Password123" },
      { password: ["This password is too common."] },
    ],
    [
      "an entirely numeric password",
      { email: uniqueEmail(), password: "8675309112358" },
      { password: ["This password is entirely numeric."] },
    ],
    [
      "a password equal to the email",
      { email: "someone.special@example.com", password: "Someone.Special@example.com" },
      { password: ["The password is too similar to the email address."] },
    ],
    [
      "a password longer than 128 characters",
      { email: uniqueEmail(), password: "a".repeat(129) },
      { password: ["Ensure this field has no more than 128 characters."] },
    ],
    [
      "a mismatched confirmation",
      { email: uniqueEmail(), password: PASSWORD, password2: "something-else-9" },
      { password2: ["The two password fields didn't match."] },
    ],
    [
      "an invalid username",
      { email: uniqueEmail(), password: PASSWORD, username: "has space" },
      {
        username: [
          "Enter a valid username. This value may contain only letters, numbers, and @/./+/-/_ characters.",
        ],
      },
    ],
    [
      "a wrong type",
      { email: uniqueEmail(), password: PASSWORD, name: 42 },
      { name: ["Not a valid string."] },
    ],
    [
      "an unknown time zone",
      { email: uniqueEmail(), password: PASSWORD, preferences: { timezone: "Mars/Olympus" } },
      { "preferences.timezone": ['"Mars/Olympus" is not a valid IANA time zone.'] },
    ],
    [
      "half of the quiet hours",
      { email: uniqueEmail(), password: PASSWORD, preferences: { quiet_hours_start: "22:00" } },
      { "preferences.quiet_hours_end": ["Quiet hours need both a start and an end."] },
    ],
    [
      "a malformed time",
      {
        email: uniqueEmail(),
        password: PASSWORD,
        preferences: { quiet_hours_start: "25:00", quiet_hours_end: "07:00" },
      },
      { "preferences.quiet_hours_start": ["Enter a valid time in HH:MM format."] },
    ],
  ];

  for (const [what, body, details] of cases) {
    it(`rejects ${what} with 400 and per-field details, writing nothing`, async () => {
      const before = await counts();
      const res = await call("POST", "/users/", { body });
      expectError(res, 400, "validation_failed");
      expect((res.body as Envelope).details).toEqual(details);
      expect(await counts()).toEqual(before);
    });
  }
});

describe("registration conflicts", () => {
  it("answers 409 email_taken for an existing email in any case, and writes nothing", async () => {
    const first = await register();
    const before = await counts();
    const res = await call("POST", "/users/", {
      body: { email: first.email.toUpperCase(), password: PASSWORD },
    });
    expectError(res, 409, "email_taken");
    expect(await counts()).toEqual(before);
  });

  it("answers 409 username_taken regardless of case, and writes nothing", async () => {
    const username = `Grace${crypto.randomUUID().slice(0, 8)}`;
    await register({ username });
    const before = await counts();
    const res = await call("POST", "/users/", {
      body: { email: uniqueEmail(), password: PASSWORD, username: username.toLowerCase() },
    });
    expectError(res, 409, "username_taken");
    expect(await counts()).toEqual(before);
  });

  it("compares usernames case-insensitively beyond ASCII", async () => {
    const suffix = crypto.randomUUID().slice(0, 8);
    await register({ username: `Émile${suffix}` });
    const res = await call("POST", "/users/", {
      body: { email: uniqueEmail(), password: PASSWORD, username: `émile${suffix}` },
    });
    expectError(res, 409, "username_taken");
  });

  it("lets only one of two concurrent registrations of an email succeed", async () => {
    const email = uniqueEmail();
    const results = await Promise.all(
      [0, 1].map(() => call("POST", "/users/", { body: { email, password: PASSWORD } })),
    );
    expect(results.map((r) => r.status).sort()).toEqual([201, 409]);
    const rows = await db().select().from(users).where(eq(users.email, email));
    expect(rows).toHaveLength(1);
  });
});
