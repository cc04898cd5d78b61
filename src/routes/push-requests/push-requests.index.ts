import { createRouter } from "../openapi";
import * as handlers from "./push-requests.handlers";
import * as routes from "./push-requests.routes";

export const pushRequestsRouter = createRouter()
  .openapi(routes.ingest, handlers.ingest)
  .openapi(routes.testNotification, handlers.testNotification);
