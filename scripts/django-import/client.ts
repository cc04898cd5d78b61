/**
 * One call of the import API, retried where retrying can help: a network error, a 5xx, a 429 (after
 * its Retry-After) or a 409 "still in progress" of its own earlier attempt. Each call carries an
 * Idempotency-Key, so an attempt whose answer was lost is answered from the server's record
 * instead of being imported again. Any other 4xx stops the import with the server's message.
 */
import type { Report, Status } from "./report.ts";

const IMPORT_PATH = "/api/v1/admin/users/import/";

export interface ServerResult {
  index: number;
  status: Status;
  id: string | null;
  legacy_id: number | null;
  email: string;
  source?: string;
  reason?: string;
  warnings?: string[];
}

/** Stops the import: the server refused the call itself, or retries ran out. */
export class ImportFailed extends Error {}

interface Call {
  url: string;
  auth: { header: string; value: string } | null;
  body: string;
  idempotencyKey: string;
  retries: number;
  report: Report;
}

const TIMEOUT_MS = 120_000;
const MAX_BACKOFF_MS = 30_000;
/** The longest a Retry-After is waited for before the next attempt. */
const MAX_WAIT_MS = 300_000;

function sleep(ms: number) {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Retry-After in ms (seconds or an HTTP date), or null. */
function retryAfter(response: Response): number | null {
  const value = response.headers.get("Retry-After");
  if (value === null) return null;
  const seconds = Number(value);
  if (Number.isFinite(seconds)) return Math.max(0, seconds * 1000);
  const date = Date.parse(value);
  return Number.isNaN(date) ? null : Math.max(0, date - Date.now());
}

function backoff(attempt: number) {
  const base = Math.min(MAX_BACKOFF_MS, 500 * 2 ** attempt);
  return base / 2 + Math.random() * (base / 2);
}

async function failure(response: Response): Promise<string> {
  const text = await response.text().catch(() => "");
  try {
    const body = JSON.parse(text) as { message?: string; error?: string; details?: unknown };
    const details = body.details ? ` ${JSON.stringify(body.details)}` : "";
    return `${response.status} ${body.error ?? ""}: ${body.message ?? text}${details}`;
  } catch {
    return `${response.status}: ${text.slice(0, 500)}`;
  }
}

async function attempt(call: Call): Promise<Response> {
  return fetch(`${call.url}${IMPORT_PATH}`, {
    method: "POST",
    headers: {
      "Content-Type": "application/json",
      "Idempotency-Key": call.idempotencyKey,
      ...(call.auth ? { [call.auth.header]: call.auth.value } : {}),
    },
    body: call.body,
    signal: AbortSignal.timeout(TIMEOUT_MS),
  });
}

/** Why an answer is worth another attempt (a counter of Report.retries), or null. */
function retryable(response: Response): keyof Report["retries"] | null {
  if (response.status === 429) return "rate_limited";
  if (response.status >= 500) return "server_error";
  if (response.status === 409 && response.headers.has("Retry-After")) return "in_progress";
  return null;
}

/** Sends one batch; its results, or ImportFailed. */
export async function sendBatch(call: Call): Promise<ServerResult[]> {
  let last = "";
  for (let n = 0; n <= call.retries; n++) {
    let response: Response;
    try {
      response = await attempt(call);
    } catch (err) {
      const cause = (err as Error).cause as { code?: string; message?: string } | undefined;
      last = `network error: ${cause?.code ?? cause?.message ?? (err as Error).message}`;
      call.report.retries.network++;
      await sleep(backoff(n));
      continue;
    }
    if (response.ok) return results(response);
    const reason = retryable(response);
    if (reason === null)
      throw new ImportFailed(`the server refused the call: ${await failure(response)}`);
    last = await failure(response);
    call.report.retries[reason]++;
    await sleep(Math.min(retryAfter(response) ?? backoff(n), MAX_WAIT_MS));
  }
  throw new ImportFailed(`gave up after ${call.retries + 1} attempts: ${last}`);
}

async function results(response: Response): Promise<ServerResult[]> {
  const body = (await response.json().catch(() => null)) as {
    data?: { results?: ServerResult[] };
  } | null;
  const list = body?.data?.results;
  if (!Array.isArray(list)) throw new ImportFailed("the server's answer has no data.results");
  return list;
}
