/**
 * The dev mailbox rendered as pages (GET /_dev/mailbox/view, /_dev/mailbox/view/{id}): the
 * emails the email service would send, with links to click, every value escaped, no script.
 */
import { describe, expect, it } from "vitest";
import { createApp } from "../src/app";
import { renderMail } from "../src/dev/mail-render";
import type { AnyEvent } from "../src/events/contracts";
import { devTools } from "../src/routes/dev/dev.index";
import { type ApiResponse, call, callWith, expectError, request } from "./helpers/api";
import { type MailboxEvent, waitForMail } from "./helpers/mailbox";
import { register } from "./helpers/users";

const VERIFY = "user.email_verification_requested";
const RESET = "user.password_reset_requested";
const PAGE_CSP =
  "default-src 'none'; style-src 'unsafe-inline'; base-uri 'none'; form-action 'self'; " +
  "frame-ancestors 'none'";

const viewUrl = (email: string, path = "/_dev/mailbox/view") =>
  `http://localhost${path}?to=${encodeURIComponent(email)}`;

/** A user with a verification and a reset email in the mailbox, once both have arrived. */
async function userWithMail(name = "Ada Lovelace") {
  const user = await register({ name });
  await callWith({}, request("POST", "/auth/password-reset/", { body: { email: user.email } }));
  const [verify] = await waitForMail(user.email, VERIFY);
  const [reset] = await waitForMail(user.email, RESET);
  if (!verify || !reset) throw new Error("mail did not arrive");
  return { user, verify, reset };
}

function expectPage(res: ApiResponse) {
  expect(res.status, res.text).toBe(200);
  expect(res.headers.get("Content-Type")).toMatch(/^text\/html/);
  expect(res.headers.get("Content-Security-Policy")).toBe(PAGE_CSP);
  expect(res.text).not.toMatch(/<script/i);
}

function event(type: string, data: Record<string, unknown>): AnyEvent {
  return {
    id: crypto.randomUUID(),
    type,
    version: 1,
    occurred_at: "2025-01-31T14:05:00.000Z",
    correlation_id: "test",
    data,
  } as AnyEvent;
}

describe("the list page GET /_dev/mailbox/view", () => {
  it("renders each message as its email, newest first, with its links as anchors", async () => {
    const { user, verify, reset } = await userWithMail();
    const res = await call("GET", viewUrl(user.email));
    expectPage(res);
    expect(res.text).toContain("Hi Ada Lovelace,");
    expect(verify.data.link).toMatch(/^http:\/\/localhost:3000\//);
    expect(reset.data.link).toMatch(/^http:\/\/localhost:3000\//);
    expect(res.text).toContain(`<a href="${verify.data.link}">`);
    expect(res.text).toContain(`<a href="${reset.data.link}">`);
    // The reset was requested after registering: it comes first.
    const resetAt = res.text.indexOf("<h2>Reset your password</h2>");
    const verifyAt = res.text.indexOf("<h2>Verify your email address</h2>");
    expect(resetAt).toBeGreaterThan(-1);
    expect(verifyAt).toBeGreaterThan(resetAt);
    for (const mail of [verify, reset]) {
      expect(res.text).toContain(`<article id="${mail.id}">`);
      expect(res.text).toContain(
        `href="/_dev/mailbox/view/${mail.id}?to=${encodeURIComponent(user.email)}"`,
      );
    }
    expect(res.text).toContain(`href="/_dev/mailbox?to=${encodeURIComponent(user.email)}"`);
    expect(res.text).toContain('<form method="get" action="/_dev/mailbox/view">');
  });

  it("answers the same with a trailing slash, and shows only the form without an address", async () => {
    const { user } = await userWithMail();
    const slash = await call("GET", viewUrl(user.email, "/_dev/mailbox/view/"));
    expectPage(slash);
    expect(slash.text).toContain("<h2>Reset your password</h2>");
    const empty = await call("GET", "http://localhost/_dev/mailbox/view");
    expectPage(empty);
    expect(empty.text).toContain('<input type="email" name="to" value=""');
    expect(empty.text).not.toContain("<article");
  });

  it("shows a name full of markup as text, and the page has no script", async () => {
    const { user } = await userWithMail("<script>alert(1)</script>");
    const res = await call("GET", viewUrl(user.email));
    expectPage(res);
    expect(res.text).toContain("Hi &lt;script&gt;alert(1)&lt;/script&gt;,");
    expect(res.text).not.toContain("<script");
  });

  it("keeps the JSON mailbox as it was", async () => {
    const { user, verify } = await userWithMail();
    const res = await call<{ data: MailboxEvent[] }>(
      "GET",
      `http://localhost/_dev/mailbox/?to=${encodeURIComponent(user.email)}`,
    );
    expect(res.status).toBe(200);
    expect(res.headers.get("Content-Type")).toMatch(/^application\/json/);
    expect(res.headers.get("Content-Security-Policy")).toContain("default-src 'none'");
    expect(res.headers.get("Content-Security-Policy")).not.toContain("style-src");
    expect(res.body.data.map((m) => m.id)).toContain(verify.id);
  });

  it("validates the address", async () => {
    expectError(
      await call("GET", "http://localhost/_dev/mailbox/view?to=nope"),
      400,
      "validation_failed",
    );
  });
});

describe("the message page GET /_dev/mailbox/view/{event_id}", () => {
  it("renders that message alone, linking back to the list", async () => {
    const { user, verify, reset } = await userWithMail();
    const res = await call("GET", viewUrl(user.email, `/_dev/mailbox/view/${reset.id}`));
    expectPage(res);
    expect(res.text).toContain("<h2>Reset your password</h2>");
    expect(res.text).toContain(`<a href="${reset.data.link}">`);
    expect(res.text).not.toContain(verify.data.link);
    expect(res.text).toContain(
      `href="/_dev/mailbox/view?to=${encodeURIComponent(user.email)}#${reset.id}"`,
    );
  });

  it("is 404 for an unknown id, and for a message sent to another address", async () => {
    const { user, reset } = await userWithMail();
    const other = await register();
    const unknown = await call(
      "GET",
      viewUrl(user.email, `/_dev/mailbox/view/${crypto.randomUUID()}`),
    );
    expectError(unknown, 404, "not_found");
    expect(unknown.headers.get("Content-Security-Policy")).not.toContain("style-src");
    expectError(
      await call("GET", viewUrl(other.email, `/_dev/mailbox/view/${reset.id}`)),
      404,
      "not_found",
    );
  });
});

describe("the renderer", () => {
  const user = { user_id: crypto.randomUUID(), email: "ada@example.com", name: "Ada" };

  it("never makes an href of a link that is not http(s)", () => {
    for (const bad of ["javascript:alert(1)", "JavaScript:alert(1)", "data:text/html,x", "nope"]) {
      const { subject, body } = renderMail(
        event(RESET, { ...user, token: "t", link: bad, expires_at: "2025-01-31T15:05:00.000Z" }),
      );
      expect(subject).toBe("Reset your password");
      expect(body.value).not.toContain("href");
      expect(body.value).toContain(`<code>${bad}</code>`);
    }
  });

  it("renders both links of a duplicate registration and escapes what users typed", () => {
    const { subject, body } = renderMail(
      event("user.duplicate_registration", {
        ...user,
        name: '"><img src=x onerror=alert(1)>',
        login_link: "https://app.example.com/login?a=1&b=2",
        reset_link: "http://localhost:3000/forgot-password",
      }),
    );
    expect(subject).toBe("Someone tried to sign up with your email");
    expect(body.value).toContain('<a href="https://app.example.com/login?a=1&amp;b=2">Log in</a>');
    expect(body.value).toContain('<a href="http://localhost:3000/forgot-password">');
    expect(body.value).toContain("Hi &quot;&gt;&lt;img src=x onerror=alert(1)&gt;,");
    expect(body.value).not.toContain("<img");
  });

  it("renders security notices, and any other event as its type and data", () => {
    const factor = { ...user, factor_id: crypto.randomUUID(), factor_type: "webauthn" };
    expect(renderMail(event("security.mfa_enabled", factor)).subject).toBe(
      "A sign-in factor was added",
    );
    const removed = renderMail(event("security.mfa_disabled", { ...factor, remaining: 0 }));
    expect(removed.body.value).toContain("A passkey was removed from ada@example.com");
    expect(removed.body.value).toContain("password alone");
    const other = renderMail(
      event("user.updated", { ...user, username: null, changed: ["<name>"] }),
    );
    expect(other.subject).toBe("user.updated");
    expect(other.body.value).toContain("<dt>changed</dt><dd>[&quot;&lt;name&gt;&quot;]</dd>");
  });
});

describe("when dev tools are off", () => {
  it("the pages do not exist", async () => {
    const off = { DEV_TOOLS: "false" };
    const email = "ada@example.com";
    expectError(await callWith(off, new Request(viewUrl(email))), 404, "not_found");
    expectError(
      await callWith(off, new Request(viewUrl(email, `/_dev/mailbox/view/${crypto.randomUUID()}`))),
      404,
      "not_found",
    );
  });
});

describe("the OpenAPI document", () => {
  it("documents both pages", () => {
    const doc = createApp(devTools).getOpenAPI31Document({
      openapi: "3.1.0",
      info: { title: "user-service", version: "test" },
    });
    expect(Object.keys(doc.paths?.["/_dev/mailbox/view"] ?? {})).toContain("get");
    expect(Object.keys(doc.paths?.["/_dev/mailbox/view/{event_id}"] ?? {})).toContain("get");
  });
});
