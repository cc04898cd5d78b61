import { createRouter } from "../openapi";
import * as handlers from "./push-tokens.handlers";
import * as routes from "./push-tokens.routes";

export const pushTokensRouter = createRouter()
  .openapi(routes.list, handlers.list)
  .openapi(routes.deactivateAll, handlers.deactivateAll)
  .openapi(routes.create, handlers.create)
  .openapi(routes.get, handlers.get)
  .openapi(routes.put, handlers.put)
  .openapi(routes.patch, handlers.patch)
  .openapi(routes.remove, handlers.remove);
