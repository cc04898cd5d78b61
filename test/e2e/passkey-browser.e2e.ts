/**
 * Passkeys in a real browser: Debian's Chromium, headless, on the dev page GET /_dev/passkeys
 * (src/dev/passkey-page.ts) of the locally served Worker (`wrangler dev`, local D1 and KV), with
 * the DevTools protocol's virtual authenticator standing in for the platform one. What the Vitest
 * suite's software authenticator cannot show: that what a browser's own WebAuthn produces
 * (its clientDataJSON, origin, attestation and the JSON from `toJSON()`) is accepted, end to end.
 *
 * Run by `npm run test:browser` (part of `npm test`), with Node's test runner.
 */
import assert from "node:assert/strict";
import { existsSync, rmSync } from "node:fs";
import { after, test } from "node:test";
import puppeteer, { type Browser, type CDPSession, type Page } from "puppeteer-core";
import { type LocalServer, startServer } from "../../bench/local-server.ts";
import { buildWasm } from "../../src/auth/wasm/build.ts";

const CHROMIUM = "/usr/bin/chromium";
const PORT = Number(process.env.E2E_PORT ?? 8795);
const STATE = ".wrangler/e2e-passkey-state";
// localhost, not 127.0.0.1: the page's origin must be in WEBAUTHN_ORIGINS and its host must be
// the relying party's id ("localhost" in wrangler.toml). Chromium counts it a secure context.
const ORIGIN = `http://localhost:${PORT}`;
const EMAIL = "passkey.browser@example.com";
const PASSWORD = "violet-Harbor-42-lantern";

interface Outcome {
  step: string;
  ok: boolean;
  status?: number;
  aal?: string;
  amr?: string[];
  user?: string | null;
  error?: string;
}

let server: LocalServer | undefined;
let browser: Browser | undefined;

after(async () => {
  await browser?.close();
  await server?.stop();
  rmSync(STATE, { recursive: true, force: true });
});

/** Clicks a step's button and waits for the page to write that step's outcome. */
async function run(page: Page, step: string): Promise<Outcome> {
  await page.click(`button[data-step="${step}"]`);
  await page.waitForSelector(`#result[data-step="${step}"]`, { timeout: 20_000 });
  return JSON.parse(await page.$eval("#result", (el) => el.textContent ?? "")) as Outcome;
}

/** The one credential the virtual authenticator holds. */
async function credential(cdp: CDPSession, authenticatorId: string) {
  const { credentials } = await cdp.send("WebAuthn.getCredentials", { authenticatorId });
  assert.equal(credentials.length, 1, "one passkey on the authenticator");
  const [only] = credentials;
  assert.ok(only);
  return only;
}

test("passkeys through the dev page in Chromium", { timeout: 150_000 }, async (t) => {
  // A missing browser fails the suite (it is part of `npm test`), with what to install.
  assert.ok(
    existsSync(CHROMIUM),
    `${CHROMIUM} is missing: apt-get install -y chromium (.ci/run does it when it is missing)`,
  );
  buildWasm();
  server = await startServer(PORT, STATE, { WEBAUTHN_ORIGINS: ORIGIN });
  browser = await puppeteer.launch({
    executablePath: CHROMIUM,
    headless: true,
    // Chromium refuses to start its sandbox as root (CI containers).
    args: process.getuid?.() === 0 ? ["--no-sandbox"] : [],
  });
  const page = await browser.newPage();
  const problems: string[] = [];
  page.on("console", (message) => {
    if (message.type() === "error") problems.push(message.text());
  });
  page.on("pageerror", (error) => problems.push(String(error)));

  const cdp = await page.createCDPSession();
  await cdp.send("WebAuthn.enable", { enableUI: false });
  const { authenticatorId } = await cdp.send("WebAuthn.addVirtualAuthenticator", {
    options: {
      protocol: "ctap2",
      transport: "internal",
      hasResidentKey: true,
      hasUserVerification: true,
      isUserVerified: true,
      automaticPresenceSimulation: true,
    },
  });

  const response = await page.goto(`${ORIGIN}/_dev/passkeys`, { waitUntil: "load" });
  assert.equal(response?.status(), 200);
  const csp = response?.headers()["content-security-policy"] ?? "";
  assert.match(csp, /script-src 'self'/, "the page's own CSP, not the app's default-src 'none'");
  assert.match(csp, /frame-ancestors 'none'/);
  await page.type('input[name="email"]', EMAIL);
  await page.type('input[name="password"]', PASSWORD);

  let signCount = 0;

  await t.test("registers a user and a passkey: 201 at aal2", async () => {
    const outcome = await run(page, "register");
    assert.equal(outcome.ok, true, outcome.error);
    assert.equal(outcome.status, 201);
    assert.equal(outcome.aal, "aal2");
    assert.equal(outcome.user, EMAIL);
    const stored = await credential(cdp, authenticatorId);
    assert.equal(stored.rpId, "localhost");
    assert.equal(stored.isResidentCredential, true, "a discoverable credential");
    signCount = stored.signCount;
  });

  await t.test("signs in with the passkey alone: aal2, amr webauthn", async () => {
    const outcome = await run(page, "passkey");
    assert.equal(outcome.ok, true, outcome.error);
    assert.equal(outcome.status, 200);
    assert.equal(outcome.user, EMAIL);
    assert.equal(outcome.aal, "aal2");
    assert.deepEqual(outcome.amr, ["webauthn"]);
    const stored = await credential(cdp, authenticatorId);
    assert.ok(stored.signCount > signCount, `signCount ${stored.signCount} after ${signCount}`);
    signCount = stored.signCount;
  });

  await t.test("signs in with the password, then the passkey: amr pwd, webauthn", async () => {
    const outcome = await run(page, "password-passkey");
    assert.equal(outcome.ok, true, outcome.error);
    assert.equal(outcome.status, 200);
    assert.equal(outcome.user, EMAIL);
    assert.equal(outcome.aal, "aal2");
    assert.deepEqual(outcome.amr, ["pwd", "webauthn"]);
    const stored = await credential(cdp, authenticatorId);
    assert.ok(stored.signCount > signCount, `signCount ${stored.signCount} after ${signCount}`);
  });

  await t.test("the page ran without errors (none blocked by its CSP)", () => {
    assert.deepEqual(problems, []);
  });
});
