/**
 * Webhook endpoints and their delivery log, as the admin API manages them: an endpoint's secret
 * is shown once, at creation; every change is audited.
 */
import { and, count, desc, eq, type SQL } from "drizzle-orm";
import type { Scope } from "../app-env";
import { auditEntry } from "../audit/audit-log";
import type { Db } from "../db/client";
import { type WebhookDeliveryStatus, webhookDeliveries, webhookEndpoints } from "../db/schema";
import { ApiError } from "../errors";
import { SECRET_FIELDS } from "../events/contracts";
import { webhookUrlProblem } from "./url-policy";

type EndpointRow = typeof webhookEndpoints.$inferSelect;
type DeliveryRow = typeof webhookDeliveries.$inferSelect;

/** Every event but those carrying a one-time token, which an endpoint must name to get. */
export const ALL_EVENTS = "*";

export function subscribes(eventTypes: string[], type: string): boolean {
  if (eventTypes.includes(type)) return true;
  return eventTypes.includes(ALL_EVENTS) && !(type in SECRET_FIELDS);
}

function toEndpointObject(row: EndpointRow) {
  return {
    id: row.id,
    url: row.url,
    description: row.description,
    event_types: row.eventTypes,
    enabled: row.enabled,
    disabled_reason: row.disabledReason,
    failing_since: row.failingSince?.toISOString() ?? null,
    created_at: row.createdAt.toISOString(),
    updated_at: row.updatedAt.toISOString(),
  };
}
export type EndpointObject = ReturnType<typeof toEndpointObject>;

function toDeliveryObject(row: DeliveryRow) {
  return {
    id: row.id,
    endpoint_id: row.endpointId,
    event_id: row.eventId,
    event_type: row.eventType,
    status: row.status,
    attempts: row.attempts,
    last_status: row.lastStatus,
    last_error: row.lastError,
    latency_ms: row.latencyMs,
    created_at: row.createdAt.toISOString(),
    updated_at: row.updatedAt.toISOString(),
    delivered_at: row.deliveredAt?.toISOString() ?? null,
  };
}

/** `whsec_` and 32 random bytes in base64, the form Standard Webhooks libraries take. */
function newSecret(): string {
  const bytes = crypto.getRandomValues(new Uint8Array(32));
  return `whsec_${btoa(String.fromCharCode(...bytes))}`;
}

function checkUrl(scope: Scope, url: string) {
  const problem = webhookUrlProblem(scope.config, url);
  if (problem) {
    throw new ApiError("validation_failed", "Validation failed", {
      details: { url: [`The webhook URL ${problem}.`] },
    });
  }
}

const notFound = () => new ApiError("not_found", "Webhook endpoint not found");

async function endpointRow(db: Db, id: string): Promise<EndpointRow> {
  const [row] = await db.select().from(webhookEndpoints).where(eq(webhookEndpoints.id, id));
  if (!row) throw notFound();
  return row;
}

export interface EndpointInput {
  url: string;
  event_types: string[];
  description?: string | null | undefined;
  enabled?: boolean | undefined;
}

export async function createEndpoint(
  scope: Scope,
  adminId: string | null,
  input: EndpointInput,
): Promise<EndpointObject & { secret: string }> {
  checkUrl(scope, input.url);
  const now = new Date();
  const row: EndpointRow = {
    id: crypto.randomUUID(),
    url: input.url,
    description: input.description ?? null,
    eventTypes: [...new Set(input.event_types)],
    secret: newSecret(),
    enabled: input.enabled ?? true,
    disabledReason: input.enabled === false ? "admin" : null,
    failingSince: null,
    createdAt: now,
    updatedAt: now,
  };
  await scope.db.batch([
    scope.db.insert(webhookEndpoints).values(row),
    auditEntry(scope.db, scope.meta, {
      userId: adminId,
      action: "webhook_created",
      metadata: { endpoint_id: row.id, url: row.url, event_types: row.eventTypes },
      at: now,
    }),
  ]);
  return { ...toEndpointObject(row), secret: row.secret };
}

export async function listEndpoints(db: Db): Promise<EndpointObject[]> {
  const rows = await db.select().from(webhookEndpoints).orderBy(desc(webhookEndpoints.createdAt));
  return rows.map(toEndpointObject);
}

export async function getEndpoint(db: Db, id: string): Promise<EndpointObject> {
  return toEndpointObject(await endpointRow(db, id));
}

/** Enabling an endpoint again starts its failure clock afresh. */
export async function updateEndpoint(
  scope: Scope,
  adminId: string | null,
  id: string,
  change: Partial<EndpointInput>,
): Promise<EndpointObject> {
  if (change.url !== undefined) checkUrl(scope, change.url);
  const existing = await endpointRow(scope.db, id);
  const now = new Date();
  const set: Partial<EndpointRow> = { updatedAt: now };
  if (change.url !== undefined) set.url = change.url;
  if (change.description !== undefined) set.description = change.description;
  if (change.event_types !== undefined) set.eventTypes = [...new Set(change.event_types)];
  if (change.enabled !== undefined && change.enabled !== existing.enabled) {
    set.enabled = change.enabled;
    set.disabledReason = change.enabled ? null : "admin";
    set.failingSince = null;
  }
  const [, [updated]] = await scope.db.batch([
    auditEntry(scope.db, scope.meta, {
      userId: adminId,
      action: "webhook_updated",
      metadata: { endpoint_id: id, changed: Object.keys(change) },
      at: now,
    }),
    scope.db.update(webhookEndpoints).set(set).where(eq(webhookEndpoints.id, id)).returning(),
  ]);
  if (!updated) throw notFound();
  return toEndpointObject(updated);
}

/** Removes the endpoint and its delivery log; deliveries still queued for it are dropped. */
export async function deleteEndpoint(scope: Scope, adminId: string | null, id: string) {
  await endpointRow(scope.db, id);
  const now = new Date();
  const [, deleted] = await scope.db.batch([
    auditEntry(scope.db, scope.meta, {
      userId: adminId,
      action: "webhook_deleted",
      metadata: { endpoint_id: id },
      at: now,
    }),
    scope.db
      .delete(webhookEndpoints)
      .where(eq(webhookEndpoints.id, id))
      .returning({ id: webhookEndpoints.id }),
  ]);
  if (deleted.length === 0) throw notFound();
}

export async function listDeliveries(
  db: Db,
  endpointId: string,
  filter: { status?: WebhookDeliveryStatus | undefined },
  page: { page: number; limit: number },
) {
  await endpointRow(db, endpointId);
  const where: SQL | undefined = and(
    eq(webhookDeliveries.endpointId, endpointId),
    filter.status ? eq(webhookDeliveries.status, filter.status) : undefined,
  );
  const [rows, [total]] = await db.batch([
    db
      .select()
      .from(webhookDeliveries)
      .where(where)
      .orderBy(desc(webhookDeliveries.createdAt))
      .limit(page.limit)
      .offset((page.page - 1) * page.limit),
    db.select({ n: count() }).from(webhookDeliveries).where(where),
  ]);
  return { rows: rows.map(toDeliveryObject), total: total?.n ?? 0 };
}

/**
 * Queues a delivery again (whatever its state: a dead one, or one that succeeded and the receiver
 * lost). Its attempts go on counting. The payload is what was stored: a token field that was
 * blanked after the first delivery stays blank.
 */
export async function redeliver(
  scope: Scope,
  queue: Queue,
  adminId: string | null,
  endpointId: string,
  deliveryId: string,
) {
  const endpoint = await endpointRow(scope.db, endpointId);
  if (!endpoint.enabled) {
    throw new ApiError("conflict", "The webhook endpoint is disabled; enable it first");
  }
  const [found] = await scope.db
    .select({ id: webhookDeliveries.id })
    .from(webhookDeliveries)
    .where(and(eq(webhookDeliveries.id, deliveryId), eq(webhookDeliveries.endpointId, endpointId)));
  if (!found) throw new ApiError("not_found", "Delivery not found");
  const now = new Date();
  const [, [row]] = await scope.db.batch([
    auditEntry(scope.db, scope.meta, {
      userId: adminId,
      action: "webhook_redelivered",
      metadata: { endpoint_id: endpointId, delivery_id: deliveryId },
      at: now,
    }),
    scope.db
      .update(webhookDeliveries)
      .set({ status: "pending", updatedAt: now })
      .where(
        and(eq(webhookDeliveries.id, deliveryId), eq(webhookDeliveries.endpointId, endpointId)),
      )
      .returning(),
  ]);
  if (!row) throw new ApiError("not_found", "Delivery not found");
  await queue.send({ delivery_id: row.id, redelivery: true }, { contentType: "json" });
  return toDeliveryObject(row);
}
