/** The local stand-ins as an app extension: their routes, answering where src/dev/enabled.ts says. */
import type { AppExtension } from "../app";
import { devToolsOn } from "./enabled";
import { devRouter } from "./routes";

export const devTools: AppExtension = { routers: [devRouter], enabled: devToolsOn };
