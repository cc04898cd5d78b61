/**
 * Reading what the email service would receive, through the dev mailbox: outbox → USER_EVENTS →
 * the local consumer → KV → GET /_dev/mailbox. Real queues, so messages arrive after a moment.
 */
import { vi } from "vitest";
import { call, type Envelope } from "./api";

export interface MailboxEvent {
  id: string;
  type: string;
  occurred_at: string;
  correlation_id: string;
  data: Record<string, string>;
}

export async function mailbox(email: string): Promise<MailboxEvent[]> {
  const res = await call<Envelope<MailboxEvent[]>>(
    "GET",
    `http://localhost/_dev/mailbox?to=${encodeURIComponent(email)}`,
  );
  if (res.status !== 200) throw new Error(`mailbox answered ${res.status}: ${res.text}`);
  return res.body.data;
}

/** Waits until `count` messages of `type` reached this address; returns them newest first. */
export async function waitForMail(email: string, type: string, count = 1): Promise<MailboxEvent[]> {
  return vi.waitUntil(
    async () => {
      const messages = (await mailbox(email)).filter((m) => m.type === type);
      return messages.length >= count ? messages : false;
    },
    { timeout: 10_000, interval: 50 },
  );
}

/** The token of the newest message of `type` sent to this address. */
export async function tokenFromMail(email: string, type: string, count = 1): Promise<string> {
  const [newest] = await waitForMail(email, type, count);
  const token = newest?.data.token;
  if (!token) throw new Error(`no token in ${type} for ${email}`);
  return token;
}
