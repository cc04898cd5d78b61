import { createRouter } from "../openapi";
import * as handlers from "./users.handlers";
import * as routes from "./users.routes";

export const usersRouter = createRouter()
  .openapi(routes.register, handlers.register)
  .openapi(routes.changePassword, handlers.changePassword)
  .openapi(routes.profile.get, handlers.getProfile)
  .openapi(routes.profile.put, handlers.putProfile)
  .openapi(routes.profile.patch, handlers.patchProfile)
  .openapi(routes.profile.delete, handlers.deleteProfile)
  .openapi(routes.me.get, handlers.getProfile)
  .openapi(routes.me.put, handlers.putProfile)
  .openapi(routes.me.patch, handlers.patchProfile)
  .openapi(routes.me.delete, handlers.deleteProfile)
  .openapi(routes.audit, handlers.audit);
