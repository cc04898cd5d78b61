/**
 * One delivery attempt on the wire: the payload POSTed to the endpoint, signed per Standard
 * Webhooks with its secret (`webhook-id` is the delivery's id, the same on every attempt).
 */
import { Webhook } from "standardwebhooks";
import type { Config } from "../config";
import { errorDetail } from "../logging";

type Outcome = { ok: true; status: number } | { ok: false; status: number | null; error: string };

/** One signed POST of a delivery's payload; redirects are not followed. */
export async function post(
  config: Config,
  endpoint: { url: string; secret: string },
  delivery: { id: string; payload: string },
): Promise<Outcome> {
  const timestamp = new Date();
  const signature = new Webhook(endpoint.secret).sign(delivery.id, timestamp, delivery.payload);
  try {
    const res = await fetch(endpoint.url, {
      method: "POST",
      headers: {
        "Content-Type": "application/json",
        "User-Agent": "user-service-webhooks/1",
        "webhook-id": delivery.id,
        "webhook-timestamp": String(Math.floor(timestamp.getTime() / 1000)),
        "webhook-signature": signature,
      },
      body: delivery.payload,
      redirect: "manual",
      signal: AbortSignal.timeout(config.webhooks.timeoutMs),
    });
    // Only the status matters: the body is not read.
    await res.body?.cancel();
    if (res.status >= 200 && res.status < 300) return { ok: true, status: res.status };
    return { ok: false, status: res.status, error: `HTTP ${res.status}` };
  } catch (err) {
    const timedOut = err instanceof Error && err.name === "TimeoutError";
    return {
      ok: false,
      status: null,
      error: timedOut ? `timed out after ${config.webhooks.timeoutMs} ms` : errorDetail(err),
    };
  }
}
