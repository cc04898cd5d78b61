import { createRouter } from "../openapi";
import * as handlers from "./admin.handlers";
import * as routes from "./admin.routes";
import * as operationHandlers from "./operations.handlers";
import * as operations from "./operations.routes";

export const adminRouter = createRouter()
  .openapi(routes.list, handlers.list)
  .openapi(routes.update, handlers.update)
  .openapi(routes.importUsers, handlers.importUsers)
  .openapi(routes.resetMfa, handlers.resetMfa)
  .openapi(operations.userSessions, operationHandlers.userSessions)
  .openapi(operations.endUserSessions, operationHandlers.endUserSessions)
  .openapi(operations.userDevices, operationHandlers.userDevices)
  .openapi(operations.failedNotifications, operationHandlers.failedNotifications)
  .openapi(operations.deadLetters, operationHandlers.deadLetters)
  .openapi(operations.redrive, operationHandlers.redrive);
