import { createRouter } from "../openapi";
import * as handlers from "./notifications.handlers";
import * as routes from "./notifications.routes";

export const notificationsRouter = createRouter()
  .openapi(routes.forUser, handlers.forUser)
  .openapi(routes.report, handlers.report)
  .openapi(routes.history, handlers.history);
