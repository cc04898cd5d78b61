/**
 * One push request posted to the service's ingress (POST /api/v1/push/requests/), and what its
 * answer means for the RabbitMQ message: ack, dead-letter, or keep it and try again.
 */
import { errorText } from "./log.ts";

const TIMEOUT_MS = 10_000;

export type Verdict =
  /** The service has it (queued now, or already from an earlier delivery of the same message). */
  | { action: "ack"; status: "accepted" | "duplicate"; notificationId: string | null }
  /** The message is at fault: it will never be accepted as it is. */
  | { action: "dead-letter"; reason: string; httpStatus?: number }
  /** The service (or the bridge's configuration) is at fault: the message waits. */
  | {
      action: "retry";
      reason: string;
      httpStatus?: number;
      /** A configuration error an operator must fix (wrong key or URL), not a passing outage. */
      loud: boolean;
      /** The service's Retry-After, in milliseconds. */
      retryAfterMs?: number;
    };

interface IngressAnswer {
  message?: unknown;
  error?: unknown;
  data?: {
    results?: { status?: unknown; notification_id?: unknown; reason?: unknown }[];
  };
}

function retryAfterMs(header: string | null): number | undefined {
  const seconds = Number(header);
  return header !== null && Number.isFinite(seconds) && seconds >= 0 ? seconds * 1000 : undefined;
}

function describe(status: number, answer: IngressAnswer | null): string {
  const code = typeof answer?.error === "string" ? answer.error : `HTTP ${status}`;
  return typeof answer?.message === "string" ? `${code}: ${answer.message}` : code;
}

/** What a 2xx says about the one request posted. */
function verdictOf2xx(answer: IngressAnswer | null): Verdict {
  const result = answer?.data?.results?.[0];
  const id = typeof result?.notification_id === "string" ? result.notification_id : null;
  if (result?.status === "refused") {
    return {
      action: "dead-letter",
      reason: typeof result.reason === "string" ? result.reason : "refused",
    };
  }
  // A 2xx is the service taking the request; only an explicit refusal says otherwise.
  return {
    action: "ack",
    status: result?.status === "duplicate" ? "duplicate" : "accepted",
    notificationId: id,
  };
}

/** Posts `body` (one push request, as JSON text) and classifies the answer. Never throws. */
export async function postPushRequest(
  serviceUrl: string,
  serviceKey: string,
  body: string,
): Promise<Verdict> {
  let res: Response;
  let answer: IngressAnswer | null = null;
  try {
    res = await fetch(`${serviceUrl}/api/v1/push/requests/`, {
      method: "POST",
      headers: { "Content-Type": "application/json", "X-Service-Key": serviceKey },
      body,
      signal: AbortSignal.timeout(TIMEOUT_MS),
    });
    const text = await res.text();
    try {
      answer = JSON.parse(text) as IngressAnswer;
    } catch {
      // Not JSON (a proxy's error page): the status alone decides.
    }
  } catch (err) {
    return { action: "retry", reason: `service unreachable: ${errorText(err)}`, loud: false };
  }

  const status = res.status;
  if (status >= 200 && status < 300) return verdictOf2xx(answer);
  // 400 validation_failed / invalid_json, 413 too large: this message can never pass.
  if (status === 400 || status === 413) {
    return { action: "dead-letter", reason: describe(status, answer), httpStatus: status };
  }
  if (status === 401 || status === 403) {
    return {
      action: "retry",
      reason: `the service refused the service key (${describe(status, answer)}): check --service-key`,
      httpStatus: status,
      loud: true,
    };
  }
  if (status === 408 || status === 429 || status >= 500) {
    const wait = retryAfterMs(res.headers.get("Retry-After"));
    return {
      action: "retry",
      reason: describe(status, answer),
      httpStatus: status,
      loud: false,
      ...(wait === undefined ? {} : { retryAfterMs: wait }),
    };
  }
  // 404, 405, 415…: the bridge is talking to the wrong thing; not the message's fault.
  return {
    action: "retry",
    reason: `unexpected answer (${describe(status, answer)}): check --service-url`,
    httpStatus: status,
    loud: true,
  };
}
