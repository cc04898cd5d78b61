/**
 * `npm run import:django` end to end (issue 12), as an operator runs it: the real CLI, in Node,
 * against the locally served Worker (`wrangler dev`, local D1/KV/Queues/Durable Objects, the rate
 * limits people deploy with), on the exports two replaced Django services really wrote
 * (test/fixtures/django/, with each user's password) and on a generated dump with integer keys
 * and the other hash formats. Then it signs in as those users with their known passwords.
 *
 * Run by `npm run test:import` (part of `npm test`), with Node's test runner.
 */
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { createHash, pbkdf2Sync, randomBytes } from "node:crypto";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import bcrypt from "bcryptjs";
import { type LocalServer, startServer } from "../../bench/local-server.ts";

const FIXTURES = "test/fixtures/django";
const NOTIFY = "notification-platform-user-service";
const SHOP = "ecommerce-user-service";
const SERVICE = { "X-Service-Key": "dev-service-key" };

let server: LocalServer;
const work = mkdtempSync(join(tmpdir(), "django-import-"));

interface Report {
  results?: { status: string; email: string | null; reason?: string; source?: string }[];
  [key: string]: unknown;
}

/** Runs the CLI; returns its exit code, output and the report it wrote. */
function importDjango(files: string[], flags: string[] = []) {
  const report = join(work, `report-${Math.random().toString(36).slice(2)}.json`);
  const run = spawnSync(
    process.execPath,
    ["scripts/import-django.ts", "--url", server.base, "--report", report, ...flags, ...files],
    { encoding: "utf8", timeout: 120_000 },
  );
  let parsed: Report = {};
  try {
    parsed = JSON.parse(readFileSync(report, "utf8")) as Report;
  } catch {
    // No report: the assertion on the exit code says why.
  }
  return { code: run.status, stdout: run.stdout, stderr: run.stderr, report: parsed };
}

/** Every result of a report, wherever the CLI keeps them. */
function results(report: Report) {
  const list = (report.results ?? []) as NonNullable<Report["results"]>;
  return list;
}

const count = (report: Report, status: string) =>
  results(report).filter((r) => r.status === status).length;

async function api(method: string, path: string, body?: unknown, headers = {}) {
  const res = await fetch(`${server.base}/api/v1${path}`, {
    method,
    headers: { "Content-Type": "application/json", ...headers },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  return { status: res.status, body: (await res.json()) as { data: Record<string, unknown> } };
}

const login = (email: string, password: string) => api("POST", "/auth/login/", { email, password });

function credentials(service: string) {
  return readFileSync(join(FIXTURES, `${service}.credentials.csv`), "utf8")
    .trim()
    .split("\n")
    .slice(1)
    .map((line) => {
      const [email = "", password = "", format = ""] = line.split(",");
      return { email, password, format };
    });
}

before(async () => {
  server = await startServer(Number(process.env.E2E_PORT ?? 8794), ".wrangler/e2e-import-state");
});
after(async () => {
  await server?.stop();
  rmSync(work, { recursive: true, force: true });
});

describe("the notification-platform service's dumpdata", () => {
  it("imports every user, who then sign in with their Django passwords", async () => {
    const run = importDjango([join(FIXTURES, `${NOTIFY}.dumpdata.json`)]);
    assert.equal(run.code, 0, run.stderr + run.stdout);
    assert.equal(count(run.report, "created"), 8, run.stdout);
    assert.equal(count(run.report, "refused"), 0, run.stdout);
    assert.match(run.stdout, /created/i);

    for (const { email, password, format } of credentials(NOTIFY)) {
      const res = await login(email, password);
      const expected = password === "unusable" || email.startsWith("old.") ? 401 : 200;
      assert.equal(res.status, expected, `${email} (${format}): ${JSON.stringify(res.body)}`);
    }
  });

  it("keeps preferences, the push token, roles and verification", async () => {
    const zoe = await login("zoe.angstrom@example.se", "Zoë-Ångström-42!");
    const token = String(zoe.body.data.access_token);
    const prefs = await api("GET", "/users/preferences/", undefined, {
      Authorization: `Bearer ${token}`,
    });
    assert.equal(prefs.body.data.email, false);
    assert.equal(prefs.body.data.push, true);
    const me = await api("GET", "/users/me/", undefined, { Authorization: `Bearer ${token}` });
    assert.match(String(me.body.data.push_token), /^fcm:/);

    const admin = await login("admin@notify.example", "Adm1n-Notify!2026");
    assert.equal((admin.body.data.user as { role: string }).role, "admin");
    const adaeze = await login("adaeze.okafor@example.com", "Ad4eze-Verify!88");
    assert.equal((adaeze.body.data.user as { email_verified: boolean }).email_verified, true);
  });

  it("re-imported (dumpdata, then the CSV exports) changes nothing", () => {
    const again = importDjango([join(FIXTURES, `${NOTIFY}.dumpdata.json`)]);
    assert.equal(again.code, 0, again.stderr);
    assert.equal(count(again.report, "unchanged"), 8, again.stdout);
    const csv = importDjango([
      join(FIXTURES, `${NOTIFY}.users.csv`),
      join(FIXTURES, `${NOTIFY}.user_preferences.csv`),
    ]);
    assert.equal(csv.code, 0, csv.stderr);
    assert.equal(count(csv.report, "unchanged"), 8, csv.stdout);
  });
});

describe("the e-commerce service's export, into the same service", () => {
  it("imports its own users and refuses those whose email another account already has", async () => {
    const run = importDjango([join(FIXTURES, `${SHOP}.users.csv`)]);
    assert.equal(run.code, 0, run.stderr + run.stdout);
    // Four addresses exist in both services; once normalised (mixed.case…) they collide.
    const refused = results(run.report).filter((r) => r.status === "refused");
    assert.deepEqual(
      refused.map((r) => r.email?.toLowerCase()).sort(),
      [
        "invited.user@example.org",
        "mixed.case@example.com",
        "old.account@example.com",
        "zoe.angstrom@example.se",
      ],
      run.stdout,
    );
    for (const r of refused) assert.match(r.reason ?? "", /another account/);
    assert.equal(count(run.report, "created"), 5, run.stdout);
    assert.match(run.stdout, /refused/i);

    const kwesi = await login("kwesi.appiah@example.com", "Kwes1-Appiah!Shop");
    assert.equal(kwesi.status, 200);
    assert.equal((kwesi.body.data.user as { email_verified: boolean }).email_verified, true);
    const ops = await login("ops.team@shop.example.com", "0ps-Team!Warehouse");
    assert.equal((ops.body.data.user as { role: string }).role, "admin");
    assert.equal((await login("amara.nwosu@example.ng", "Am4ra-First!Pass")).status, 401);
    assert.equal((await login("amara.nwosu@example.ng", "Am4ra-Second!Pass")).status, 200);
  });
});

describe("a dump with integer keys and the other hash formats", () => {
  const password = "Tr0ub4dor-&-3-ünïcode";
  const salt = randomBytes(9).toString("hex");
  // Django's BCryptSHA256PasswordHasher bcrypts the hex SHA-256 of the password.
  const sha256hex = (text: string) => createHash("sha256").update(text, "utf8").digest("hex");
  const hashes = {
    pbkdf2_sha1: `pbkdf2_sha1$150000$${salt}$${pbkdf2Sync(password, salt, 150000, 20, "sha1").toString("base64")}`,
    bcrypt: `bcrypt$${bcrypt.hashSync(password, 8)}`,
    bcrypt_sha256: `bcrypt_sha256$${bcrypt.hashSync(sha256hex(password), 8)}`,
  };
  const base = 900_000 + Math.floor(Math.random() * 90_000);
  const dump = [
    ...Object.entries(hashes).map(([format, hash], i) => ({
      model: "accounts.user",
      pk: base + i,
      fields: {
        password: hash,
        last_login: null,
        is_superuser: false,
        email: `${format}-${base}@example.com`,
        username: `${format}${base}`,
        first_name: "Int",
        last_name: format,
        is_staff: false,
        is_active: true,
        date_joined: "2023-05-01T10:00:00Z",
      },
    })),
    {
      model: "accounts.user",
      pk: base + 10,
      fields: { password: hashes.bcrypt, is_active: true, email: "", username: "noemail" },
    },
    {
      model: "accounts.user",
      pk: base + 11,
      fields: { password: hashes.bcrypt, is_active: true, email: "not an address" },
    },
    {
      model: "notifications.devicetoken",
      pk: 1,
      fields: { user: base, token: `tok-${base}`, platform: "ios", is_active: true },
    },
  ];
  const file = join(work, "integer-keys.json");
  writeFileSync(file, JSON.stringify(dump, null, 2));

  it("keeps integer ids as legacy ids, found again through the service lookups", async () => {
    const run = importDjango([file]);
    assert.equal(run.code, 0, run.stderr + run.stdout);
    assert.equal(count(run.report, "created"), 3, run.stdout);
    const found = await api("GET", `/users/by-legacy-id/${base}/`, undefined, SERVICE);
    assert.equal(found.status, 200);
    assert.equal(found.body.data.email, `pbkdf2_sha1-${base}@example.com`);
    const targets = await api("GET", `/users/${base}/preferences/`, undefined, SERVICE);
    assert.deepEqual(
      (targets.body.data.push_devices as { token: string }[]).map((d) => d.token),
      [`tok-${base}`],
    );
  });

  it("signs in with pbkdf2_sha1, bcrypt and bcrypt_sha256 hashes", async () => {
    for (const format of Object.keys(hashes)) {
      const res = await login(`${format}-${base}@example.com`, password);
      assert.equal(res.status, 200, `${format}: ${JSON.stringify(res.body)}`);
      assert.equal((await login(`${format}-${base}@example.com`, "wrong-Password-1")).status, 401);
    }
  });

  it("refuses the malformed rows with their row and reason", () => {
    const run = importDjango([file], ["--dry-run"]);
    const refused = results(run.report).filter((r) => r.status === "refused");
    assert.equal(refused.length, 2, run.stdout);
    for (const r of refused) {
      assert.match(r.source ?? "", /integer-keys\.json:\d+/);
      assert.match(r.reason ?? "", /e-?mail/i);
    }
  });
});
