/**
 * The transactional outbox: an event is a row written in the same `DB.batch` as the change it
 * announces, so a committed change never loses its event and an uncommitted one never emits it.
 * Rows are published to USER_EVENTS after the response (see the event-pipeline code).
 */
import type { RequestMeta } from "../audit/audit-log";
import type { Db } from "../db/client";
import { outbox } from "../db/schema";
import {
  EVENT_VERSION,
  type EventData,
  type EventEnvelope,
  type EventType,
  eventSchema,
} from "./contracts";

/**
 * The insert statement for one event, validated against its contract (a mismatch is a bug and
 * fails the whole write).
 */
export function outboxEvent<T extends EventType>(
  db: Db,
  meta: Pick<RequestMeta, "correlationId">,
  type: T,
  data: EventData<T>,
  at: Date,
) {
  const envelope = eventSchema(type).parse({
    id: crypto.randomUUID(),
    type,
    version: EVENT_VERSION,
    occurred_at: at.toISOString(),
    correlation_id: meta.correlationId,
    data,
  }) as EventEnvelope<T>;
  return db.insert(outbox).values({
    id: envelope.id,
    type,
    payload: JSON.stringify(envelope),
    createdAt: at,
  });
}
