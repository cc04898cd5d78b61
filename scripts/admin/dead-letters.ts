/**
 * `dead-letters …`: the push requests that failed for good, and sending one back to
 * push-requests (once; the service answers 409 conflict for a second time or a letter kept
 * without its original).
 */
import { ApiFailure } from "./client.ts";
import { type Column, listing, text, when } from "./output.ts";
import type { Command } from "./users.ts";

interface DeadLetter {
  id: string;
  queue: string;
  notification_id: string;
  user_id: string | null;
  reason: string;
  can_redrive: boolean;
  failed_at: string;
  redriven_at: string | null;
  redriven_by: string | null;
}

function state(letter: DeadLetter): string {
  if (letter.redriven_at) return `redriven ${when(letter.redriven_at)}`;
  return letter.can_redrive ? "pending" : "pending (no original kept)";
}

const COLUMNS: Column<DeadLetter>[] = [
  ["ID", (d) => d.id, 40],
  ["FAILED", (d) => when(d.failed_at)],
  ["NOTIFICATION", (d) => d.notification_id, 30],
  ["USER", (d) => text(d.user_id), 36],
  ["REASON", (d) => d.reason, 50],
  ["STATE", state],
];

export const deadLetters: Record<string, Command> = {
  list: async (client, options) => {
    const answer = await client.call<DeadLetter[]>("GET", "/admin/dead-letters/", {
      state: options.state,
      page: options.page,
      limit: options.limit,
    });
    return {
      json: { data: answer.data, meta: answer.meta },
      text: listing(COLUMNS, answer.data, answer.meta, "dead letters"),
    };
  },
  redrive: async (client, options) => {
    const id = encodeURIComponent(options.args[0] ?? "");
    // Escaping leaves "." and "..", which URL resolution would walk up from.
    if (/^\.*$/.test(id)) throw new ApiFailure("not_found", "Dead letter not found");
    const answer = await client.call<DeadLetter>("POST", `/admin/dead-letters/${id}/redrive/`);
    const letter = answer.data;
    return {
      json: letter,
      text: `${answer.message}: ${letter.id} (notification ${letter.notification_id}) to ${letter.queue}.`,
    };
  },
};
