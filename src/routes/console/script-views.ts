/**
 * The admin console's script, part 2 of 3: signing in (with the second step when the account has a
 * second factor), the paged list panel every view uses, and the user search.
 */
export const SCRIPT_VIEWS = String.raw`/** A labelled field. */
const field = (label, input) => h("label", null, label, input);

function signInView(message) {
  rendering++;
  const email = h("input", { type: "email", name: "email", autocomplete: "username", required: true });
  const password = h("input", {
    type: "password",
    name: "password",
    autocomplete: "current-password",
    required: true,
  });
  const status = h("div", { class: "form-status", role: "alert" });
  const submit = h("button", { type: "submit", class: "primary" }, "Sign in");
  const form = h(
    "form",
    {
      class: "card sign-in",
      id: "sign-in",
      onsubmit: async (event) => {
        event.preventDefault();
        submit.disabled = true;
        status.replaceChildren();
        try {
          const { data } = await send("POST", "/auth/login/", {
            email: email.value,
            password: password.value,
          });
          if (data.mfa_required) codeStep(data);
          else accept(data, status);
        } catch (err) {
          status.replaceChildren(problemBox(err));
        } finally {
          submit.disabled = false;
        }
      },
    },
    h("h1", null, "Admin sign-in"),
    h("p", { class: message ? "problem" : null }, message || "For accounts with the admin role."),
    field("Email", email),
    field("Password", password),
    status,
    submit,
  );
  main.replaceChildren(form);
  email.focus();
}

/** The login's second step: an authenticator code, or one of the recovery codes. */
function codeStep(challenge) {
  const hasApp = challenge.factors.some((factor) => factor.type === "totp");
  const code = h("input", {
    name: "code",
    autocomplete: "one-time-code",
    inputmode: hasApp ? "numeric" : null,
    required: true,
    maxlength: 64,
  });
  const status = h("div", { class: "form-status", role: "alert" });
  const submit = h("button", { type: "submit", class: "primary" }, "Verify");
  const form = h(
    "form",
    {
      class: "card sign-in",
      id: "second-factor",
      onsubmit: async (event) => {
        event.preventDefault();
        const value = code.value.trim();
        submit.disabled = true;
        status.replaceChildren();
        try {
          const body = /^\d{6}$/.test(value)
            ? { mfa_token: challenge.mfa_token, code: value }
            : { mfa_token: challenge.mfa_token, recovery_code: value };
          const { data } = await send("POST", "/auth/mfa/challenge/", body);
          accept(data, status);
        } catch (err) {
          status.replaceChildren(problemBox(err));
        } finally {
          submit.disabled = false;
        }
      },
    },
    h("h1", null, "Second factor"),
    h(
      "p",
      null,
      hasApp
        ? "Enter the 6-digit code from your authenticator app, or a recovery code."
        : "This account's second factor is a passkey, which the console cannot use: enter a recovery code.",
    ),
    field(hasApp ? "Code" : "Recovery code", code),
    status,
    submit,
    h("button", { type: "button", class: "link-button", onclick: () => signInView() }, "Start over"),
  );
  main.replaceChildren(form);
  code.focus();
}

/** Keeps the tokens of an admin; anyone else's session is ended at once. */
function accept(data, status) {
  if (data.user.role !== "admin") {
    send("POST", "/auth/logout/", undefined, data.access_token).catch(() => undefined);
    status.replaceChildren(
      h("div", { class: "problem", "data-code": "not_admin" }, "This account is not an admin: the console is for admins only."),
    );
    return;
  }
  keep(sessionFrom(data));
  notify("");
  route();
}

/**
 * A panel listing one API collection, a page at a time. columns: [{ label, value(row, panel),
 * class }]; value returns text or a node. With onPage the page lives in the address (the user
 * list); without, the panel pages by itself. panel.reload() fetches the current page again.
 */
function listPanel(options) {
  const body = h("div", null, h("p", { class: "muted" }, "Loading…"));
  const panel = h(
    "section",
    { class: "panel", "data-panel": options.id, "data-state": "loading" },
    options.title ? h("h2", null, options.title) : null,
    options.intro || null,
    body,
  );
  let page = options.page || 1;
  const showPage = (next) => {
    if (options.onPage) options.onPage(next);
    else {
      page = next;
      load();
    }
  };
  async function load() {
    panel.dataset.state = "loading";
    const query = new URLSearchParams(options.query || {});
    query.set("page", String(page));
    query.set("limit", String(options.limit || 20));
    try {
      const { data, meta } = await api("GET", options.path + "?" + query);
      body.replaceChildren(table(options.columns, data, options.empty, panel), pager(meta, showPage));
      panel.dataset.query = query.toString();
      panel.dataset.state = "ready";
    } catch (err) {
      body.replaceChildren(problemBox(err));
      panel.dataset.state = "error";
    }
  }
  panel.reload = load;
  load();
  return panel;
}

function table(columns, rows, empty, panel) {
  if (rows.length === 0) return h("p", { class: "empty" }, empty);
  return h(
    "table",
    null,
    h("thead", null, h("tr", null, columns.map((column) => h("th", { scope: "col" }, column.label)))),
    h(
      "tbody",
      null,
      rows.map((row) =>
        h(
          "tr",
          null,
          columns.map((column) => {
            const value = column.value(row, panel);
            return h("td", { class: column.class || null }, value instanceof Node ? value : dash(value));
          }),
        ),
      ),
    ),
  );
}

function pager(meta, showPage) {
  if (!meta) return null;
  const count = meta.total === 1 ? "1 in all" : meta.total + " in all";
  if (meta.total_pages <= 1) return h("div", { class: "pager" }, count);
  return h(
    "div",
    { class: "pager" },
    h("button", { type: "button", disabled: !meta.has_previous, onclick: () => showPage(meta.page - 1) }, "Previous"),
    "Page " + meta.page + " of " + meta.total_pages + " · " + count,
    h("button", { type: "button", disabled: !meta.has_next, onclick: () => showPage(meta.page + 1) }, "Next"),
  );
}

/** URLSearchParams of the non-empty values. */
function compact(values) {
  const params = new URLSearchParams();
  for (const [name, value] of Object.entries(values)) {
    if (value !== undefined && value !== null && value !== "") params.set(name, String(value));
  }
  return params;
}

const option = (value, label, current) => h("option", { value, selected: value === current }, label);

function usersView(params) {
  const q = params.get("q") || "";
  const active = params.get("is_active") || "";
  const search = h("input", {
    type: "search",
    name: "q",
    value: q,
    placeholder: "Email, username or name",
    "aria-label": "Search users",
  });
  const status = h(
    "select",
    { name: "is_active", "aria-label": "Status" },
    option("", "Any status", active),
    option("true", "Active", active),
    option("false", "Deactivated", active),
  );
  const form = h(
    "form",
    {
      class: "toolbar",
      role: "search",
      onsubmit: (event) => {
        event.preventDefault();
        go("users", compact({ q: search.value.trim(), is_active: status.value }));
      },
    },
    search,
    status,
    h("button", { type: "submit", class: "primary" }, "Search"),
  );
  const filter = { q, is_active: active };
  main.replaceChildren(
    h("h1", null, "Users"),
    form,
    listPanel({
      id: "users",
      path: "/users/",
      query: compact(filter),
      page: Number(params.get("page")) || 1,
      onPage: (page) => go("users", compact({ ...filter, page })),
      empty: q || active ? "No user matches." : "No users yet.",
      columns: [
        { label: "Email", value: (u) => h("a", { href: userHref(u.id) }, u.email) },
        { label: "Name", value: (u) => u.name },
        { label: "Username", value: (u) => u.username },
        { label: "Role", value: (u) => roleBadge(u.role) },
        { label: "Status", value: (u) => activeBadge(u.is_active) },
        { label: "Created", value: (u) => when(u.created_at) },
        { label: "Last sign-in", value: (u) => when(u.last_login_at) },
      ],
    }),
  );
}
`;
