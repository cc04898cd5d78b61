/**
 * The dev mailbox as pages you can click (GET /_dev/mailbox/view and /_dev/mailbox/view/{id}):
 * each USER_EVENTS message rendered as the email it stands for (src/dev/mail-render.ts), beside
 * the raw JSON of GET /_dev/mailbox. No script; links are root-relative, so the pages work with
 * or without a trailing slash.
 */
import { createMiddleware } from "hono/factory";
import type { AppEnv } from "../app-env";
import type { AnyEvent } from "../events/contracts";
import { formatTime, html, renderMail, SafeHtml } from "./mail-render";

/**
 * The app's strict `default-src 'none'` plus the inline `<style>` and the address form's GET to
 * this origin. Still no script, no other origin, no framing; links out are navigations, which a
 * CSP does not govern.
 */
const PAGE_CSP = [
  "default-src 'none'",
  "style-src 'unsafe-inline'",
  "base-uri 'none'",
  "form-action 'self'",
  "frame-ancestors 'none'",
].join("; ");

/**
 * Gives the pages PAGE_CSP. Registered ahead of the app's secureHeaders (AppExtension
 * `pagePolicies`), so it runs after it and has the last word; error envelopes keep the strict one.
 */
export const mailboxPageCsp = createMiddleware<AppEnv>(async (c, next) => {
  await next();
  if (c.res.ok) c.header("Content-Security-Policy", PAGE_CSP);
});

/** Raw text inside `<style>`: entities would not be decoded there, so it is not escaped. */
const STYLE = new SafeHtml(`
body { font: 15px/1.5 system-ui, sans-serif; max-width: 46rem; margin: 2rem auto; padding: 0 1rem; }
article { border: 1px solid #ccc; border-radius: 6px; padding: 0 1rem; margin: 1rem 0; }
article:target { border-color: #36c; box-shadow: 0 0 0 2px #36c3; }
.meta { color: #555; font-size: 13px; }
dt { font-weight: 600; }
dd { margin: 0 0 .5rem 1rem; word-break: break-all; }
a { word-break: break-all; }
`);

const listPath = (to: string) => `/_dev/mailbox/view?to=${encodeURIComponent(to)}`;
const messagePath = (to: string, id: string) =>
  `/_dev/mailbox/view/${encodeURIComponent(id)}?to=${encodeURIComponent(to)}`;
const jsonPath = (to: string) => `/_dev/mailbox?to=${encodeURIComponent(to)}`;

function document(title: string, content: SafeHtml): string {
  return html`<!doctype html>
<html lang="en">
  <head>
    <meta charset="utf-8">
    <meta name="viewport" content="width=device-width, initial-scale=1">
    <title>${title}</title>
    <style>${STYLE}</style>
  </head>
  <body>
${content}
  </body>
</html>
`.value;
}

/** One message; `alone` says whether it is the single-message page (then it links back). */
function message(to: string, event: AnyEvent, alone: boolean): SafeHtml {
  const mail = renderMail(event);
  const nav = alone
    ? html`<a href="${listPath(to)}#${event.id}">All messages to ${to}</a>`
    : html`<a href="${messagePath(to, event.id)}">View alone</a>`;
  return html`<article id="${event.id}">
  <h2>${mail.subject}</h2>
  <p class="meta">To ${to} · ${formatTime(event.occurred_at)} · <code>${event.type}</code> · ${nav}</p>
  ${mail.body}
</article>`;
}

function addressForm(to: string): SafeHtml {
  return html`<form method="get" action="/_dev/mailbox/view">
  <label>Address <input type="email" name="to" value="${to}" required></label>
  <button type="submit">Open mailbox</button>
</form>`;
}

/** The list page: the form, then the messages (newest first); without an address, the form. */
export function mailboxPage(to: string | undefined, events: AnyEvent[], limit: number): string {
  if (to === undefined) {
    return document(
      "Dev mailbox",
      html`<h1>Dev mailbox</h1>${addressForm("")}
<p>What the email service would have sent to an address, rendered as the emails.</p>`,
    );
  }
  const summary = events.length
    ? html`${events.length} message(s), newest first (at most ${limit}).`
    : html`No messages yet. Mail arrives through the local queue a moment after it is sent.`;
  return document(
    `Dev mailbox: ${to}`,
    html`<h1>Dev mailbox: ${to}</h1>${addressForm(to)}
<p>${summary} <a href="${jsonPath(to)}">The same as JSON</a></p>
${events.map((event) => message(to, event, false))}`,
  );
}

/** The single-message page. */
export function messagePage(to: string, event: AnyEvent): string {
  return document(
    `${renderMail(event).subject} (dev mailbox)`,
    html`${message(to, event, true)}
<p><a href="${jsonPath(to)}">The mailbox as JSON</a></p>`,
  );
}
