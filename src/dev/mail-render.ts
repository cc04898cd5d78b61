/**
 * The emails the email service would send for USER_EVENTS, as the dev mailbox page shows them
 * (src/dev/mailbox-page.ts). Pure functions: an event in, escaped HTML out.
 *
 * Event data carries what users typed (names, addresses), so nothing is interpolated unescaped:
 * the `html` tag below escapes every value unless it is already `SafeHtml`, and only http(s)
 * URLs become links (a `javascript:` or `data:` value would run in the page's origin).
 */
import type { AnyEvent } from "../events/contracts";

/** Markup that is already escaped; anything else that reaches `html` is escaped. */
export class SafeHtml {
  constructor(readonly value: string) {}
}

const ENTITIES: Record<string, string> = {
  "&": "&amp;",
  "<": "&lt;",
  ">": "&gt;",
  '"': "&quot;",
  "'": "&#39;",
};

function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (ch) => ENTITIES[ch] ?? ch);
}

type Part = SafeHtml | string | number | readonly Part[];

function fragment(part: Part): string {
  if (part instanceof SafeHtml) return part.value;
  if (Array.isArray(part)) return part.map(fragment).join("");
  return escapeHtml(String(part));
}

/** A template whose interpolations are escaped (arrays are joined, `SafeHtml` kept as is). */
export function html(strings: TemplateStringsArray, ...parts: Part[]): SafeHtml {
  return new SafeHtml(strings.reduce((out, s, i) => out + fragment(parts[i - 1] ?? "") + s));
}

/** A link for http(s) URLs only; anything else is shown as text beside its label. */
function link(url: string, label: string): SafeHtml {
  let parsed: URL | null = null;
  try {
    parsed = new URL(url);
  } catch {
    // Not a URL at all: shown as text below.
  }
  if (parsed && (parsed.protocol === "http:" || parsed.protocol === "https:")) {
    // The parsed form, so what was checked is exactly what the browser follows.
    return html`<a href="${parsed.href}">${label}</a>`;
  }
  return html`${label}: <code>${url}</code> (not an http(s) link)`;
}

/** ISO timestamps as `2025-01-31 14:05 UTC`; anything unreadable as it was sent. */
export function formatTime(iso: string): string {
  const ms = Date.parse(iso);
  return Number.isNaN(ms)
    ? iso
    : `${new Date(ms).toISOString().slice(0, 16).replace("T", " ")} UTC`;
}

export interface RenderedMail {
  subject: string;
  /** The greeting, body text and links: an escaped fragment. */
  body: SafeHtml;
}

const FACTOR_NAMES = { totp: "An authenticator app", webauthn: "A passkey" } as const;

const IF_NOT_YOU = html`<p>If this wasn't you, reset your password right away.</p>`;

function greeting(name?: string): SafeHtml {
  return name ? html`<p>Hi ${name},</p>` : html`<p>Hello,</p>`;
}

/** What has no template of its own: its fields, each value as text. */
function definitionList(data: Record<string, unknown>): SafeHtml {
  const rows = Object.entries(data).map(
    ([key, value]) =>
      html`<dt>${key}</dt><dd>${typeof value === "string" ? value : JSON.stringify(value)}</dd>`,
  );
  return html`<dl>${rows}</dl>`;
}

/** The email the email service would send for an event (the fallback lists its data). */
export function renderMail(event: AnyEvent): RenderedMail {
  switch (event.type) {
    case "user.created": {
      const d = event.data;
      return {
        subject: "Welcome!",
        body: html`${greeting(d.name)}<p>Your account for ${d.email} is ready.</p>`,
      };
    }
    case "user.email_verification_requested": {
      const d = event.data;
      return {
        subject: "Verify your email address",
        body: html`${greeting(d.name)}
<p>Confirm that ${d.email} is your address: ${link(d.link, "Verify email address")}</p>
<p>The link expires at ${formatTime(d.expires_at)}.</p>`,
      };
    }
    case "user.password_reset_requested": {
      const d = event.data;
      return {
        subject: "Reset your password",
        body: html`${greeting(d.name)}
<p>Someone asked to reset the password of ${d.email}. ${link(d.link, "Choose a new password")}</p>
<p>The link expires at ${formatTime(d.expires_at)}. If you did not ask, ignore this email: your
password stays as it is.</p>`,
      };
    }
    case "user.sign_in_code_requested": {
      const d = event.data;
      return {
        subject: `Your sign-in code: ${d.code}`,
        body: html`${greeting(d.name)}
<p>Your code to sign in as ${d.email} is <strong>${d.code}</strong>, or ${link(d.link, "sign in with this link")}.</p>
<p>It expires at ${formatTime(d.expires_at)}. If you did not ask for it, ignore this email.</p>`,
      };
    }
    case "identity.linked": {
      const d = event.data;
      return {
        subject: "A sign-in method was added to your account",
        body: html`<p>Your account ${d.email} can now be signed in to with ${d.provider}. If this was
not you, unlink it and change your password.</p>`,
      };
    }
    case "user.duplicate_registration": {
      const d = event.data;
      return {
        subject: "Someone tried to sign up with your email",
        body: html`${greeting(d.name)}
<p>Someone tried to create an account with ${d.email}, which already has one.</p>
<p>If it was you: ${link(d.login_link, "Log in")} or ${link(d.reset_link, "reset your password")}.
If not, you can ignore this email.</p>`,
      };
    }
    case "user.password_changed": {
      const d = event.data;
      const how = d.reason === "reset" ? "reset with a reset link" : "changed";
      return {
        subject: "Your password was changed",
        body: html`${greeting(d.name)}<p>The password of ${d.email} was just ${how}.</p>${IF_NOT_YOU}`,
      };
    }
    case "user.deactivated": {
      const d = event.data;
      const who = d.reason === "admin" ? "An administrator deactivated" : "You deactivated";
      return {
        subject: "Your account was deactivated",
        body: html`${greeting()}<p>${who} the account ${d.email}. You can no longer sign in.</p>`,
      };
    }
    case "security.refresh_token_reused": {
      const d = event.data;
      const from = [d.ip, d.user_agent].filter(Boolean).join(", ");
      return {
        subject: "Security alert: a session was used twice",
        body: html`${greeting()}
<p>A sign-in token of one of your sessions was used again after it had been replaced, which can
mean it was copied. That session has been signed out.</p>
${from ? html`<p>The second use came from ${from}.</p>` : ""}${IF_NOT_YOU}`,
      };
    }
    case "security.mfa_enabled": {
      const d = event.data;
      return {
        subject: "A sign-in factor was added",
        body: html`${greeting(d.name)}
<p>${FACTOR_NAMES[d.factor_type]} was added to ${d.email} as a second step for signing in.</p>
${IF_NOT_YOU}`,
      };
    }
    case "security.mfa_disabled": {
      const d = event.data;
      const left =
        d.remaining === 0
          ? "Signing in now needs your password alone."
          : `You have ${d.remaining} other factor(s) left.`;
      return {
        subject: "A sign-in factor was removed",
        body: html`${greeting(d.name)}
<p>${FACTOR_NAMES[d.factor_type]} was removed from ${d.email}. ${left}</p>${IF_NOT_YOU}`,
      };
    }
    case "security.mfa_reset": {
      const d = event.data;
      return {
        subject: "Your sign-in factors were reset",
        body: html`${greeting(d.name)}
<p>An administrator removed every second factor from ${d.email} and signed you out everywhere.
Sign in with your password to set them up again.</p>`,
      };
    }
    default:
      return { subject: event.type, body: definitionList(event.data) };
  }
}
