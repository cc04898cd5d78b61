/**
 * The Worker as deployed (`npm run deploy`): HTTP, queue consumers and the cron, plus the Durable
 * Object class and the RPC entrypoint. No local stand-in is imported here, so none is in the
 * production bundle (test/e2e/production-bundle.e2e.ts checks the bundle itself).
 */
import { createWorker } from "./worker";

export default createWorker();

export { RateLimiter } from "./rate-limit/rate-limiter";
export { UserService } from "./rpc/user-service";
