/**
 * The Worker as `npm start` serves it (wrangler.toml's default, local-only environment): the
 * deployed Worker plus the stand-ins for the email and push services (DESIGN §6) — the `/_dev/*`
 * routes and the consumers that feed them.
 */

import { devTools } from "../routes/dev/dev.index";
import { createWorker } from "../worker";
import { devMailboxConsumer } from "./mailbox";
import { devPushDeliveryConsumer } from "./push-deliveries";

export default createWorker({
  app: devTools,
  // In production the email and push services consume these queues (wrangler.toml).
  consumers: { "user-events": devMailboxConsumer, "push-delivery": devPushDeliveryConsumer },
});

export { RateLimiter } from "../rate-limit/rate-limiter";
export { UserService } from "../rpc/user-service";
