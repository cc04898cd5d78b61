/**
 * Push requests from producers outside Cloudflare (POST /api/v1/push/requests/, the Django test
 * path, the RabbitMQ bridge): each is checked as the consumer would check it, and the valid ones
 * go on PUSH_REQUESTS exactly as they were sent. Idempotent by notification id: a request posted
 * again is answered `duplicate` and not queued twice.
 */
import { inArray } from "drizzle-orm";
import type { Db } from "../db/client";
import { pushIngress } from "../db/schema";
import { ApiError } from "../errors";
import { normalizePushRequest, pushRequestSchema, requestChannel } from "../events/push-messages";
import { errorDetail, log } from "../logging";

export type IngressResult =
  | { index: number; status: "accepted" | "duplicate"; notification_id: string }
  | { index: number; status: "refused"; notification_id: string | null; reason: string };

/** What the consumer would say of one request before looking anything up: its id, or why not. */
function check(body: unknown): { id: string } | { id: string | null; reason: string } {
  const normalized = normalizePushRequest(body);
  const id = (normalized as { notification_id?: unknown } | null)?.notification_id;
  const known = typeof id === "string" && id.length > 0 && id.length <= 255 ? id : null;
  const channel = requestChannel(body);
  if (channel !== null && channel !== "push") {
    return { id: known, reason: `not a push request (type "${channel.slice(0, 32)}")` };
  }
  const parsed = pushRequestSchema.safeParse(normalized);
  if (parsed.success) return { id: parsed.data.notification_id };
  const reason = parsed.error.issues
    .map((i) => `${i.path.join(".") || "body"}: ${i.message}`)
    .join("; ");
  return { id: known, reason: `invalid request: ${reason}`.slice(0, 1000) };
}

/** Checks each request and queues the valid, new ones; one result per request, in order. */
export async function acceptPushRequests(
  env: Env,
  db: Db,
  bodies: unknown[],
  from: string,
  now: Date,
): Promise<IngressResult[]> {
  const seen = new Set<string>();
  const results: IngressResult[] = bodies.map((body, index) => {
    const checked = check(body);
    if ("reason" in checked) {
      return { index, status: "refused", notification_id: checked.id, reason: checked.reason };
    }
    const status = seen.has(checked.id) ? "duplicate" : "accepted";
    seen.add(checked.id);
    return { index, status, notification_id: checked.id };
  });
  const candidates = results.filter(
    (r): r is Extract<IngressResult, { status: "accepted" | "duplicate" }> =>
      r.status === "accepted",
  );
  const [first, ...rest] = candidates.map((r) =>
    db
      .insert(pushIngress)
      .values({ notificationId: r.notification_id, receivedAt: now, receivedFrom: from })
      .onConflictDoNothing()
      .returning({ id: pushIngress.notificationId }),
  );
  if (!first) return results;
  const inserted = new Set((await db.batch([first, ...rest])).flat().map((row) => row.id));
  for (const r of candidates) if (!inserted.has(r.notification_id)) r.status = "duplicate";

  const fresh = candidates.filter((r) => inserted.has(r.notification_id));
  if (fresh.length === 0) return results;
  try {
    await env.PUSH_REQUESTS.sendBatch(
      fresh.map((r) => ({ body: bodies[r.index], contentType: "json" as const })),
    );
  } catch (err) {
    // Not queued, so not taken in either: a retry of the same requests must queue them.
    log("error", "push_ingress_enqueue_failed", { detail: errorDetail(err) });
    await db
      .delete(pushIngress)
      .where(inArray(pushIngress.notificationId, [...inserted]))
      .catch(() => undefined);
    throw new ApiError("service_unavailable", "The push queue is unavailable; retry the request");
  }
  return results;
}
