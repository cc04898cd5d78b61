/**
 * `npm run bridge -- [options]` (bridge/README.md)
 *
 * The RabbitMQ bridge: in (push queue → POST /api/v1/push/requests/) and out (the service's
 * webhooks → a RabbitMQ exchange), one or both. Stops gracefully on SIGTERM / SIGINT: no new
 * messages or webhooks, the ones in hand finish, then the connections close; a second signal
 * exits at once (nothing unacked is lost: RabbitMQ delivers it again).
 */
import { type Config, parseConfig, USAGE, UsageError } from "./config.ts";
import { type Runner, startInbound } from "./inbound.ts";
import { errorText, log } from "./log.ts";
import { startOutbound } from "./outbound.ts";

function configOrExit(): Config {
  try {
    const config = parseConfig(process.argv.slice(2), process.env);
    if (config) return config;
    console.log(USAGE);
    process.exit(0);
  } catch (err) {
    if (!(err instanceof UsageError)) throw err;
    console.error(`${err.message}\n\n${USAGE}`);
    process.exit(2);
  }
}

const config = configOrExit();
const runners: Runner[] = [];
log("info", "starting", {
  modes: [...config.modes],
  service_url: config.serviceUrl,
  amqp: new URL(config.amqpUrl).host,
});

let stopping = false;
async function stop(signal: string) {
  if (stopping) {
    log("warn", "exiting_now", { signal });
    process.exit(1);
  }
  stopping = true;
  log("info", "stopping", { signal });
  await Promise.all(runners.map((r) => r.stop()));
  log("info", "stopped");
  process.exit(0);
}
process.on("SIGTERM", () => void stop("SIGTERM"));
process.on("SIGINT", () => void stop("SIGINT"));

try {
  if (config.modes.has("in")) runners.push(startInbound(config));
  if (config.modes.has("out")) runners.push(await startOutbound(config));
} catch (err) {
  // The receiver could not listen (address in use, no permission): nothing to retry.
  log("error", "start_failed", { error: errorText(err) });
  await Promise.all(runners.map((r) => r.stop()));
  process.exit(1);
}
