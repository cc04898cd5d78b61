/**
 * Event contracts (DESIGN §6): one envelope, one zod schema per event type. Producers validate what
 * they write to the outbox; consumers `safeParse` what they receive with the same schemas.
 */
import { z } from "zod";

const userFields = {
  user_id: z.uuid(),
  email: z.email(),
  username: z.string().nullable(),
  name: z.string(),
};

export const eventDataSchemas = {
  "user.created": z.object(userFields),
  "user.updated": z.object({
    ...userFields,
    /** Names of the user-object fields that changed. */
    changed: z.array(z.string()).min(1),
  }),
  "user.deactivated": z.object({
    user_id: z.uuid(),
    email: z.email(),
    reason: z.enum(["self", "admin"]),
  }),
  "security.refresh_token_reused": z.object({
    user_id: z.uuid(),
    session_id: z.uuid(),
    ip: z.string().nullable(),
    user_agent: z.string().nullable(),
  }),
} as const;

export type EventType = keyof typeof eventDataSchemas;
export const EVENT_TYPES = Object.keys(eventDataSchemas) as EventType[];
export type EventData<T extends EventType> = z.infer<(typeof eventDataSchemas)[T]>;

export const EVENT_VERSION = 1;

/** The envelope schema for one event type. */
export function eventSchema<T extends EventType>(type: T) {
  return z.object({
    id: z.uuid(),
    type: z.literal(type),
    version: z.literal(EVENT_VERSION),
    occurred_at: z.iso.datetime(),
    correlation_id: z.string().min(1),
    data: eventDataSchemas[type],
  });
}

export type EventEnvelope<T extends EventType> = z.infer<ReturnType<typeof eventSchema<T>>>;
