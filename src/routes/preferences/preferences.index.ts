import { createRouter } from "../openapi";
import * as handlers from "./preferences.handlers";
import * as routes from "./preferences.routes";

export const preferencesRouter = createRouter()
  .openapi(routes.get, handlers.get)
  .openapi(routes.put, handlers.put)
  .openapi(routes.patch, handlers.patch);
