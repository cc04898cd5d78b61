/**
 * POST /api/v1/admin/users/import/ (issue 12): users from the replaced Django services arrive with
 * their ids and password hashes, are found again by legacy id, re-import without change, and rows
 * that would collide or do not fit are refused with a reason — each user all of it or nothing.
 */
import { env } from "cloudflare:workers";
import { eq, max } from "drizzle-orm";
import { beforeAll, describe, expect, it } from "vitest";
import { pushTokens, users } from "../src/db/schema";
import { call, type Envelope, expectError } from "./helpers/api";
import { mailbox } from "./helpers/mailbox";
import {
  db,
  login,
  makeAdmin,
  outboxFor,
  register,
  SERVICE,
  uniqueEmail,
  userRow,
} from "./helpers/users";

const fixtures = JSON.parse(env.TEST_DJANGO_HASHES) as {
  password: string;
  hashes: Record<"django_3_2" | "at_limit", string>;
};

interface ImportResult {
  index: number;
  status: "created" | "updated" | "unchanged" | "refused";
  id: string | null;
  legacy_id: number | null;
  email: string | null;
  reason?: string;
  warnings?: string[];
}
type ImportAnswer = Envelope<{
  dry_run: boolean;
  created: number;
  updated: number;
  unchanged: number;
  refused: number;
  results: ImportResult[];
}>;

function importBatch(
  body: Record<string, unknown>,
  headers: Record<string, string> = SERVICE,
  token?: string,
) {
  return call<ImportAnswer>("POST", "/admin/users/import/", { body, headers, token });
}

// Registrations take the highest legacy id + 1: this file's ids start far above it, 1000 apart.
let nextLegacyId = 0;
beforeAll(async () => {
  const [row] = await db()
    .select({ top: max(users.legacyId) })
    .from(users);
  nextLegacyId = (row?.top ?? 0) + 1_000_000;
});
const legacyId = () => (nextLegacyId += 1000);

function djangoUser(extra: Record<string, unknown> = {}) {
  return {
    legacy_id: legacyId(),
    email: uniqueEmail("django"),
    username: `dj${crypto.randomUUID().slice(0, 8)}`,
    first_name: "Ada",
    last_name: "Lovelace",
    password_hash: fixtures.hashes.django_3_2,
    is_active: true,
    role: "user",
    email_verified: true,
    created_at: "2024-03-01T09:00:00.000Z",
    last_login_at: "2025-01-02T03:04:05.000Z",
    preferences: { email: true, push: false },
    push_devices: [{ token: `dev-${crypto.randomUUID()}`, platform: "android" }],
    source: "test.json:1",
    ...extra,
  };
}

describe("who may import", () => {
  it("an import service key or an admin; another service key or a user is 403", async () => {
    const row = djangoUser();
    expectError(await importBatch({ users: [row] }, {}), 401, "authentication_required");
    const other = await importBatch({ users: [row] }, { "X-Service-Key": "other-service-key" });
    expectError(other, 403, "forbidden");
    const user = await register();
    expectError(await importBatch({ users: [row] }, {}, user.access_token), 403, "forbidden");
    expect(await db().select().from(users).where(eq(users.email, row.email))).toHaveLength(0);

    await makeAdmin(user);
    const admin = await login(user.email);
    const res = await importBatch({ users: [row] }, {}, admin.body.data.access_token);
    expect(res.status, res.text).toBe(200);
    expect(res.body.data.results[0]?.status).toBe("created");
  });
});

describe("an imported user", () => {
  it("keeps the legacy id, names, times, role, verification, preferences and devices", async () => {
    const row = djangoUser({ role: "admin" });
    const res = await importBatch({ users: [row] });
    expect(res.status, res.text).toBe(200);
    const [result] = res.body.data.results;
    expect(result).toMatchObject({ status: "created", legacy_id: row.legacy_id, email: row.email });
    const id = result?.id ?? "";
    expect(await userRow(id)).toMatchObject({
      legacyId: row.legacy_id,
      name: "Ada Lovelace",
      firstName: "Ada",
      lastName: "Lovelace",
      role: "admin",
      createdAt: new Date(row.created_at),
      lastLoginAt: new Date(row.last_login_at),
      passwordHash: row.password_hash,
    });
    const found = await call<Envelope<Record<string, unknown>>>(
      "GET",
      `/users/by-legacy-id/${row.legacy_id}/`,
      { headers: SERVICE },
    );
    expect(found.status, found.text).toBe(200);
    expect(found.body.data).toMatchObject({
      id,
      email_verified: true,
      preferences: { push: false },
    });
    // The other service lookups take the legacy id in place of the UUID.
    const targets = await call<Envelope<{ push_devices: { token: string }[] }>>(
      "GET",
      `/users/${row.legacy_id}/preferences/`,
      { headers: SERVICE },
    );
    expect(targets.body.data.push_devices.map((d) => d.token)).toEqual([
      row.push_devices[0]?.token,
    ]);
  });

  it("signs in with the Django password, which is rewritten to Argon2id", async () => {
    const row = djangoUser();
    await importBatch({ users: [row] });
    const res = await login(row.email, fixtures.password);
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    const [stored] = await db().select().from(users).where(eq(users.email, row.email));
    expect(stored?.passwordHash).toMatch(/^\$argon2id\$/);
  });

  it("raises user.imported (never user.created) carrying the legacy id, and mails nothing", async () => {
    const row = djangoUser({ email_verified: false });
    const [result] = (await importBatch({ users: [row] })).body.data.results;
    const events = await outboxFor(result?.id ?? "");
    expect(events.map((e) => e.type)).toEqual(["user.imported"]);
    expect(JSON.parse(events[0]?.payload ?? "{}").data).toMatchObject({
      legacy_id: row.legacy_id,
      email: row.email,
      email_verified: false,
    });
    expect(await mailbox(row.email)).toEqual([]);
  });

  it("gets a verification mail only when asked", async () => {
    const row = djangoUser({ email_verified: false });
    const [result] = (await importBatch({ users: [row], send_verification: true })).body.data
      .results;
    const types = (await outboxFor(result?.id ?? "")).map((e) => e.type);
    expect(types).toEqual(["user.imported", "user.email_verification_requested"]);
  });

  it("with an unusable password imports, cannot sign in, and can after a reset", async () => {
    const row = djangoUser({ password_hash: `!${"x".repeat(40)}` });
    const [result] = (await importBatch({ users: [row] })).body.data.results;
    expect(result?.status).toBe("created");
    expect((await login(row.email, fixtures.password)).status).toBe(401);
    expect((await login(row.email, "!")).status).toBe(401);
  });

  it("events about it later carry its legacy id", async () => {
    const row = djangoUser();
    const [result] = (await importBatch({ users: [row] })).body.data.results;
    const session = await login(row.email, fixtures.password);
    await call("PATCH", "/users/me/", {
      token: session.body.data.access_token,
      body: { name: "Renamed" },
    });
    const [updated] = await outboxFor(result?.id ?? "", "user.updated");
    expect(JSON.parse(updated?.payload ?? "{}").data).toMatchObject({ legacy_id: row.legacy_id });
  });
});

describe("importing again", () => {
  it("changes nothing, and only what `update` allows", async () => {
    const row = djangoUser();
    const first = await importBatch({ users: [row] });
    const id = first.body.data.results[0]?.id;
    const again = await importBatch({
      users: [{ ...row, first_name: "Augusta", name: "Augusta" }],
    });
    expect(again.body.data).toMatchObject({ created: 0, unchanged: 1 });
    expect((await userRow(id ?? ""))?.name).toBe("Ada Lovelace");

    const update = await importBatch({
      users: [{ ...row, name: "Augusta", role: "admin" }],
      update: ["name"],
    });
    expect(update.body.data.results[0]).toMatchObject({ status: "updated", id });
    expect(await userRow(id ?? "")).toMatchObject({ name: "Augusta", role: "user" });
    // Found by legacy id even under another email; never a second account.
    const byLegacy = await importBatch({ users: [{ ...row, email: uniqueEmail("moved") }] });
    expect(byLegacy.body.data.results[0]).toMatchObject({ status: "unchanged", id });
    expect(await db().select().from(users).where(eq(users.legacyId, row.legacy_id))).toHaveLength(
      1,
    );
  });

  it("a dry run reports the same and writes nothing", async () => {
    const row = djangoUser();
    const dry = await importBatch({ users: [row], dry_run: true });
    expect(dry.body.data).toMatchObject({ dry_run: true, created: 1 });
    expect(await db().select().from(users).where(eq(users.email, row.email))).toHaveLength(0);
  });
});

describe("rows that are refused, with the reason", () => {
  it("two rows whose emails differ only by case: both, each naming the other", async () => {
    const email = uniqueEmail("twins");
    const res = await importBatch({
      users: [
        djangoUser({ email, source: "a.json:1" }),
        djangoUser({ email: email.toUpperCase(), source: "b.csv:7" }),
      ],
    });
    const [a, b] = res.body.data.results;
    expect(a).toMatchObject({ status: "refused", reason: "same email as b.csv:7 once normalised" });
    expect(b).toMatchObject({
      status: "refused",
      reason: "same email as a.json:1 once normalised",
    });
    expect(await db().select().from(users).where(eq(users.email, email))).toHaveLength(0);
  });

  it("an email that belongs to another account (another id) is never merged into it", async () => {
    const existing = await register();
    const res = await importBatch({
      users: [djangoUser({ id: crypto.randomUUID(), email: existing.email })],
    });
    expect(res.body.data.results[0]).toMatchObject({ status: "refused" });
    expect(res.body.data.results[0]?.reason).toContain(existing.id);
  });

  it("malformed rows: no email, a bad email, a bad legacy id, an unknown role", async () => {
    const res = await importBatch({
      users: [
        { legacy_id: legacyId(), password_hash: "x" },
        djangoUser({ email: "not an email" }),
        djangoUser({ legacy_id: -3 }),
        djangoUser({ role: "superuser" }),
        "not even an object",
      ],
    });
    expect(res.status, res.text).toBe(200);
    const reasons = res.body.data.results.map((r) => [r.status, r.reason]);
    expect(reasons.map(([status]) => status)).toEqual(Array(5).fill("refused"));
    expect(reasons[0]?.[1]).toContain("email");
    expect(reasons[1]?.[1]).toContain("email");
    expect(reasons[2]?.[1]).toContain("legacy_id");
    expect(reasons[3]?.[1]).toContain("role");
  });

  it("a user whose device token another account holds: nothing of that user is written", async () => {
    const owner = await register();
    const taken = `taken-${crypto.randomUUID()}`;
    await call("POST", "/users/push-tokens/", {
      token: owner.access_token,
      body: { token: taken, platform: "android" },
    });
    const row = djangoUser({ push_devices: [{ token: taken, platform: "android" }] });
    const res = await importBatch({ users: [row] });
    expect(res.body.data.results[0]).toMatchObject({
      status: "refused",
      reason: "a push device token is already registered to another account",
    });
    expect(await db().select().from(users).where(eq(users.email, row.email))).toHaveLength(0);
    const [device] = await db().select().from(pushTokens).where(eq(pushTokens.token, taken));
    expect(device?.userId).toBe(owner.id);
  });

  it("a call of more than 50 users, or an unknown update field, is a 400", async () => {
    const many = Array.from({ length: 51 }, () => djangoUser());
    expectError(await importBatch({ users: many }), 400, "validation_failed");
    expectError(
      await importBatch({ users: [djangoUser()], update: ["password_hash"] }),
      400,
      "validation_failed",
    );
  });
});
