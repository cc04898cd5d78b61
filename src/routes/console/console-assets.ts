/**
 * The admin console's three files: the HTML shell, one ES module and one stylesheet, bundled with
 * the Worker as strings (no build step, no CDN, nothing fetched from another origin).
 */
import { CONSOLE_CSS } from "./console-css";
import { SCRIPT_CORE } from "./script-core";
import { SCRIPT_PAGES } from "./script-pages";
import { SCRIPT_VIEWS } from "./script-views";

/** The parts share one module scope, so each may call the functions of the others. */
const CONSOLE_JS = `// The user service's admin console (src/routes/console/).\n${SCRIPT_CORE}\n${SCRIPT_VIEWS}\n${SCRIPT_PAGES}`;

/** FNV-1a of the text, base 36: the files' version in their URLs. */
function fingerprint(text: string): string {
  let hash = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    hash ^= text.charCodeAt(i);
    hash = Math.imul(hash, 0x01000193);
  }
  return (hash >>> 0).toString(36);
}

/**
 * The shell names the files with their fingerprint (`?v=…`), so they can be cached for a day and
 * a deploy that changes them is still picked up as soon as the shell's short cache runs out.
 */
const VERSION = fingerprint(CONSOLE_JS + CONSOLE_CSS);

/**
 * Root-relative, so it works at /admin and /admin/. The icon is an empty data: URI (allowed by
 * `img-src data:`), or the browser would ask for /favicon.ico and log the 404.
 */
export const CONSOLE_PAGE = `<!doctype html>
<html lang="en">
  <head>
    <meta charset="utf-8">
    <meta name="viewport" content="width=device-width, initial-scale=1">
    <meta name="robots" content="noindex">
    <title>Admin console · User service</title>
    <link rel="icon" href="data:,">
    <link rel="stylesheet" href="/admin/console.css?v=${VERSION}">
    <script type="module" src="/admin/console.js?v=${VERSION}"></script>
  </head>
  <body>
    <header class="top">
      <a class="brand" href="#/users">User service<span>admin</span></a>
      <nav id="nav" aria-label="Sections" hidden>
        <a href="#/users" data-nav="users">Users</a>
        <a href="#/deliveries" data-nav="deliveries">Deliveries</a>
      </nav>
      <div class="who">
        <span id="who"></span>
        <button id="sign-out" type="button" hidden>Sign out</button>
      </div>
    </header>
    <div id="notice" class="notice" role="status" hidden></div>
    <main id="main"><noscript>The admin console needs JavaScript.</noscript></main>
    <dialog id="confirm" aria-labelledby="confirm-text">
      <form method="dialog">
        <p id="confirm-text"></p>
        <div class="dialog-actions">
          <button value="cancel" id="confirm-cancel">Cancel</button>
          <button value="ok" id="confirm-ok" class="danger">Confirm</button>
        </div>
      </form>
    </dialog>
  </body>
</html>
`;

export interface ConsoleAsset {
  contentType: string;
  body: string;
}

/** The files the shell loads, by name under /admin/. */
export const CONSOLE_ASSETS: Record<string, ConsoleAsset> = {
  "console.js": { contentType: "text/javascript; charset=utf-8", body: CONSOLE_JS },
  "console.css": { contentType: "text/css; charset=utf-8", body: CONSOLE_CSS },
};
