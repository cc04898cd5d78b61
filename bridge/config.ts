/**
 * The bridge's configuration: flags, then environment variables, then defaults, checked once.
 * Bad usage is a UsageError, which the entry point turns into the usage text and exit code 2.
 */
import { parseArgs } from "node:util";
import { Webhook } from "standardwebhooks";

type Mode = "in" | "out";
type Profile = "payment" | "generic";

export interface Config {
  modes: Set<Mode>;
  amqpUrl: string;
  serviceUrl: string;
  /** Required for `in`: the X-Service-Key the push ingress takes. */
  serviceKey: string;
  queue: string;
  /** Check that the queue exists instead of declaring it (a queue someone else declared). */
  passive: boolean;
  prefetch: number;
  listen: { host: string; port: number };
  /** Required for `out`: the endpoint's `whsec_…` secret. */
  webhookSecret: string;
  profile: Profile;
  /** The generic profile's exchange. */
  exchange: string;
}

export class UsageError extends Error {}

export const USAGE = `Usage: npm run bridge -- [options]

Bridges RabbitMQ and the user service, both ways (bridge/README.md):
  in   consumes push requests from a RabbitMQ queue and posts each to the service's push ingress
       (POST /api/v1/push/requests/); acked after a 2xx, dead-lettered when refused as invalid,
       retried with backoff while the service is down
  out  receives the service's webhooks (Standard Webhooks signatures) and publishes them to
       RabbitMQ on a confirm channel

Options (flags win over the environment):
  --mode <in,out>           what to run: in, out or in,out (default in,out)
  --amqp-url <url>          RabbitMQ ($AMQP_URL; default amqp://guest:guest@127.0.0.1:5672)
  --service-url <url>       the user service ($USER_SERVICE_URL; default http://127.0.0.1:8787)
  --service-key <key>       its service key ($USER_SERVICE_KEY; required for in)
  --queue <name>            in: the push queue (default push.queue)
  --passive                 in: only check that the queue exists, never declare anything
  --prefetch <n>            in: unacknowledged messages held at once, 1-1000 (default 10)
  --listen <host:port>      out: where the webhook receiver listens (default 127.0.0.1:8790)
  --webhook-secret <whsec>  out: the endpoint's secret ($WEBHOOK_SECRET; required for out)
  --profile <name>          out: payment (user.created for the payment service, the default) or
                            generic (every event, routing key = its type)
  --exchange <name>         out, generic: the topic exchange (default user-service.events)
  --help                    this text`;

const DEFAULTS = {
  amqpUrl: "amqp://guest:guest@127.0.0.1:5672",
  serviceUrl: "http://127.0.0.1:8787",
  queue: "push.queue",
  prefetch: 10,
  listen: "127.0.0.1:8790",
  exchange: "user-service.events",
};

function parseModes(raw: string): Set<Mode> {
  const modes = new Set<Mode>();
  for (const part of raw.split(",").map((p) => p.trim())) {
    if (part !== "in" && part !== "out") {
      throw new UsageError(`--mode takes in, out or in,out (got "${raw}")`);
    }
    modes.add(part);
  }
  return modes;
}

function parseUrl(name: string, raw: string, protocols: string[]): string {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new UsageError(`${name} is not a URL: "${raw}"`);
  }
  if (!protocols.includes(url.protocol)) {
    throw new UsageError(`${name} must start with ${protocols.join(" or ")}//`);
  }
  // A trailing slash on an AMQP URL names the vhost: keep it; drop it from HTTP base URLs.
  return url.protocol.startsWith("http") ? raw.replace(/\/+$/, "") : raw;
}

/** "host:port", "[::1]:port" or ":port" (all interfaces). */
function parseListen(raw: string): { host: string; port: number } {
  const match = /^(?:\[([^\]]+)\]|([^:]*)):(\d{1,5})$/.exec(raw);
  const port = Number(match?.[3]);
  if (!match || !Number.isInteger(port) || port < 1 || port > 65535) {
    throw new UsageError(`--listen takes host:port (got "${raw}")`);
  }
  return { host: match[1] ?? (match[2] || "0.0.0.0"), port };
}

function parsePrefetch(raw: string): number {
  const n = Number(raw);
  if (!/^\d+$/.test(raw) || n < 1 || n > 1000) {
    throw new UsageError(`--prefetch takes an integer from 1 to 1000 (got "${raw}")`);
  }
  return n;
}

/** `whsec_` and base64 the Standard Webhooks library can decode. */
function isWebhookSecret(raw: string): boolean {
  if (!/^whsec_[A-Za-z0-9+/]+={0,2}$/.test(raw)) return false;
  try {
    new Webhook(raw);
    return true;
  } catch {
    return false;
  }
}

/** Reads the configuration; `null` when --help was asked for. */
export function parseConfig(
  argv: string[],
  env: Record<string, string | undefined>,
): Config | null {
  let values: ReturnType<typeof parse>["values"];
  try {
    ({ values } = parse(argv));
  } catch (err) {
    throw new UsageError((err as Error).message);
  }
  if (values.help) return null;

  const modes = parseModes(values.mode ?? "in,out");
  const serviceKey = values["service-key"] ?? env.USER_SERVICE_KEY ?? "";
  const webhookSecret = values["webhook-secret"] ?? env.WEBHOOK_SECRET ?? "";
  if (modes.has("in") && serviceKey === "") {
    throw new UsageError("in needs the service key: --service-key or $USER_SERVICE_KEY");
  }
  if (modes.has("out") && !isWebhookSecret(webhookSecret)) {
    throw new UsageError(
      "out needs the webhook endpoint's secret (whsec_…): --webhook-secret or $WEBHOOK_SECRET",
    );
  }
  const profile = values.profile ?? "payment";
  if (profile !== "payment" && profile !== "generic") {
    throw new UsageError(`--profile takes payment or generic (got "${profile}")`);
  }
  const queue = values.queue ?? DEFAULTS.queue;
  const exchange = values.exchange ?? DEFAULTS.exchange;
  if (queue === "" || exchange === "") throw new UsageError("--queue and --exchange need a name");

  return {
    modes,
    amqpUrl: parseUrl("--amqp-url", values["amqp-url"] ?? env.AMQP_URL ?? DEFAULTS.amqpUrl, [
      "amqp:",
      "amqps:",
    ]),
    serviceUrl: parseUrl(
      "--service-url",
      values["service-url"] ?? env.USER_SERVICE_URL ?? DEFAULTS.serviceUrl,
      ["http:", "https:"],
    ),
    serviceKey,
    queue,
    passive: values.passive ?? false,
    prefetch: parsePrefetch(values.prefetch ?? String(DEFAULTS.prefetch)),
    listen: parseListen(values.listen ?? DEFAULTS.listen),
    webhookSecret,
    profile,
    exchange,
  };
}

function parse(argv: string[]) {
  return parseArgs({
    args: argv,
    strict: true,
    allowPositionals: false,
    options: {
      mode: { type: "string" },
      "amqp-url": { type: "string" },
      "service-url": { type: "string" },
      "service-key": { type: "string" },
      queue: { type: "string" },
      passive: { type: "boolean" },
      prefetch: { type: "string" },
      listen: { type: "string" },
      "webhook-secret": { type: "string" },
      profile: { type: "string" },
      exchange: { type: "string" },
      help: { type: "boolean" },
    },
  });
}
