/**
 * The interactive API reference (DESIGN §3): Swagger UI on /openapi.json, served from the Worker
 * itself — no CDN, so it works without internet access. The page is an HTML shell; its script,
 * stylesheet and initialiser are files under /docs/.
 */
import { createRoute, z } from "@hono/zod-openapi";
import { createMiddleware } from "hono/factory";
import type { AppEnv } from "../../app-env";
import { ApiError } from "../../errors";
import { createRouter, errorResponses } from "../openapi";
import { tags } from "../tags";
import { DOCS_ASSETS } from "./docs.assets";

const tagged = tags("Documentation");

/** Root-relative, so the page works at both /docs and /docs/. */
const PAGE = `<!doctype html>
<html lang="en">
  <head>
    <meta charset="utf-8">
    <meta name="viewport" content="width=device-width, initial-scale=1">
    <title>User service API</title>
    <link rel="stylesheet" href="/docs/swagger-ui.css">
  </head>
  <body>
    <div id="swagger-ui"></div>
    <script src="/docs/swagger-ui-bundle.js"></script>
    <script src="/docs/init.js"></script>
  </body>
</html>
`;

/**
 * The page's own Content-Security-Policy, replacing the app's `default-src 'none'`: scripts,
 * styles, images and fetches from this origin only. Swagger UI sets style attributes and its CSS
 * draws icons from data: URIs; nothing may load from another host or frame the page.
 */
const DOCS_CSP = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self' 'unsafe-inline'",
  "img-src 'self' data:",
  "connect-src 'self'",
  "base-uri 'none'",
  "form-action 'self'",
  "frame-ancestors 'none'",
].join("; ");

/**
 * Sets DOCS_CSP on the page. Registered in the app before `secureHeaders`, which writes the strict
 * policy after the handler has run: only an outer middleware can replace it. The files under
 * /docs/ keep the strict policy (a CSP only governs documents).
 */
export const docsContentSecurityPolicy = createMiddleware<AppEnv>(async (c, next) => {
  await next();
  c.header("Content-Security-Policy", DOCS_CSP);
});

/** The HTML and the initialiser change with a deploy; Swagger UI's files only with its version. */
const PAGE_CACHE = "public, max-age=300";
const ASSET_CACHE = "public, max-age=86400";

const docsPage = createRoute({
  method: "get",
  path: "/docs",
  tags: tagged,
  summary: "Interactive API reference (Swagger UI on /openapi.json)",
  description: "Its scripts and styles are served by this Worker; it needs no internet access.",
  responses: {
    200: { content: { "text/html": { schema: z.string() } }, description: "The HTML page" },
  },
});

const docsAsset = createRoute({
  method: "get",
  path: "/docs/{file}",
  tags: tagged,
  summary: "A script or stylesheet of the API reference page",
  request: {
    params: z.object({
      file: z.string().openapi({
        description: `One of: ${Object.keys(DOCS_ASSETS).join(", ")}`,
        example: "swagger-ui.css",
      }),
    }),
  },
  responses: {
    200: {
      content: {
        "text/javascript": { schema: z.string() },
        "text/css": { schema: z.string() },
      },
      description: "The file",
    },
    ...errorResponses("not_found"),
  },
});

export const docsRouter = createRouter()
  .openapi(docsPage, (c) => {
    c.header("Cache-Control", PAGE_CACHE);
    return c.html(PAGE, 200);
  })
  .openapi(docsAsset, (c) => {
    const { file } = c.req.valid("param");
    const asset = Object.hasOwn(DOCS_ASSETS, file) ? DOCS_ASSETS[file] : undefined;
    if (!asset) throw new ApiError("not_found", "Not found");
    return c.body(asset.body, 200, {
      "Content-Type": asset.contentType,
      "Cache-Control": file === "init.js" ? PAGE_CACHE : ASSET_CACHE,
    });
  });
