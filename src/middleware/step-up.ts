/**
 * Route middleware for sensitive actions (README: Second factors, "Step-up"): after `requireUser`,
 * refuses a session below what the action needs with `mfa_required` or
 * `reauthentication_required` (src/mfa/step-up.ts).
 */
import { createMiddleware } from "hono/factory";
import type { AppEnv } from "../app-env";
import { requireStepUp } from "../mfa/step-up";

export function stepUpRequired(need: { recent: boolean }) {
  return createMiddleware<AppEnv>(async (c, next) => {
    await requireStepUp(c.get("db"), c.get("auth"), need);
    await next();
  });
}

/** Sensitive actions that do not check the password themselves. */
export const recentStepUp = stepUpRequired({ recent: true });
