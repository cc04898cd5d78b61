import { createRouter } from "../openapi";
import * as handlers from "./lookups.handlers";
import * as routes from "./lookups.routes";

export const lookupsRouter = createRouter()
  .openapi(routes.byEmail, handlers.byEmail)
  .openapi(routes.byLegacyId, handlers.byLegacyId)
  .openapi(routes.validate, handlers.validate)
  .openapi(routes.contact, handlers.contact)
  .openapi(routes.pushToken, handlers.pushToken)
  .openapi(routes.byId, handlers.byId)
  .openapi(routes.targets, handlers.targets);
