import { createRouter } from "../openapi";
import * as handlers from "./admin.handlers";
import * as routes from "./admin.routes";

export const adminRouter = createRouter()
  .openapi(routes.list, handlers.list)
  .openapi(routes.update, handlers.update)
  .openapi(routes.importUsers, handlers.importUsers)
  .openapi(routes.resetMfa, handlers.resetMfa);
