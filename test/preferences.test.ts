/**
 * GET/PUT/PATCH /users/preferences/ and the KV cache behind them.
 */
import { env } from "cloudflare:workers";
import { eq } from "drizzle-orm";
import { afterEach, describe, expect, it, vi } from "vitest";
import { preferences } from "../src/db/schema";
import { kvKeys } from "../src/kv";
import { call, callWith, type Envelope, expectError, request } from "./helpers/api";
import { Trace, tracedBindings } from "./helpers/round-trips";
import { db, outboxFor, register, SERVICE } from "./helpers/users";

type Prefs = Record<string, unknown>;

const DEFAULTS = {
  email: true,
  push: true,
  email_marketing: false,
  email_transactional: true,
  email_security: true,
  email_system: true,
  push_marketing: false,
  push_transactional: true,
  push_security: true,
  push_system: true,
  quiet_hours_start: null,
  quiet_hours_end: null,
  timezone: "UTC",
  frequency_limit: 50,
};

const get = (token: string) => call<Envelope<Prefs>>("GET", "/users/preferences/", { token });
const patch = (token: string, body: Prefs) =>
  call<Envelope<Prefs>>("PATCH", "/users/preferences/", { token, body });
const put = (token: string, body: Prefs) =>
  call<Envelope<Prefs>>("PUT", "/users/preferences/", { token, body });
const cached = (userId: string) => env.KV.get<Prefs>(kvKeys.preferences(userId), "json");
async function stored(userId: string) {
  const [row] = await db().select().from(preferences).where(eq(preferences.user_id, userId));
  return row;
}

afterEach(() => {
  vi.restoreAllMocks();
});

describe("reading", () => {
  it("returns every field with its default", async () => {
    const user = await register();
    const res = await get(user.access_token);
    expect(res.status).toBe(200);
    const { updated_at, ...fields } = res.body.data;
    expect(fields).toEqual(DEFAULTS);
    expect(typeof updated_at).toBe("string");
  });

  it("returns what registration set", async () => {
    const user = await register({
      preferences: {
        push: false,
        quiet_hours_start: "22:00",
        quiet_hours_end: "07:00",
        timezone: "Asia/Tokyo",
      },
    });
    expect((await get(user.access_token)).body.data).toMatchObject({
      push: false,
      quiet_hours_start: "22:00",
      quiet_hours_end: "07:00",
      timezone: "Asia/Tokyo",
    });
  });

  it("requires a user's bearer token; a service key is not one", async () => {
    expectError(await call("GET", "/users/preferences/"), 401, "authentication_required");
    expectError(
      await call("GET", "/users/preferences/", { headers: SERVICE }),
      401,
      "authentication_required",
    );
    const asBearer = { Authorization: `Bearer ${SERVICE["X-Service-Key"]}` };
    expectError(
      await call("GET", "/users/preferences/", { headers: asBearer }),
      401,
      "invalid_token",
    );
  });
});

describe("updating", () => {
  it("PATCH changes only what it sends and emits preferences.updated", async () => {
    const user = await register();
    const res = await patch(user.access_token, { email_marketing: true, frequency_limit: 10 });
    expect(res.status, res.text).toBe(200);
    expect(res.body.data).toMatchObject({
      ...DEFAULTS,
      email_marketing: true,
      frequency_limit: 10,
    });
    const [event] = await outboxFor(user.id, "preferences.updated");
    expect(event?.event.data).toMatchObject({
      user_id: user.id,
      changed: ["email_marketing", "frequency_limit"],
      preferences: { email_marketing: true, frequency_limit: 10 },
    });
  });

  it("PUT resets what it does not send to the defaults", async () => {
    const user = await register({ preferences: { push: false, email_marketing: true } });
    const res = await put(user.access_token, { timezone: "Europe/Berlin" });
    expect(res.status, res.text).toBe(200);
    const { updated_at: _u, ...fields } = res.body.data;
    expect(fields).toEqual({ ...DEFAULTS, timezone: "Europe/Berlin" });
  });

  it("keeps both of two concurrent PATCHes of different fields", async () => {
    const user = await register();
    const results = await Promise.all([
      patch(user.access_token, { push_marketing: true }),
      patch(user.access_token, { timezone: "Europe/Paris" }),
    ]);
    expect(results.map((r) => r.status)).toEqual([200, 200]);
    expect(await stored(user.id)).toMatchObject({ push_marketing: true, timezone: "Europe/Paris" });
  });

  it("writes nothing when nothing changes", async () => {
    const user = await register();
    const before = await stored(user.id);
    await patch(user.access_token, { push: true });
    expect(await stored(user.id)).toEqual(before);
    expect(await outboxFor(user.id, "preferences.updated")).toHaveLength(0);
  });

  it("stores the time zone in its canonical spelling", async () => {
    const user = await register();
    const res = await patch(user.access_token, { timezone: "america/new_york" });
    expect(res.body.data.timezone).toBe("America/New_York");
  });

  const invalid: [string, Prefs, Record<string, string[]>][] = [
    [
      "a malformed time",
      { quiet_hours_start: "7:00", quiet_hours_end: "08:00" },
      { quiet_hours_start: ["Enter a valid time in HH:MM format."] },
    ],
    [
      "an unknown time zone",
      { timezone: "Nowhere/Land" },
      { timezone: ['"Nowhere/Land" is not a valid IANA time zone.'] },
    ],
    [
      "a negative frequency limit",
      { frequency_limit: -1 },
      { frequency_limit: ["Ensure this value is greater than or equal to 0."] },
    ],
    ["a non-boolean switch", { push: "no" }, { push: ["Must be a valid boolean."] }],
    [
      "half of the quiet hours",
      { quiet_hours_end: "06:30" },
      { quiet_hours_start: ["Quiet hours need both a start and an end."] },
    ],
  ];
  for (const [what, body, details] of invalid) {
    it(`rejects ${what} and changes nothing`, async () => {
      const user = await register();
      const before = await stored(user.id);
      const res = await patch(user.access_token, body);
      expectError(res, 400, "validation_failed");
      expect((res.body as Envelope).details).toEqual(details);
      expect(await stored(user.id)).toEqual(before);
    });
  }

  it("clears quiet hours when both are set to null", async () => {
    const user = await register({
      preferences: { quiet_hours_start: "22:00", quiet_hours_end: "07:00" },
    });
    const res = await patch(user.access_token, { quiet_hours_start: null, quiet_hours_end: null });
    expect(res.body.data).toMatchObject({ quiet_hours_start: null, quiet_hours_end: null });
  });
});

describe("the KV cache", () => {
  it("is filled by the first read", async () => {
    const user = await register();
    expect(await cached(user.id)).toBeNull();
    const res = await get(user.access_token);
    expect(await cached(user.id)).toEqual(res.body.data);
  });

  it("serves a read from KV alone: no D1 query on a hit", async () => {
    const user = await register();
    await get(user.access_token);
    const prepare = vi.spyOn(env.DB, "prepare");
    const batch = vi.spyOn(env.DB, "batch");
    const res = await callWith(
      {},
      request("GET", "/users/preferences/", { token: user.access_token }),
    );
    expect(res.status).toBe(200);
    expect(prepare).not.toHaveBeenCalled();
    expect(batch).not.toHaveBeenCalled();
  });

  it("reads its own write, and the cache holds it (write-through)", async () => {
    const user = await register();
    await get(user.access_token);
    await patch(user.access_token, {
      push_marketing: true,
      quiet_hours_start: "23:00",
      quiet_hours_end: "06:00",
    });
    const after = await get(user.access_token);
    expect(after.body.data).toMatchObject({ push_marketing: true, quiet_hours_start: "23:00" });
    expect(await cached(user.id)).toEqual(after.body.data);
  });

  it("leaves no stale entry behind on any write path", async () => {
    const user = await register();
    const matchesD1 = async () => {
      const row = await stored(user.id);
      const value = await cached(user.id);
      expect(value).toMatchObject({
        email: row?.email,
        push: row?.push,
        push_marketing: row?.push_marketing,
        timezone: row?.timezone,
        updated_at: row?.updated_at.toISOString(),
      });
    };
    await get(user.access_token);
    await patch(user.access_token, { push_marketing: true });
    await matchesD1();
    await put(user.access_token, { timezone: "Europe/Paris" });
    await matchesD1();
    // The profile's channel switches are the same preferences.
    await call("PATCH", "/users/me/", {
      token: user.access_token,
      body: { preferences: { email: false } },
    });
    await matchesD1();
    expect((await get(user.access_token)).body.data).toMatchObject({
      email: false,
      timezone: "Europe/Paris",
    });
  });
});

describe("profile reads", () => {
  it("cost one D1 query", async () => {
    const user = await register();
    const trace = new Trace();
    const res = await callWith(
      tracedBindings(trace),
      request("GET", "/users/me/", { token: user.access_token }),
    );
    expect(res.status).toBe(200);
    expect(trace.summary()).toMatchObject({ d1: 1, d1Statements: 1 });
  });
});
