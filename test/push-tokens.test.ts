/**
 * /users/push-tokens/ — the caller's push devices.
 */
import { eq } from "drizzle-orm";
import { describe, expect, it } from "vitest";
import { pushTokens } from "../src/db/schema";
import { call, type Envelope, expectError } from "./helpers/api";
import { db, outboxFor, register, SERVICE } from "./helpers/users";

interface Device {
  id: string;
  platform: string;
  provider: string;
  device_id: string | null;
  device_name: string | null;
  is_active: boolean;
}
type DeviceList = Envelope<Device[]> & { meta: Record<string, number | boolean> };

const create = (token: string, body: Record<string, unknown>) =>
  call<Envelope<Device>>("POST", "/users/push-tokens/", { token, body });
const list = (token: string, query = "") =>
  call<DeviceList>("GET", `/users/push-tokens/${query}`, { token });
const one = (token: string, id: string) =>
  call<Envelope<Device>>("GET", `/users/push-tokens/${id}/`, { token });

async function rowsWithToken(value: string) {
  return db().select().from(pushTokens).where(eq(pushTokens.token, value));
}

describe("registering a device", () => {
  it("creates it with the platform's default provider, and never returns the token", async () => {
    const user = await register();
    const res = await create(user.access_token, {
      token: "secret-device-token-1",
      platform: "ios",
      device_id: "iphone-15",
      device_name: "Ada's phone",
    });
    expect(res.status, res.text).toBe(201);
    expect(res.body.data).toMatchObject({
      platform: "ios",
      provider: "apns",
      device_id: "iphone-15",
      device_name: "Ada's phone",
      is_active: true,
    });
    expect(res.text).not.toContain("secret-device-token-1");
    const [event] = await outboxFor(user.id, "push_token.added");
    expect(event?.event.data).toMatchObject({
      push_token_id: res.body.data.id,
      platform: "ios",
      provider: "apns",
    });
    expect(JSON.stringify(event?.event)).not.toContain("secret-device-token-1");
  });

  it("updates the same (device_id, platform) instead of adding a second device", async () => {
    const user = await register();
    const first = await create(user.access_token, {
      token: "tok-a",
      platform: "android",
      device_id: "pixel",
    });
    const again = await create(user.access_token, {
      token: "tok-b",
      platform: "android",
      device_id: "pixel",
      device_name: "Pixel 9",
    });
    expect(again.status).toBe(200);
    expect(again.body.data.id).toBe(first.body.data.id);
    const devices = await list(user.access_token);
    expect(devices.body.data).toHaveLength(1);
    expect(await rowsWithToken("tok-a")).toHaveLength(0);
    expect(await rowsWithToken("tok-b")).toHaveLength(1);
  });

  it("re-registering the same token is idempotent", async () => {
    const user = await register();
    const first = await create(user.access_token, { token: "tok-same", platform: "web" });
    const second = await create(user.access_token, { token: "tok-same", platform: "web" });
    expect(second.status).toBe(200);
    expect(second.body.data.id).toBe(first.body.data.id);
    expect(await outboxFor(user.id, "push_token.added")).toHaveLength(1);
  });

  it("moves a token value registered by a second user to that user", async () => {
    const first = await register();
    const second = await register();
    const value = `shared-${crypto.randomUUID()}`;
    const original = await create(first.access_token, { token: value, platform: "android" });
    const moved = await create(second.access_token, { token: value, platform: "android" });
    expect(moved.status).toBe(201);
    expect((await list(first.access_token)).body.data).toHaveLength(0);
    expect((await list(second.access_token)).body.data).toHaveLength(1);
    const rows = await rowsWithToken(value);
    expect(rows.map((r) => r.userId)).toEqual([second.id]);
    const [removed] = await outboxFor(first.id, "push_token.removed");
    expect(removed?.event.data).toMatchObject({
      push_token_id: original.body.data.id,
      reason: "moved",
    });
  });

  it("moves a token value onto a device the second user already has", async () => {
    const first = await register();
    const second = await register();
    const value = `onto-${crypto.randomUUID()}`;
    await create(first.access_token, { token: value, platform: "android", device_id: "old-phone" });
    const existing = await create(second.access_token, {
      token: `own-${second.id}`,
      platform: "android",
      device_id: "pix",
    });
    const moved = await create(second.access_token, {
      token: value,
      platform: "android",
      device_id: "pix",
    });
    expect(moved.status, moved.text).toBe(200);
    expect(moved.body.data.id).toBe(existing.body.data.id);
    expect((await rowsWithToken(value)).map((r) => [r.userId, r.deviceId])).toEqual([
      [second.id, "pix"],
    ]);
    expect((await list(first.access_token)).body.data).toHaveLength(0);
  });

  it("moves my own token onto another of my devices without duplicating it", async () => {
    const user = await register();
    const value = `mine-${crypto.randomUUID()}`;
    await create(user.access_token, { token: value, platform: "web", device_id: "laptop" });
    await create(user.access_token, {
      token: `other-${user.id}`,
      platform: "web",
      device_id: "desktop",
    });
    const res = await create(user.access_token, {
      token: value,
      platform: "web",
      device_id: "desktop",
    });
    expect(res.status, res.text).toBe(200);
    expect((await rowsWithToken(value)).map((r) => r.deviceId)).toEqual(["desktop"]);
    expect((await list(user.access_token)).body.data.map((d) => d.device_id)).toEqual(["desktop"]);
  });

  it("takes the new platform (and its provider) when a token is registered again for another", async () => {
    const user = await register();
    const value = `platform-${user.id}`;
    await create(user.access_token, { token: value, platform: "android" });
    const res = await create(user.access_token, { token: value, platform: "ios" });
    expect(res.status).toBe(200);
    expect(res.body.data).toMatchObject({ platform: "ios", provider: "apns" });
    const [row] = await rowsWithToken(value);
    expect(row).toMatchObject({ platform: "ios", provider: "apns" });
  });

  const invalid: [string, Record<string, unknown>, Record<string, string[]>][] = [
    ["no token", { platform: "web" }, { token: ["This field is required."] }],
    [
      "an unknown platform",
      { token: "t", platform: "blackberry" },
      { platform: ['"blackberry" is not a valid choice.'] },
    ],
    [
      "a provider that cannot reach the platform",
      { token: "t", platform: "android", provider: "apns" },
      { provider: ['"apns" cannot deliver to android; use fcm.'] },
    ],
  ];
  for (const [what, body, details] of invalid) {
    it(`rejects ${what}`, async () => {
      const user = await register();
      const res = await create(user.access_token, body);
      expectError(res, 400, "validation_failed");
      expect((res.body as Envelope).details).toEqual(details);
      expect((await list(user.access_token)).body.data).toHaveLength(0);
    });
  }
});

describe("listing and reading", () => {
  it("lists my devices newest first with pagination meta, and filters by is_active", async () => {
    const user = await register();
    for (const n of [1, 2, 3])
      await create(user.access_token, { token: `list-${n}-${user.id}`, platform: "web" });
    const page = await list(user.access_token, "?limit=2");
    expect(page.body.data).toHaveLength(2);
    expect(page.body.meta).toMatchObject({
      total: 3,
      limit: 2,
      page: 1,
      total_pages: 2,
      has_next: true,
    });
    const [newest] = (await list(user.access_token)).body.data;
    await call("PATCH", `/users/push-tokens/${newest?.id}/`, {
      token: user.access_token,
      body: { is_active: false },
    });
    expect((await list(user.access_token, "?is_active=false")).body.data.map((d) => d.id)).toEqual([
      newest?.id,
    ]);
    expect((await list(user.access_token, "?is_active=true")).body.data).toHaveLength(2);
  });

  it("reads one of mine; someone else's, unknown and malformed ids are 404", async () => {
    const user = await register();
    const other = await register();
    const mine = (await create(user.access_token, { token: `one-${user.id}`, platform: "web" }))
      .body.data;
    const theirs = (await create(other.access_token, { token: `one-${other.id}`, platform: "web" }))
      .body.data;
    expect((await one(user.access_token, mine.id)).body.data).toEqual(mine);
    for (const id of [theirs.id, crypto.randomUUID(), "nope"]) {
      expectError(await one(user.access_token, id), 404, "not_found");
    }
  });

  it("requires a user's token on every route", async () => {
    const id = crypto.randomUUID();
    const routes: [string, string][] = [
      ["GET", "/users/push-tokens/"],
      ["POST", "/users/push-tokens/"],
      ["POST", "/users/push-tokens/deactivate_all/"],
      ["GET", `/users/push-tokens/${id}/`],
      ["PUT", `/users/push-tokens/${id}/`],
      ["PATCH", `/users/push-tokens/${id}/`],
      ["DELETE", `/users/push-tokens/${id}/`],
    ];
    const asBearer = { Authorization: `Bearer ${SERVICE["X-Service-Key"]}` };
    for (const [method, path] of routes) {
      expectError(await call(method, path), 401, "authentication_required");
      expectError(await call(method, path, { headers: SERVICE }), 401, "authentication_required");
      expectError(await call(method, path, { headers: asBearer }), 401, "invalid_token");
    }
  });
});

describe("changing and removing", () => {
  it("PATCH renames, deactivates and reactivates, announcing each state change", async () => {
    const user = await register();
    const device = (await create(user.access_token, { token: `p-${user.id}`, platform: "android" }))
      .body.data;
    const path = `/users/push-tokens/${device.id}/`;
    const renamed = await call<Envelope<Device>>("PATCH", path, {
      token: user.access_token,
      body: { device_name: "Work phone" },
    });
    expect(renamed.body.data.device_name).toBe("Work phone");
    await call("PATCH", path, { token: user.access_token, body: { is_active: false } });
    const [removed] = await outboxFor(user.id, "push_token.removed");
    expect(removed?.event.data).toMatchObject({ push_token_id: device.id, reason: "deactivated" });
    const back = await call<Envelope<Device>>("PATCH", path, {
      token: user.access_token,
      body: { is_active: true },
    });
    expect(back.body.data.is_active).toBe(true);
    expect(await outboxFor(user.id, "push_token.added")).toHaveLength(2);
    const badProvider = await call("PATCH", path, {
      token: user.access_token,
      body: { provider: "webpush" },
    });
    expectError(badProvider, 400, "validation_failed");
  });

  it("PUT replaces the device", async () => {
    const user = await register();
    const device = (
      await create(user.access_token, {
        token: `r-${user.id}`,
        platform: "web",
        device_name: "old",
      })
    ).body.data;
    const res = await call<Envelope<Device>>("PUT", `/users/push-tokens/${device.id}/`, {
      token: user.access_token,
      body: { token: `r2-${user.id}`, platform: "ios", provider: "fcm" },
    });
    expect(res.status, res.text).toBe(200);
    expect(res.body.data).toMatchObject({
      id: device.id,
      platform: "ios",
      provider: "fcm",
      device_name: null,
    });
    expect(await rowsWithToken(`r2-${user.id}`)).toHaveLength(1);
  });

  it("PUT onto a device_id another of my devices has is a conflict, not a retry", async () => {
    const user = await register();
    await create(user.access_token, {
      token: `c1-${user.id}`,
      platform: "web",
      device_id: "taken",
    });
    const other = (
      await create(user.access_token, {
        token: `c2-${user.id}`,
        platform: "web",
        device_id: "free",
      })
    ).body.data;
    const res = await call("PUT", `/users/push-tokens/${other.id}/`, {
      token: user.access_token,
      body: { token: `c2-${user.id}`, platform: "web", device_id: "taken" },
    });
    expectError(res, 409, "conflict");
    expect((res.body as Envelope).details).toEqual({
      device_id: ["Another of your devices has this device_id on this platform."],
    });
  });

  it("cannot touch another user's device", async () => {
    const user = await register();
    const other = await register();
    const theirs = (await create(other.access_token, { token: `x-${other.id}`, platform: "web" }))
      .body.data;
    const path = `/users/push-tokens/${theirs.id}/`;
    expectError(
      await call("PATCH", path, { token: user.access_token, body: { is_active: false } }),
      404,
      "not_found",
    );
    expectError(await call("DELETE", path, { token: user.access_token }), 404, "not_found");
    expect((await one(other.access_token, theirs.id)).body.data.is_active).toBe(true);
  });

  it("DELETE removes it and announces it", async () => {
    const user = await register();
    const device = (await create(user.access_token, { token: `d-${user.id}`, platform: "web" }))
      .body.data;
    const res = await call("DELETE", `/users/push-tokens/${device.id}/`, {
      token: user.access_token,
    });
    expect(res.status).toBe(200);
    expectError(await one(user.access_token, device.id), 404, "not_found");
    const [removed] = await outboxFor(user.id, "push_token.removed");
    expect(removed?.event.data).toMatchObject({ push_token_id: device.id, reason: "deleted" });
  });

  it("deactivate_all deactivates every device of mine and no one else's", async () => {
    const user = await register();
    const other = await register();
    await create(user.access_token, { token: `a1-${user.id}`, platform: "web" });
    await create(user.access_token, { token: `a2-${user.id}`, platform: "android" });
    await create(other.access_token, { token: `a3-${other.id}`, platform: "web" });
    const res = await call<Envelope<{ deactivated: number }>>(
      "POST",
      "/users/push-tokens/deactivate_all/",
      {
        token: user.access_token,
      },
    );
    expect(res.body.data.deactivated).toBe(2);
    expect((await list(user.access_token, "?is_active=true")).body.data).toHaveLength(0);
    expect((await list(other.access_token, "?is_active=true")).body.data).toHaveLength(1);
    expect(await outboxFor(user.id, "push_token.removed")).toHaveLength(2);
  });
});
