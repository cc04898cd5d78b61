import type { RouteHandler } from "@hono/zod-openapi";
import type { AppEnv } from "../../app-env";
import { listAuditEntries } from "../../audit/audit-log";
import { authorizeUserAccess } from "../../auth/callers";
import { scope } from "../../middleware/request-context";
import { passwordAttempts } from "../../rate-limit/attempts";
import { changePassword as changeOwnPassword } from "../../users/password";
import { deactivateOwnAccount, updateProfile } from "../../users/profile";
import { registerUser } from "../../users/registration";
import { ownUserObject } from "../../users/user-object";
import { userIdParam } from "../lookups/lookups.handlers";
import { ok } from "../openapi";
import { okList, pageMeta } from "../pagination";
import type * as routes from "./users.routes";

/** What registration answers in REQUIRE_EMAIL_VERIFICATION mode, whether or not the email exists. */
const REGISTRATION_PENDING_MESSAGE =
  "Check your email: we sent a link to verify your address before you can log in.";

export const register: RouteHandler<typeof routes.register, AppEnv> = async (c) => {
  const registered = await registerUser(scope(c), c.req.valid("json"));
  if (registered.kind === "pending_verification") {
    return c.json(ok(REGISTRATION_PENDING_MESSAGE, null), 202);
  }
  return c.json(ok("User registered successfully", registered.pair), 201);
};

export const getProfile: RouteHandler<typeof routes.profile.get, AppEnv> = async (c) => {
  return c.json(
    ok("Profile retrieved", await ownUserObject(c.get("db"), c.get("auth").userId)),
    200,
  );
};

export const putProfile: RouteHandler<typeof routes.profile.put, AppEnv> = async (c) => {
  const body = c.req.valid("json");
  // Without `email`, the notification-platform service's partial PUT (users.schemas.ts).
  const replace = body.email !== undefined;
  const attempts = passwordAttempts(c, { sessionId: c.get("auth").sid });
  const user = await updateProfile(scope(c), c.get("auth"), body, replace, attempts);
  return c.json(ok("Profile updated", user), 200);
};

export const patchProfile: RouteHandler<typeof routes.profile.patch, AppEnv> = async (c) => {
  const attempts = passwordAttempts(c, { sessionId: c.get("auth").sid });
  const body = c.req.valid("json");
  const user = await updateProfile(scope(c), c.get("auth"), body, false, attempts);
  return c.json(ok("Profile updated", user), 200);
};

export const deleteProfile: RouteHandler<typeof routes.profile.delete, AppEnv> = async (c) => {
  await deactivateOwnAccount(scope(c), c.get("auth").userId);
  return c.json(ok("Account deactivated", null), 200);
};

export const changePassword: RouteHandler<typeof routes.changePassword, AppEnv> = async (c) => {
  const attempts = passwordAttempts(c, { sessionId: c.get("auth").sid });
  await changeOwnPassword(scope(c), c.get("auth"), c.req.valid("json"), attempts);
  return c.json(ok("Password changed; other sessions were logged out", null), 200);
};

export const audit: RouteHandler<typeof routes.audit, AppEnv> = async (c) => {
  const id = userIdParam(c.req.valid("param").id);
  const query = c.req.valid("query");
  await authorizeUserAccess(c, id, { services: false, mustExist: true });
  const { entries, total } = await listAuditEntries(c.get("db"), id, query);
  return c.json(
    okList("Audit log retrieved", entries, pageMeta(total, query.page, query.limit)),
    200,
  );
};
