/**
 * The admin console (GET /admin/, src/routes/console/) in a real browser: Debian's Chromium, headless,
 * against the locally served Worker (`wrangler dev`, local D1, KV, Queues and Durable Objects).
 * Data is seeded through the API; then everything an admin does goes through the console's own
 * pages, and what it changed is checked through the API. Its CSP is the one the browser enforces:
 * any blocked script, style or fetch shows up as a console error and fails the run.
 *
 * Takes the README's screenshots on every run: into a temporary folder, or into docs/console/
 * with `UPDATE_SCREENSHOTS=1 npm run test:console` (so `npm test` never changes tracked files).
 * Run by `npm run test:console` (part of `npm test`), with Node's test runner.
 */
import assert from "node:assert/strict";
import { createHmac, randomUUID } from "node:crypto";
import { existsSync, mkdirSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, test } from "node:test";
import puppeteer, { type Browser, type Page } from "puppeteer-core";
import { type LocalServer, startServer, waitFor } from "../../bench/local-server.ts";
import { buildWasm } from "../../src/auth/wasm/build.ts";

const CHROMIUM = "/usr/bin/chromium";
// 8794 is the Django import's; every e2e file has a port and a state directory of its own.
const PORT = Number(process.env.E2E_PORT ?? 8793);
const STATE = ".wrangler/e2e-console-state";
const SHOTS =
  process.env.UPDATE_SCREENSHOTS === "1"
    ? "docs/console"
    : mkdtempSync(join(tmpdir(), "console-shots-"));
const PASSWORD = "violet-Harbor-42-lantern";
const SERVICE = { "X-Service-Key": "dev-service-key" };
const CONSOLE_CSP =
  "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; " +
  "img-src 'self' data:; form-action 'self'; base-uri 'none'; frame-ancestors 'none'";

interface Person {
  email: string;
  name: string;
  ip: string;
  id: string;
}
type Name = "ada" | "grace" | "alan" | "katherine" | "mallory";
/**
 * Registered in this order (the list shows the newest first), each from a network of its own (5
 * registrations an hour per network). Mallory's name is markup, which must show as text.
 */
const people = Object.fromEntries(
  (
    [
      ["ada", "ada.admin@example.com", "Ada Lovelace"],
      ["grace", "grace.admin@example.com", "Grace Hopper"],
      ["alan", "alan.turing@example.com", "Alan Turing"],
      ["katherine", "katherine.johnson@example.com", "Katherine Johnson"],
      ["mallory", "mallory@example.com", "Mallory <img src=x onerror=alert(1)>"],
    ] as const
  ).map(([key, email, name], i) => [key, { email, name, ip: `198.51.100.${10 + i}`, id: "" }]),
) as Record<Name, Person>;

let server: LocalServer | undefined;
let browser: Browser | undefined;
const base = () => server?.base ?? "";

after(async () => {
  await browser?.close();
  await server?.stop();
  rmSync(STATE, { recursive: true, force: true });
  if (process.env.UPDATE_SCREENSHOTS !== "1") rmSync(SHOTS, { recursive: true, force: true });
});

type Json = Record<string, unknown>;

async function api<T = Json>(
  method: string,
  path: string,
  init: { body?: unknown; headers?: Record<string, string>; token?: string } = {},
) {
  const headers: Record<string, string> = { ...init.headers };
  if (init.body !== undefined) headers["Content-Type"] = "application/json";
  if (init.token) headers.Authorization = `Bearer ${init.token}`;
  const res = await fetch(`${base()}${path.startsWith("/_dev") ? "" : "/api/v1"}${path}`, {
    method,
    headers,
    body: init.body === undefined ? undefined : JSON.stringify(init.body),
  });
  return { status: res.status, body: (await res.json()) as { data: T } };
}

async function login(who: Person): Promise<string> {
  const res = await api("POST", "/auth/login/", {
    body: { email: who.email, password: PASSWORD },
    headers: { "CF-Connecting-IP": who.ip },
  });
  assert.equal(res.status, 200, JSON.stringify(res.body));
  return String(res.body.data.access_token);
}

const userById = async (who: Person) =>
  (await api("GET", `/users/${who.id}/`, { headers: SERVICE })).body.data;

/** RFC 6238 with SHA-1, 6 digits, 30 s steps; apart from the service's own implementation. */
function totp(secret: string, step: number): string {
  const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
  let bits = "";
  for (const char of secret.replace(/=+$/, "").toUpperCase()) {
    bits += alphabet.indexOf(char).toString(2).padStart(5, "0");
  }
  const key = Buffer.from(bits.match(/.{8}/g)?.map((byte) => Number.parseInt(byte, 2)) ?? []);
  const counter = Buffer.alloc(8);
  counter.writeBigUInt64BE(BigInt(step));
  const mac = createHmac("sha1", key).update(counter).digest();
  const offset = (mac[19] ?? 0) & 15;
  return String((mac.readUInt32BE(offset) & 0x7fffffff) % 1_000_000).padStart(6, "0");
}
const stepNow = () => Math.floor(Date.now() / 30_000);

/** The text of a panel once it has loaded (and, with `query`, loaded that query). */
async function panel(page: Page, id: string, query = ""): Promise<string> {
  const loaded = `[data-panel="${id}"][data-state="ready"]`;
  const selector = query ? `${loaded}[data-query*="${query}"]` : loaded;
  await page.waitForSelector(selector);
  return page.$eval(selector, (el) => el.textContent ?? "");
}

/** Confirms the dialog an action opened, then waits for the action's notice. */
async function confirmAndNotice(page: Page): Promise<{ kind: string; text: string }> {
  await page.waitForSelector("dialog#confirm[open]");
  await page.click("#confirm-ok");
  return notice(page);
}

async function notice(page: Page): Promise<{ kind: string; text: string }> {
  await page.waitForSelector("#notice[data-kind]");
  return page.$eval("#notice", (el) => ({
    kind: el.getAttribute("data-kind") ?? "",
    text: el.textContent ?? "",
  }));
}

async function signIn(page: Page, who: Person) {
  await page.goto(`${base()}/admin/`, { waitUntil: "load" });
  await page.waitForSelector("#sign-in");
  await page.type('#sign-in input[name="email"]', who.email);
  await page.type('#sign-in input[name="password"]', PASSWORD);
  await page.click('#sign-in button[type="submit"]');
}

/** A 1280×800 screenshot, without a blinking caret or hover to vary between runs. */
async function screenshot(page: Page, name: string) {
  await page.evaluate("document.activeElement && document.activeElement.blur()");
  await page.mouse.move(0, 799);
  await page.screenshot({ path: `${SHOTS}/${name}.png` });
}

test("the admin console in Chromium", { timeout: 300_000 }, async (t) => {
  // Like the passkey test: a missing browser fails, with what to install.
  assert.ok(
    existsSync(CHROMIUM),
    `${CHROMIUM} is missing: apt-get install -y chromium (.ci/run does it when it is missing)`,
  );
  buildWasm();
  server = await startServer(PORT, STATE, {
    ADMIN_SERVICES: "dev-service",
    SERVICE_KEYS: "dev-service:dev-service-key",
  });

  for (const who of Object.values(people)) {
    const res = await api("POST", "/users/", {
      body: { email: who.email, password: PASSWORD, name: who.name },
      headers: { "CF-Connecting-IP": who.ip },
    });
    assert.equal(res.status, 201, JSON.stringify(res.body));
    who.id = String((res.body.data.user as Json).id);
  }
  for (const who of [people.ada, people.grace]) {
    const res = await api("PATCH", `/users/${who.id}/`, {
      body: { role: "admin" },
      headers: SERVICE,
    });
    assert.equal(res.status, 200, JSON.stringify(res.body));
  }
  const alanToken = await login(people.alan);
  const device = await api("POST", "/users/push-tokens/", {
    token: alanToken,
    body: {
      token: "fcm-alan-pixel-9",
      platform: "android",
      device_id: "pixel-9",
      device_name: "Alan's Pixel",
    },
  });
  assert.equal(device.status, 201, JSON.stringify(device.body));
  for (const [notification_id, status, error] of [
    ["welcome-alan", "delivered", null],
    ["digest-alan", "failed", "provider timeout after 10 s"],
  ] as const) {
    const res = await api("POST", "/push/status/", {
      headers: SERVICE,
      body: { notification_id, user_id: people.alan.id, status, error },
    });
    assert.equal(res.status, 201, JSON.stringify(res.body));
  }
  // For nobody: it fails at once (a `failed` push) and its copy lands in the dead letters.
  const sent = await api("POST", "/_dev/push-requests", {
    body: { notification_id: "reminder-nobody", user_id: randomUUID(), template_code: "reminder" },
  });
  assert.equal(sent.status, 202);
  // Grace signs in with an authenticator app.
  const graceToken = await login(people.grace);
  const enrol = await api<{ factor_id: string; secret: string }>("POST", "/auth/mfa/totp/", {
    token: graceToken,
    body: {},
  });
  assert.equal(enrol.status, 201, JSON.stringify(enrol.body));
  const { factor_id, secret } = enrol.body.data;
  const enrolStep = stepNow();
  const verify = await api("POST", "/auth/mfa/totp/verify/", {
    token: graceToken,
    body: { factor_id, code: totp(secret, enrolStep) },
  });
  assert.equal(verify.status, 200, JSON.stringify(verify.body));

  browser = await puppeteer.launch({
    executablePath: CHROMIUM,
    headless: true,
    // Chromium refuses to start its sandbox as root (CI containers).
    args: process.getuid?.() === 0 ? ["--no-sandbox"] : [],
  });
  const page = await browser.newPage();
  await page.setViewport({ width: 1280, height: 800, deviceScaleFactor: 1 });
  const problems: string[] = [];
  page.on("console", (message) => {
    // The API's error answers the console shows on purpose (a refused sign-in, a self-change)
    // are logged by Chromium as failed loads; anything else, CSP reports included, is a problem.
    const url = message.location().url ?? "";
    const expected =
      /^Failed to load resource: the server responded with a status of 4\d\d/.test(
        message.text(),
      ) && url.startsWith(`${base()}/api/v1/`);
    if (message.type() === "error" && !expected) problems.push(message.text());
  });
  page.on("pageerror", (error) => problems.push(String(error)));
  // Added through the DevTools protocol, which the page's CSP does not govern.
  await page.evaluateOnNewDocument(
    "document.addEventListener('securitypolicyviolation', (e) => console.error('CSP violation: ' + e.violatedDirective + ' ' + e.blockedURI));",
  );
  mkdirSync(SHOTS, { recursive: true });

  await t.test("serves the shell with its CSP, and its files with the strict one", async () => {
    for (const path of ["/admin", "/admin/"]) {
      const res = await fetch(`${base()}${path}`);
      assert.equal(res.status, 200, path);
      assert.match(res.headers.get("Content-Type") ?? "", /^text\/html/);
      assert.equal(res.headers.get("Content-Security-Policy"), CONSOLE_CSP, path);
      assert.equal(res.headers.get("Cache-Control"), "public, max-age=300");
      const html = await res.text();
      const refs = [...html.matchAll(/\s(?:src|href)="([^"]*)"/g)].map((m) => m[1] ?? "");
      assert.deepEqual(
        refs.filter((ref) => !ref.startsWith("#")).map((ref) => ref.replace(/\?v=\w+$/, "")),
        ["data:,", "/admin/console.css", "/admin/console.js"],
      );
      assert.doesNotMatch(
        html,
        /\sstyle=|<style|\son[a-z]+=|<script>/i,
        "no inline style or script",
      );
    }
    for (const [file, type] of [
      ["console.js", /^text\/javascript; charset=utf-8$/],
      ["console.css", /^text\/css; charset=utf-8$/],
    ] as const) {
      const res = await fetch(`${base()}/admin/${file}`);
      assert.equal(res.status, 200, file);
      assert.match(res.headers.get("Content-Type") ?? "", type);
      assert.equal(res.headers.get("Cache-Control"), "public, max-age=86400");
      assert.equal(res.headers.get("X-Content-Type-Options"), "nosniff");
      assert.equal(
        res.headers.get("Content-Security-Policy"),
        "default-src 'none'; frame-ancestors 'none'",
      );
      assert.doesNotMatch(await res.text(), /https?:\/\//, `${file} names no other origin`);
    }
    const missing = await fetch(`${base()}/admin/console.js.map`);
    assert.equal(missing.status, 404);
    // The admin API under /api/v1/admin/ is a different thing, and still answers as before.
    assert.equal((await api("GET", "/admin/dead-letters/")).status, 401);
  });

  await t.test("refuses an account that is not an admin", async () => {
    const res = await page.goto(`${base()}/admin/`, { waitUntil: "load" });
    assert.equal(res?.headers()["content-security-policy"], CONSOLE_CSP);
    await page.waitForSelector("#sign-in");
    await screenshot(page, "sign-in");
    await signIn(page, people.alan);
    await page.waitForSelector('#sign-in [data-code="not_admin"]');
    assert.equal(await page.evaluate("sessionStorage.length"), 0, "no tokens kept");
    assert.equal(await page.$eval("#nav", (el) => el.hasAttribute("hidden")), true);
  });

  await t.test("signs an admin in and lists the users, escaped", async () => {
    await signIn(page, people.ada);
    const text = await panel(page, "users");
    for (const who of Object.values(people)) assert.ok(text.includes(who.email), who.email);
    assert.equal(await page.$$eval('[data-panel="users"] tbody tr', (rows) => rows.length), 5);
    assert.ok(text.includes(people.mallory.name), "the markup shows as text");
    assert.equal(await page.$$eval("main img", (images) => images.length), 0);
    assert.equal(await page.$eval("#who", (el) => el.textContent), people.ada.email);
    await screenshot(page, "users");
  });

  await t.test("searches users", async () => {
    await page.type('input[name="q"]', "turing");
    await page.keyboard.press("Enter");
    const text = await panel(page, "users", "q=turing");
    assert.equal(await page.$$eval('[data-panel="users"] tbody tr', (rows) => rows.length), 1);
    assert.ok(text.includes(people.alan.email));
  });

  await t.test(
    "shows a user's profile, sessions, devices, notifications and audit trail",
    async () => {
      await page.click(`a[href="#/users/${people.alan.id}"]`);
      await page.waitForSelector('[data-panel="profile"]');
      assert.ok((await page.$eval("main", (el) => el.textContent ?? "")).includes(people.alan.id));
      assert.match(await panel(page, "sessions"), /Signed in/);
      assert.match(await panel(page, "devices"), /Alan's Pixel.*android · fcm.*active/);
      const notifications = await panel(page, "notifications");
      assert.match(notifications, /failed.*digest-alan.*provider timeout/);
      assert.match(notifications, /delivered.*welcome-alan/);
      const audit = await panel(page, "audit");
      assert.match(audit, /login_success/);
      assert.match(audit, /register/);
      await screenshot(page, "user");
    },
  );

  await t.test("deactivates and reactivates a user", async () => {
    await page.click('[data-action="deactivate"]');
    assert.deepEqual(await confirmAndNotice(page), {
      kind: "ok",
      text: `Deactivated ${people.alan.email}.`,
    });
    assert.equal((await userById(people.alan)).is_active, false);
    await page.waitForSelector('.title-row[data-active="false"]');
    await page.click('[data-action="reactivate"]');
    assert.equal((await notice(page)).kind, "ok");
    assert.equal((await userById(people.alan)).is_active, true);
    await page.waitForSelector('.title-row[data-active="true"]');
  });

  await t.test(
    "changes a user's role, and shows why it cannot change the admin's own",
    async () => {
      await page.click('[data-action="role"]');
      assert.equal((await confirmAndNotice(page)).kind, "ok");
      assert.equal((await userById(people.alan)).role, "admin");
      await page.waitForSelector('.title-row[data-role="admin"]');
      await page.click('[data-action="role"]');
      assert.equal((await confirmAndNotice(page)).kind, "ok");
      assert.equal((await userById(people.alan)).role, "user");
      await page.waitForSelector('.title-row[data-role="user"]');

      await page.goto(`${base()}/admin/#/users/${people.ada.id}`, { waitUntil: "load" });
      await page.waitForSelector(`.title-row[data-user="${people.ada.id}"]`);
      await page.click('[data-action="deactivate"]');
      const refused = await confirmAndNotice(page);
      assert.equal(refused.kind, "error");
      assert.match(refused.text, /cannot change their own role or status/);
      assert.equal((await userById(people.ada)).is_active, true);
    },
  );

  await t.test("ends every session of a user: their token stops working", async () => {
    const token = await login(people.alan);
    assert.equal((await api("GET", "/users/me/", { token })).status, 200);
    await page.goto(`${base()}/admin/#/users/${people.alan.id}`, { waitUntil: "load" });
    await page.waitForSelector(`.title-row[data-user="${people.alan.id}"]`);
    await panel(page, "sessions");
    await page.click('[data-action="end-sessions"]');
    const ended = await confirmAndNotice(page);
    assert.equal(ended.kind, "ok");
    assert.match(ended.text, /^Ended [1-9]\d* session\(s\)/);
    assert.equal((await api("GET", "/users/me/", { token })).status, 401);
    // The page renders again after the action: its new sessions panel lists none.
    await page.waitForSelector('[data-panel="sessions"] ::-p-text("No active sessions.")');
  });

  await t.test("lists failed pushes and dead letters, and re-drives one", async () => {
    await waitFor(
      "the dead letter",
      async () => {
        const res = await api<Json[]>("GET", "/admin/dead-letters/", { headers: SERVICE });
        return res.body.data.some((l) => l.notification_id === "reminder-nobody");
      },
      60_000,
    );
    await page.click('a[data-nav="deliveries"]');
    const failed = await panel(page, "failed");
    assert.match(failed, /digest-alan/);
    assert.match(failed, /reminder-nobody/);
    assert.match(await panel(page, "dead-letters", "state=pending"), /reminder-nobody/);
    await screenshot(page, "deliveries");

    await page.click('[data-action="redrive"]');
    const queued = await confirmAndNotice(page);
    assert.deepEqual(queued, { kind: "ok", text: "Queued reminder-nobody again." });
    const redriven = await api<Json[]>("GET", "/admin/dead-letters/?state=redriven", {
      headers: SERVICE,
    });
    assert.equal(redriven.body.data[0]?.notification_id, "reminder-nobody");
    await page.click('a[href="#/deliveries?state=redriven"]');
    assert.match(await panel(page, "dead-letters", "state=redriven"), /reminder-nobody.*by /);
  });

  await t.test("signs out: the console's token stops working", async () => {
    const saved = JSON.parse(
      String(await page.evaluate("sessionStorage.getItem('user-service.admin-console')")),
    ) as { access_token: string };
    await page.click("#sign-out");
    await page.waitForSelector("#sign-in");
    assert.equal(await page.evaluate("sessionStorage.length"), 0);
    assert.equal((await api("GET", "/users/me/", { token: saved.access_token })).status, 401);
  });

  await t.test("signs in an admin with a second factor, through the code step", async () => {
    await signIn(page, people.grace);
    await page.waitForSelector("#second-factor");
    await page.type('#second-factor input[name="code"]', "12345x");
    await page.click('#second-factor button[type="submit"]');
    await page.waitForSelector("#second-factor .problem");
    // A code is good once: wait for a step after the one the enrolment used.
    await waitFor("a fresh TOTP step", () => stepNow() > enrolStep, 31_000);
    await page.click('#second-factor input[name="code"]', { count: 3 });
    await page.type('#second-factor input[name="code"]', totp(secret, stepNow()));
    await page.click('#second-factor button[type="submit"]');
    await panel(page, "users");
    assert.equal(await page.$eval("#who", (el) => el.textContent), people.grace.email);
  });

  await t.test("ran without script errors or CSP violations", () => {
    assert.deepEqual(problems, []);
  });
});
