import { createRouter } from "../openapi";
import * as handlers from "./sessions.handlers";
import * as routes from "./sessions.routes";

export const sessionsRouter = createRouter()
  .openapi(routes.list, handlers.list)
  .openapi(routes.revoke, handlers.revoke);
