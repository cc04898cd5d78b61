/** The local stand-ins as an app extension: their routes, answering where src/dev/enabled.ts says. */
import type { AppExtension } from "../app";
import { benchRouter } from "./bench-routes";
import { devToolsOn } from "./enabled";
import { mailboxPageCsp } from "./mailbox-page";
import { passkeyPageCsp } from "./passkey-page";
import { devRouter } from "./routes";

export const devTools: AppExtension = {
  routers: [devRouter, benchRouter],
  enabled: devToolsOn,
  pagePolicies: [
    { path: "/_dev/passkeys", middleware: passkeyPageCsp },
    // Hono's `/x/*` also matches `/x` and `/x/`: the list page and each message.
    { path: "/_dev/mailbox/view/*", middleware: mailboxPageCsp },
  ],
};
