/**
 * Swagger UI's files, bundled with the Worker so /docs works without internet access. The
 * `[[rules]]` entry in wrangler.toml makes these imports Text modules: each file arrives as a
 * string, uploaded beside the Worker's script rather than parsed as JavaScript. Wrangler
 * (deploy, dev) and the Vitest integration both read that rule.
 */

import swaggerUiCss from "swagger-ui-dist/swagger-ui.css";
import swaggerUiBundle from "swagger-ui-dist/swagger-ui-bundle.js";

/**
 * Drops the trailing `sourceMappingURL` comment: the maps are not served, and a browser's
 * developer tools would otherwise ask for them. (It is the last line; the search from the end is
 * quick, and a slice shares the original string.)
 */
function withoutSourceMapComment(source: string): string {
  const at = source.lastIndexOf("sourceMappingURL=");
  if (at === -1) return source;
  const lineStart = source.lastIndexOf("\n", at);
  return lineStart === -1 ? source : source.slice(0, lineStart + 1);
}

/**
 * Starts Swagger UI on the document at /openapi.json. An external script, since the page's CSP
 * allows no inline script. `validatorUrl: null` turns off the badge that would send the document
 * to validator.swagger.io; without the standalone preset there is no top bar linking to swagger.io.
 */
const INIT_JS = `"use strict";
window.addEventListener("load", function () {
  window.ui = SwaggerUIBundle({
    url: "/openapi.json",
    dom_id: "#swagger-ui",
    deepLinking: true,
    validatorUrl: null,
  });
});
`;

export interface DocsAsset {
  contentType: string;
  body: string;
}

/** The files the page loads, by name under /docs/. */
export const DOCS_ASSETS: Record<string, DocsAsset> = {
  "swagger-ui.css": {
    contentType: "text/css; charset=utf-8",
    body: withoutSourceMapComment(swaggerUiCss),
  },
  "swagger-ui-bundle.js": {
    contentType: "text/javascript; charset=utf-8",
    body: withoutSourceMapComment(swaggerUiBundle),
  },
  "init.js": { contentType: "text/javascript; charset=utf-8", body: INIT_JS },
};
