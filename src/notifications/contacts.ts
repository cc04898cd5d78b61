/**
 * How to reach a user on one channel, as the replaced services' gateway asks for it: the address
 * (email) or device token (push) and whether the user wants that channel.
 */
import type { Db } from "../db/client";
import { notificationTargets } from "../push/targets";

export type ContactChannel = "email" | "push";

export interface Contact {
  user_id: string;
  /** The email address, or the primary device token; null when the user has no device. */
  contact: string | null;
  notification_type: ContactChannel;
  preferences_enabled: boolean;
}

/** Null for an unknown user. */
export async function contactFor(
  db: Db,
  kv: KVNamespace,
  userId: string,
  channel: ContactChannel,
): Promise<Contact | null> {
  const targets = await notificationTargets(db, kv, userId);
  if (!targets) return null;
  return {
    user_id: targets.user_id,
    contact: channel === "email" ? targets.email : targets.push_token,
    notification_type: channel,
    preferences_enabled: channel === "email" ? targets.email_enabled : targets.push_enabled,
  };
}
