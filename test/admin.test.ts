/**
 * GET /users/ and PATCH /users/{id}/ — administrators.
 */
import { eq } from "drizzle-orm";
import { describe, expect, it } from "vitest";
import { users } from "../src/db/schema";
import { call, type Envelope, expectError } from "./helpers/api";
import {
  auditFor,
  db,
  login,
  makeAdmin,
  outboxFor,
  register,
  SERVICE,
  type TestUser,
  uniqueEmail,
} from "./helpers/users";

type UserList = Envelope<TestUser["user"][]> & { meta: Record<string, number | boolean> };

async function admin() {
  const user = await register();
  await makeAdmin(user);
  return user;
}

describe("listing users", () => {
  it("searches email, username and name, filters by activity, and paginates", async () => {
    const boss = await admin();
    const tag = crypto.randomUUID().slice(0, 8);
    const a = await register({ email: uniqueEmail(`find-${tag}`) });
    const b = await register({ username: `Finder_${tag}` });
    const c = await register({ name: `Grace ${tag.toUpperCase()} Hopper` });
    await call("DELETE", "/users/me/", { token: c.access_token });

    const all = await call<UserList>("GET", `/users/?q=${tag}`, { token: boss.access_token });
    expect(all.status, all.text).toBe(200);
    expect(all.body.data.map((u) => u.id).sort()).toEqual([a.id, b.id, c.id].sort());
    expect(all.body.meta).toMatchObject({ total: 3, page: 1, limit: 20 });

    const active = await call<UserList>("GET", `/users/?q=${tag}&is_active=false`, {
      token: boss.access_token,
    });
    expect(active.body.data.map((u) => u.id)).toEqual([c.id]);

    const paged = await call<UserList>("GET", `/users/?q=${tag}&limit=2&page=2`, {
      token: boss.access_token,
    });
    expect(paged.body.data).toHaveLength(1);
    expect(paged.body.meta).toMatchObject({
      total: 3,
      total_pages: 2,
      has_previous: true,
      has_next: false,
    });
  });

  it("treats % and _ in the search literally", async () => {
    const boss = await admin();
    const res = await call<UserList>("GET", "/users/?q=%25_%25", { token: boss.access_token });
    expect(res.status).toBe(200);
    expect(res.body.data).toEqual([]);
  });

  it("finds long searches and ignores ASCII case around accented letters", async () => {
    const boss = await admin();
    const tag = crypto.randomUUID();
    const user = await register({ name: `Élodie Ébert ${tag} of the long-named family` });
    // Longer than D1's 50-byte LIKE pattern limit.
    const long = encodeURIComponent(`ÉBERT ${tag.toUpperCase()} OF THE LONG`);
    const res = await call<UserList>("GET", `/users/?q=${long}`, { token: boss.access_token });
    expect(res.status, res.text).toBe(200);
    expect(res.body.data.map((u) => u.id)).toEqual([user.id]);
  });

  it("is for admins only", async () => {
    const user = await register();
    expectError(await call("GET", "/users/", { token: user.access_token }), 403, "forbidden");
    expectError(await call("GET", "/users/"), 401, "authentication_required");
    expectError(await call("GET", "/users/", { headers: SERVICE }), 401, "authentication_required");
  });
});

describe("changing a user", () => {
  it("deactivation revokes every session, refuses login and announces it", async () => {
    const boss = await admin();
    const user = await register();
    const res = await call<Envelope<TestUser["user"]>>("PATCH", `/users/${user.id}/`, {
      token: boss.access_token,
      body: { is_active: false },
    });
    expect(res.status, res.text).toBe(200);
    expect(res.body.data.is_active).toBe(false);
    expectError(
      await call("GET", "/users/me/", { token: user.access_token }),
      401,
      "invalid_token",
    );
    expectError(await login(user.email), 401, "invalid_credentials");
    const [event] = await outboxFor(user.id, "user.deactivated");
    expect(event?.event.data).toMatchObject({ reason: "admin" });
    const [entry] = await auditFor(user.id, "account_deactivated");
    expect(entry?.metadata).toEqual({ by: boss.id });
  });

  it("reactivation lets the user log in again", async () => {
    const boss = await admin();
    const user = await register();
    await call("PATCH", `/users/${user.id}/`, {
      token: boss.access_token,
      body: { is_active: false },
    });
    await call("PATCH", `/users/${user.id}/`, {
      token: boss.access_token,
      body: { is_active: true },
    });
    expect((await login(user.email)).status).toBe(200);
    expect(await auditFor(user.id, "account_reactivated")).toHaveLength(1);
  });

  it("changes the role, audited and announced; the new admin can act at once", async () => {
    const boss = await admin();
    const user = await register();
    const res = await call<Envelope<TestUser["user"]>>("PATCH", `/users/${user.id}/`, {
      token: boss.access_token,
      body: { role: "admin" },
    });
    expect(res.body.data.role).toBe("admin");
    const [entry] = await auditFor(user.id, "role_changed");
    expect(entry?.metadata).toEqual({ from: "user", to: "admin", by: boss.id });
    const [event] = await outboxFor(user.id, "user.updated");
    expect(event?.event.data).toMatchObject({ changed: ["role"] });
    expect((await call("GET", "/users/", { token: user.access_token })).status).toBe(200);
  });

  it("refuses an admin changing their own role or status", async () => {
    const boss = await admin();
    for (const body of [{ role: "user" }, { is_active: false }]) {
      expectError(
        await call("PATCH", `/users/${boss.id}/`, { token: boss.access_token, body }),
        403,
        "forbidden",
      );
    }
  });

  it("refuses anonymous callers, services and a demoted admin", async () => {
    const boss = await admin();
    const user = await register();
    const path = `/users/${user.id}/`;
    const body = { role: "admin" };
    expectError(await call("PATCH", path, { body }), 401, "authentication_required");
    expectError(
      await call("PATCH", path, { body, headers: SERVICE }),
      401,
      "authentication_required",
    );
    expectError(
      await call("PATCH", path, { body, headers: { "X-Service-Key": "nope" } }),
      401,
      "authentication_required",
    );
    await db().update(users).set({ role: "user" }).where(eq(users.id, boss.id));
    expectError(await call("PATCH", path, { token: boss.access_token, body }), 403, "forbidden");
  });

  it("validates, 404s unknown users, and is for admins only", async () => {
    const boss = await admin();
    const user = await register();
    expectError(
      await call("PATCH", `/users/${user.id}/`, {
        token: boss.access_token,
        body: { role: "root" },
      }),
      400,
      "validation_failed",
    );
    expectError(
      await call("PATCH", `/users/${crypto.randomUUID()}/`, {
        token: boss.access_token,
        body: { role: "user" },
      }),
      404,
      "not_found",
    );
    expectError(
      await call("PATCH", `/users/${boss.id}/`, {
        token: user.access_token,
        body: { role: "user" },
      }),
      403,
      "forbidden",
    );
  });
});
