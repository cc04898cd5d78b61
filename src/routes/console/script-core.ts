/**
 * The admin console's script, part 1 of 3 (they are joined into one ES module, console.js): DOM
 * helpers, the notice, the confirmation dialog, action buttons, and the API client with the
 * admin's tokens.
 *
 * Plain JavaScript in a string, served as is: no build step. Everything shown is put in the page
 * with `textContent` / text nodes (the `h` helper), never parsed as HTML, so data cannot become
 * markup. No `style=` anywhere: the console's CSP allows only its stylesheet. The script has no
 * backtick and no dollar-brace (it sits in a template literal), and the parts with a backslash are
 * `String.raw`, so the browser gets exactly the text written here.
 */
export const SCRIPT_CORE = `const API = "/api/v1";
// The tokens live in this tab only (sessionStorage, not localStorage): a reload keeps the admin
// signed in, closing the tab forgets them, and no other tab or window can read them.
const STORAGE_KEY = "user-service.admin-console";

const main = document.getElementById("main");
const noticeBox = document.getElementById("notice");

/** An element with attributes, listeners (on…) and children; strings become text nodes. */
function h(tag, props, ...children) {
  const el = document.createElement(tag);
  for (const [name, value] of Object.entries(props || {})) {
    if (value === null || value === undefined || value === false) continue;
    if (name.startsWith("on")) el.addEventListener(name.slice(2), value);
    else if (name === "class") el.className = value;
    else el.setAttribute(name, value === true ? "" : String(value));
  }
  for (const child of children.flat()) {
    if (child === null || child === undefined || child === false) continue;
    el.append(child instanceof Node ? child : String(child));
  }
  return el;
}

const dash = (value) => (value === null || value === undefined || value === "" ? "—" : String(value));

/** ISO times as "2026-11-21 09:30 UTC": the same for every admin, whatever their locale. */
const stamp = (iso) => (iso ? iso.slice(0, 16).replace("T", " ") + " UTC" : "—");
const when = (iso) => (iso ? h("time", { datetime: iso }, stamp(iso)) : "—");

const badge = (label, kind) => h("span", { class: kind ? "badge " + kind : "badge" }, label);
const activeBadge = (active) => (active ? badge("active", "ok") : badge("deactivated", "danger"));
const roleBadge = (role) => badge(role, role === "admin" ? "accent" : "");
const statusBadge = (status) =>
  badge(status, status === "failed" ? "danger" : status === "delivered" ? "ok" : "warn");

const userHref = (id) => "#/users/" + encodeURIComponent(id);

/** One line at the top of the page: what an action did, or why it failed. */
function notify(message, kind) {
  noticeBox.textContent = message || "";
  noticeBox.hidden = !message;
  if (message) noticeBox.dataset.kind = kind || "ok";
  else delete noticeBox.dataset.kind;
}

/** Asks before a destructive action; resolves true only when the admin confirmed. */
function confirmAction(question, action) {
  const dialog = document.getElementById("confirm");
  document.getElementById("confirm-text").textContent = question;
  document.getElementById("confirm-ok").textContent = action;
  dialog.returnValue = "";
  dialog.showModal();
  return new Promise((resolve) => {
    dialog.addEventListener("close", () => resolve(dialog.returnValue === "ok"), { once: true });
  });
}

/** A button that (after confirmation, when asked) runs an action and shows what it did. */
function actionButton(options) {
  return h(
    "button",
    {
      type: "button",
      class: options.danger ? "danger" : null,
      "data-action": options.id,
      onclick: async (event) => {
        const button = event.currentTarget;
        notify("");
        if (options.question && !(await confirmAction(options.question, options.confirm))) return;
        button.disabled = true;
        try {
          notify(await options.run());
          if (options.after) options.after();
        } catch (err) {
          notify(problemText(err), "error");
        } finally {
          button.disabled = false;
        }
      },
    },
    options.label,
  );
}

/** An error answer of the API (or no answer at all), with its stable code. */
class ApiProblem extends Error {
  constructor(status, body) {
    super(body?.message || (status ? "HTTP " + status : "No answer"));
    this.status = status;
    this.code = body?.error || "http_" + status;
    this.details = body?.details || null;
  }
}

/** What to tell the admin about a failed call. */
function problemText(err) {
  if (!(err instanceof ApiProblem)) return String(err?.message || err);
  if (err.code === "mfa_required") {
    return (
      "This deployment requires admins to use a second factor (MFA_REQUIRED_FOR_ADMINS). " +
      "Add an authenticator app to your account, then sign in again with it."
    );
  }
  const fields = Object.entries(err.details || {}).map(([name, messages]) => name + ": " + messages.join(" "));
  return [err.message, ...fields].join(" ");
}

const problemBox = (err) =>
  h("div", { class: "problem", role: "alert", "data-code": err?.code }, problemText(err));

let session = restore();
// Each render takes a number; a page that finished loading after the admin moved on is dropped.
let rendering = 0;

function restore() {
  try {
    const saved = JSON.parse(sessionStorage.getItem(STORAGE_KEY) || "null");
    return saved?.access_token && saved.user ? saved : null;
  } catch {
    return null;
  }
}

/** Sets (or, with null, forgets) the signed-in admin. */
function keep(next) {
  session = next;
  if (next) sessionStorage.setItem(STORAGE_KEY, JSON.stringify(next));
  else sessionStorage.removeItem(STORAGE_KEY);
  renderHeader();
}

const sessionFrom = (data) => ({
  access_token: data.access_token,
  refresh_token: data.refresh_token,
  user: { id: data.user.id, email: data.user.email, name: data.user.name },
});

/** One call to the API; resolves with the envelope, or rejects with an ApiProblem. */
async function send(method, path, body, token) {
  const headers = { Accept: "application/json" };
  if (token) headers.Authorization = "Bearer " + token;
  if (body !== undefined) headers["Content-Type"] = "application/json";
  let res;
  try {
    res = await fetch(API + path, {
      method,
      headers,
      body: body === undefined ? undefined : JSON.stringify(body),
      cache: "no-store",
    });
  } catch {
    throw new ApiProblem(0, { message: "The service cannot be reached.", error: "network_error" });
  }
  let payload = null;
  try {
    payload = await res.json();
  } catch {
    payload = null;
  }
  if (!res.ok || !payload || payload.success !== true) throw new ApiProblem(res.status, payload);
  return payload;
}

// One refresh at a time: the refresh token rotates, so parallel calls that all found their access
// token expired must share the new pair rather than each spend the old refresh token.
let refreshing = null;

function refreshTokens() {
  if (!refreshing) {
    const current = session;
    refreshing = send("POST", "/auth/refresh/", { refresh_token: current.refresh_token })
      .then(({ data }) => {
        if (data.user.role !== "admin") return false;
        keep(sessionFrom(data));
        return true;
      })
      .catch(() => false)
      .finally(() => {
        refreshing = null;
      });
  }
  return refreshing;
}

/** A call as the signed-in admin: refreshes an expired access token once, then retries. */
async function api(method, path, body) {
  if (!session) throw new ApiProblem(401, { message: "Sign in first.", error: "authentication_required" });
  try {
    return await send(method, path, body, session.access_token);
  } catch (err) {
    if (!(err instanceof ApiProblem) || err.status !== 401) throw err;
    if (err.code === "token_expired" && session && (await refreshTokens())) {
      return send(method, path, body, session.access_token);
    }
    // The session was ended (by another admin, a deactivation, a sign-out elsewhere). Parallel
    // calls may all find out: the first one shows the sign-in.
    if (session) {
      keep(null);
      signInView("Your session ended: sign in again.");
    }
    throw err;
  }
}

async function signOut() {
  const token = session?.access_token;
  keep(null);
  if (token) await send("POST", "/auth/logout/", undefined, token).catch(() => undefined);
  notify("Signed out.");
  route();
}

function renderHeader() {
  document.getElementById("nav").hidden = !session;
  document.getElementById("who").textContent = session ? session.user.email : "";
  document.getElementById("sign-out").hidden = !session;
}
`;
