/** The local stand-ins as an app extension: their routes, answering where src/dev/enabled.ts says. */
import type { AppExtension } from "../app";
import { devToolsOn } from "./enabled";
import { passkeyPageCsp } from "./passkey-page";
import { devRouter } from "./routes";

export const devTools: AppExtension = {
  routers: [devRouter],
  enabled: devToolsOn,
  pagePolicies: [{ path: "/_dev/passkeys", middleware: passkeyPageCsp }],
};
