import { createRouter } from "../openapi";
import * as handlers from "./health.handlers";
import * as routes from "./health.routes";

export const healthRouter = createRouter()
  .openapi(routes.ready, handlers.ready)
  .openapi(routes.health, handlers.health);
