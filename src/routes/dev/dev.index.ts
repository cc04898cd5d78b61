/**
 * The local stand-ins as an app extension: their routes, answering where src/dev/enabled.ts says.
 * Only the local entry (src/dev/local.ts) mounts it, so the production bundle carries none of it.
 */
import type { AppExtension } from "../../app";
import { devToolsOn } from "../../dev/enabled";
import { mailboxPageCsp } from "../../dev/mailbox-page";
import { passkeyPageCsp } from "../../dev/passkey-page";
import { benchRouter } from "./bench.routes";
import { devRouter } from "./dev.routes";

export const devTools: AppExtension = {
  routers: [devRouter, benchRouter],
  enabled: devToolsOn,
  pagePolicies: [
    { path: "/_dev/passkeys", middleware: passkeyPageCsp },
    // Hono's `/x/*` also matches `/x` and `/x/`: the list page and each message.
    { path: "/_dev/mailbox/view/*", middleware: mailboxPageCsp },
  ],
};
