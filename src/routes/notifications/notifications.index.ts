import { createRouter } from "../openapi";
import * as handlers from "./notifications.handlers";
import * as routes from "./notifications.routes";

export const notificationsRouter = createRouter()
  .openapi(routes.forUser, handlers.forUser)
  .openapi(routes.email.report, handlers.reportEmail)
  .openapi(routes.email.history, handlers.emailHistory)
  .openapi(routes.push.report, handlers.reportPush)
  .openapi(routes.push.history, handlers.pushHistory);
