/**
 * The admin console's script, part 3 of 3: a user's page (profile, actions, sessions, devices,
 * notifications, audit trail), failed pushes and dead letters with re-drive, and the hash router.
 */
export const SCRIPT_PAGES = String.raw`const enc = encodeURIComponent;
const json = (value) => (value && Object.keys(value).length ? JSON.stringify(value) : "");

function userActions(user) {
  const path = "/users/" + enc(user.id) + "/";
  const again = () => userPage(user.id);
  const patch = (change) => api("PATCH", path, change);
  const who = user.email;
  return h(
    "div",
    { class: "actions" },
    user.is_active
      ? actionButton({
          id: "deactivate",
          label: "Deactivate",
          danger: true,
          question: "Deactivate " + who + "? Every session of theirs ends, and they cannot sign in until reactivated.",
          confirm: "Deactivate",
          run: () => patch({ is_active: false }).then(() => "Deactivated " + who + "."),
          after: again,
        })
      : actionButton({
          id: "reactivate",
          label: "Reactivate",
          run: () => patch({ is_active: true }).then(() => "Reactivated " + who + "."),
          after: again,
        }),
    user.role === "admin"
      ? actionButton({
          id: "role",
          label: "Remove admin role",
          danger: true,
          question: "Make " + who + " a regular user? They lose access to this console and the admin API.",
          confirm: "Remove admin role",
          run: () => patch({ role: "user" }).then(() => who + " is now a user."),
          after: again,
        })
      : actionButton({
          id: "role",
          label: "Make admin",
          question: "Make " + who + " an admin? They can then manage every user.",
          confirm: "Make admin",
          run: () => patch({ role: "admin" }).then(() => who + " is now an admin."),
          after: again,
        }),
    actionButton({
      id: "end-sessions",
      label: "End all sessions",
      danger: true,
      question: "End every session of " + who + "? They are signed out everywhere at once.",
      confirm: "End sessions",
      run: async () => {
        const { data } = await api("DELETE", "/admin/users/" + enc(user.id) + "/sessions/");
        return "Ended " + data.revoked_sessions + " session(s) of " + who + ".";
      },
      after: again,
    }),
    actionButton({
      id: "reset-mfa",
      label: "Reset second factors",
      danger: true,
      question: "Remove every second factor and recovery code of " + who + "? Their sessions end too.",
      confirm: "Reset",
      run: async () => {
        const { data } = await api("DELETE", "/admin/users/" + enc(user.id) + "/mfa/");
        return "Second factors of " + who + " removed; " + data.revoked_sessions + " session(s) ended.";
      },
      after: again,
    }),
  );
}

function profile(user) {
  const item = (label, value) => h("div", null, h("dt", null, label), h("dd", null, value instanceof Node ? value : dash(value)));
  return h(
    "section",
    { class: "panel", "data-panel": "profile" },
    h("h2", null, "Profile"),
    h(
      "dl",
      { class: "profile" },
      item("Email", user.email),
      item("Name", user.name),
      item("Username", user.username),
      item("User id", h("span", { class: "mono" }, user.id)),
      item("Role", roleBadge(user.role)),
      item("Status", activeBadge(user.is_active)),
      item("Email verified", user.email_verified ? "yes" : "no"),
      item("Channels", "email " + (user.preferences.email ? "on" : "off") + ", push " + (user.preferences.push ? "on" : "off")),
      item("Created", when(user.created_at)),
      item("Updated", when(user.updated_at)),
      item("Last sign-in", when(user.last_login_at)),
    ),
  );
}

async function userPage(id) {
  const mine = ++rendering;
  const back = h("a", { class: "back", href: "#/users" }, "← Users");
  let user;
  try {
    user = (await api("GET", "/users/" + enc(id) + "/")).data;
  } catch (err) {
    if (mine === rendering) main.replaceChildren(back, problemBox(err));
    return;
  }
  if (mine !== rendering) return;
  const base = "/admin/users/" + enc(id);
  main.replaceChildren(
    back,
    h(
      "div",
      {
        class: "title-row",
        "data-user": user.id,
        "data-role": user.role,
        "data-active": String(user.is_active),
      },
      h("h1", null, user.name || user.email),
      roleBadge(user.role),
      activeBadge(user.is_active),
      session.user.id === user.id ? badge("you") : null,
    ),
    userActions(user),
    profile(user),
    listPanel({
      id: "sessions",
      title: "Sessions",
      path: base + "/sessions/",
      empty: "No active sessions.",
      columns: [
        { label: "Signed in", value: (s) => when(s.created_at) },
        { label: "Last used", value: (s) => when(s.last_used_at) },
        { label: "Expires", value: (s) => when(s.expires_at) },
        { label: "IP", value: (s) => s.ip, class: "mono" },
        { label: "Browser or app", value: (s) => s.user_agent, class: "wrap" },
      ],
    }),
    listPanel({
      id: "devices",
      title: "Devices",
      path: base + "/push-tokens/",
      empty: "No push devices.",
      columns: [
        { label: "Device", value: (d) => d.device_name || d.device_id },
        { label: "Platform", value: (d) => d.platform + " · " + d.provider },
        { label: "Status", value: (d) => (d.is_active ? badge("active", "ok") : badge("inactive")) },
        { label: "Last used", value: (d) => when(d.last_used_at) },
        { label: "Added", value: (d) => when(d.created_at) },
      ],
    }),
    listPanel({
      id: "notifications",
      title: "Notifications",
      path: "/users/" + enc(id) + "/notifications/",
      empty: "No delivery statuses.",
      columns: [
        { label: "Time", value: (n) => when(n.created_at) },
        { label: "Channel", value: (n) => n.channel },
        { label: "Status", value: (n) => statusBadge(n.status) },
        { label: "Notification", value: (n) => n.notification_id, class: "mono" },
        { label: "Error", value: (n) => n.error, class: "wrap" },
      ],
    }),
    listPanel({
      id: "audit",
      title: "Audit trail",
      path: "/users/" + enc(id) + "/audit/",
      empty: "Nothing recorded.",
      columns: [
        { label: "Time", value: (a) => when(a.created_at) },
        { label: "Action", value: (a) => a.action, class: "mono" },
        { label: "IP", value: (a) => a.ip, class: "mono" },
        { label: "Details", value: (a) => json(a.metadata), class: "wrap mono" },
      ],
    }),
  );
}

const userLink = (id) => (id ? h("a", { href: userHref(id), class: "mono" }, id.slice(0, 8) + "…") : null);

function deliveriesView(params) {
  const state = params.get("state") === "redriven" ? "redriven" : "pending";
  const tab = (value, label) =>
    h("a", { href: "#/deliveries?state=" + value, "aria-current": value === state ? "page" : null }, label);
  main.replaceChildren(
    h("h1", null, "Deliveries"),
    listPanel({
      id: "failed",
      title: "Failed pushes",
      path: "/admin/notifications/failed/",
      query: { channel: "push" },
      empty: "No failed pushes.",
      columns: [
        { label: "Time", value: (n) => when(n.created_at) },
        { label: "Notification", value: (n) => n.notification_id, class: "mono" },
        { label: "User", value: (n) => userLink(n.user_id) },
        { label: "Error", value: (n) => n.error, class: "wrap" },
        { label: "Reported by", value: (n) => n.reported_by },
      ],
    }),
    listPanel({
      id: "dead-letters",
      title: "Dead letters",
      intro: h("nav", { class: "tabs", "aria-label": "Dead letters" }, tab("pending", "Pending"), tab("redriven", "Re-driven")),
      path: "/admin/dead-letters/",
      query: { state },
      empty: state === "pending" ? "No dead letters waiting." : "None re-driven yet.",
      columns: [
        { label: "Failed", value: (d) => when(d.failed_at) },
        { label: "Notification", value: (d) => d.notification_id, class: "mono" },
        { label: "User", value: (d) => userLink(d.user_id) },
        { label: "Reason", value: (d) => d.reason, class: "wrap" },
        {
          label: state === "pending" ? "Action" : "Re-driven",
          value: (d, panel) =>
            d.redriven_at
              ? stamp(d.redriven_at) + " by " + dash(d.redriven_by)
              : d.can_redrive
                ? actionButton({
                    id: "redrive",
                    label: "Re-drive",
                    question: "Send " + d.notification_id + " back to the push-requests queue?",
                    confirm: "Re-drive",
                    run: () => api("POST", "/admin/dead-letters/" + enc(d.id) + "/redrive/").then(() => "Queued " + d.notification_id + " again."),
                    after: () => panel.reload(),
                  })
                : "too large to re-drive",
        },
      ],
    }),
  );
}

/** "#/users/<id>?a=b" → { parts: ["users", id], params }. */
function currentAddress() {
  const [path, query] = location.hash.replace(/^#\/?/, "").split("?");
  let parts;
  try {
    parts = path.split("/").filter(Boolean).map(decodeURIComponent);
  } catch {
    parts = [];
  }
  return { parts, params: new URLSearchParams(query || "") };
}

/** Navigates; the same address again renders again (a repeated search reloads). */
function go(section, params) {
  const query = params ? params.toString() : "";
  const hash = "#/" + section + (query ? "?" + query : "");
  if (location.hash === hash) route();
  else location.hash = hash;
}

function route() {
  renderHeader();
  rendering++;
  if (!session) {
    signInView();
    return;
  }
  const { parts, params } = currentAddress();
  const [section, id] = parts;
  for (const link of document.querySelectorAll("#nav a")) {
    if (link.dataset.nav === (section || "users")) link.setAttribute("aria-current", "page");
    else link.removeAttribute("aria-current");
  }
  if (section === "users" && id) userPage(id);
  else if (section === "deliveries") deliveriesView(params);
  else usersView(params);
}

document.getElementById("sign-out").addEventListener("click", signOut);
window.addEventListener("hashchange", () => {
  notify("");
  route();
});
route();
`;
