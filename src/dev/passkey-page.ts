/**
 * A page for trying passkeys in a real browser against the local Worker (GET /_dev/passkeys):
 * register a user and a passkey, then sign in with the passkey alone or after the password.
 * It talks to the API exactly as a browser client would, with WebAuthn's own JSON helpers
 * (`PublicKeyCredential.parse…FromJSON`, `credential.toJSON()`) instead of hand-rolled base64url.
 * test/e2e/passkey-browser.e2e.ts drives it with Chromium's virtual authenticator.
 *
 * The relying party must match the page: open it at http://localhost:<port>/ (WEBAUTHN_RP_ID is
 * "localhost") with that origin in WEBAUTHN_ORIGINS.
 */
import { createMiddleware } from "hono/factory";
import type { AppEnv } from "../app-env";

/** Root-relative, so the page works at both /_dev/passkeys and /_dev/passkeys/. */
export const PASSKEY_PAGE = `<!doctype html>
<html lang="en">
  <head>
    <meta charset="utf-8">
    <meta name="viewport" content="width=device-width, initial-scale=1">
    <title>Passkeys (local)</title>
  </head>
  <body>
    <h1>Passkeys (local)</h1>
    <form id="credentials">
      <p><label>Email <input name="email" type="email" autocomplete="username" required></label></p>
      <p><label>Password <input name="password" type="password" autocomplete="new-password"
        required></label></p>
      <p>
        <button type="button" data-step="register">Register and add passkey</button>
        <button type="button" data-step="passkey">Sign in with passkey</button>
        <button type="button" data-step="password-passkey">Sign in with password + passkey</button>
      </p>
    </form>
    <pre id="result"></pre>
    <script src="/_dev/passkeys.js"></script>
  </body>
</html>
`;

/**
 * The page's script. `#result` gets one JSON object per click, `{step, ok, status, aal, amr,
 * user}` or `{step, ok: false, error}`, and its `data-step` says which step finished (for a test
 * to wait on); aal and amr are read from the access token (not verified: the page only shows
 * them).
 */
export const PASSKEY_SCRIPT = `"use strict";
const API = "/api/v1";
const form = document.getElementById("credentials");
const result = document.getElementById("result");

async function post(path, body, token) {
  const headers = { "Content-Type": "application/json" };
  if (token) headers.Authorization = "Bearer " + token;
  const res = await fetch(API + path, { method: "POST", headers, body: JSON.stringify(body) });
  const json = await res.json().catch(() => null);
  if (!res.ok) {
    const reason = json && json.message ? json.message : res.statusText;
    throw new Error("POST " + path + " answered " + res.status + ": " + reason);
  }
  return { status: res.status, data: json.data };
}

function claims(token) {
  const base64 = token.split(".")[1].replace(/-/g, "+").replace(/_/g, "/");
  const bytes = Uint8Array.from(atob(base64), (ch) => ch.charCodeAt(0));
  return JSON.parse(new TextDecoder().decode(bytes));
}

async function create(options) {
  const publicKey = PublicKeyCredential.parseCreationOptionsFromJSON(options);
  return (await navigator.credentials.create({ publicKey })).toJSON();
}

async function get(options) {
  const publicKey = PublicKeyCredential.parseRequestOptionsFromJSON(options);
  return (await navigator.credentials.get({ publicKey })).toJSON();
}

const steps = {
  async register(email, password) {
    const signedUp = await post("/users/", { email, password });
    const token = signedUp.data.access_token;
    const ceremony = await post("/auth/mfa/webauthn/registration/options/", {}, token);
    const credential = await create(ceremony.data.options);
    const registered = await post(
      "/auth/mfa/webauthn/registration/verify/",
      { challenge_id: ceremony.data.challenge_id, credential, name: "Dev page passkey" },
      token,
    );
    return { ...registered, data: { ...registered.data, user: signedUp.data.user } };
  },
  async passkey() {
    const ceremony = await post("/auth/passkeys/options/", {});
    const credential = await get(ceremony.data.options);
    return post("/auth/passkeys/verify/", { challenge_id: ceremony.data.challenge_id, credential });
  },
  async "password-passkey"(email, password) {
    const login = await post("/auth/login/", { email, password });
    if (!login.data.mfa_required || !login.data.webauthn_options) {
      throw new Error("The login asked for no passkey: register one first.");
    }
    const webauthn = await get(login.data.webauthn_options);
    return post("/auth/mfa/challenge/", { mfa_token: login.data.mfa_token, webauthn });
  },
};

// Buttons only: nothing here is ever submitted (the CSP's form-action 'none' agrees).
form.addEventListener("submit", (event) => event.preventDefault());
for (const button of document.querySelectorAll("button[data-step]")) {
  button.addEventListener("click", async () => {
    const step = button.dataset.step;
    result.textContent = "";
    delete result.dataset.step;
    let outcome;
    try {
      const { status, data } = await steps[step](form.email.value, form.password.value);
      const { aal, amr } = claims(data.access_token);
      outcome = { step, ok: true, status, aal, amr, user: data.user ? data.user.email : null };
    } catch (err) {
      outcome = { step, ok: false, error: String(err && err.message ? err.message : err) };
    }
    result.textContent = JSON.stringify(outcome, null, 2);
    result.dataset.step = step;
  });
}
`;

/**
 * Exactly what the page needs: its script and its fetches, from this origin; no styles, images,
 * frames or form posts.
 */
const PAGE_CSP = [
  "default-src 'none'",
  "script-src 'self'",
  "connect-src 'self'",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
].join("; ");

/**
 * Gives the page PAGE_CSP. The app's secureHeaders (src/app.ts) writes its strict
 * `default-src 'none'` after every route has answered, which would block the script; like the
 * /docs page's, this middleware is registered ahead of it (AppExtension `pagePolicies`), so it
 * runs after it and has the last word, for this path only.
 */
export const passkeyPageCsp = createMiddleware<AppEnv>(async (c, next) => {
  await next();
  if (c.res.ok) c.header("Content-Security-Policy", PAGE_CSP);
});
