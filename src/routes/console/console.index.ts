/**
 * The admin console at /admin/ (README: Admin console): a single-page app on this Worker's own
 * API, for admins — sign-in (with the second factor), users, a user's page, deliveries. Served
 * from the bundle like /docs; routing happens after the `#`, so the shell is the only page.
 * Unrelated to the admin API under /api/v1/admin/, which it calls.
 */
import { createRoute, z } from "@hono/zod-openapi";
import { createMiddleware } from "hono/factory";
import type { AppEnv } from "../../app-env";
import { ApiError } from "../../errors";
import { createRouter, errorResponses } from "../openapi";
import { tags } from "../tags";
import { CONSOLE_ASSETS, CONSOLE_PAGE } from "./console-assets";

const tagged = tags("Admin console");

/**
 * Stricter than the /docs page's: the console sets no inline style at all, so `style-src` is
 * 'self' alone. Scripts, styles and fetches from this origin only; data: only for images (the
 * empty icon); forms post nowhere else; the page cannot be framed or given another base URL.
 */
const CONSOLE_CSP = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "connect-src 'self'",
  "img-src 'self' data:",
  "form-action 'self'",
  "base-uri 'none'",
  "frame-ancestors 'none'",
].join("; ");

/**
 * Sets CONSOLE_CSP on the shell. Registered in the app before `secureHeaders` (which writes the
 * strict policy after the handler has run), on `/admin` only: that also matches `/admin/`, while
 * the script, the stylesheet and error answers keep the strict policy (a CSP governs documents).
 */
export const consoleContentSecurityPolicy = createMiddleware<AppEnv>(async (c, next) => {
  await next();
  if (c.res.ok) c.header("Content-Security-Policy", CONSOLE_CSP);
});

/** The shell changes with a deploy; the files are named by their fingerprint (`?v=`). */
const PAGE_CACHE = "public, max-age=300";
const ASSET_CACHE = "public, max-age=86400";

const consolePage = createRoute({
  method: "get",
  path: "/admin",
  tags: tagged,
  summary: "Admin console (a single-page app on this API, for admins)",
  description:
    "The HTML shell; its script and stylesheet are served by this Worker (no CDN). It holds no " +
    "data: everything it shows comes from the admin API, with the signed-in admin's token.",
  responses: {
    200: { content: { "text/html": { schema: z.string() } }, description: "The HTML page" },
  },
});

const consoleAsset = createRoute({
  method: "get",
  path: "/admin/{file}",
  tags: tagged,
  summary: "The script or stylesheet of the admin console",
  request: {
    params: z.object({
      file: z.string().openapi({
        description: `One of: ${Object.keys(CONSOLE_ASSETS).join(", ")}`,
        example: "console.js",
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

export const consoleRouter = createRouter()
  .openapi(consolePage, (c) => {
    c.header("Cache-Control", PAGE_CACHE);
    return c.html(CONSOLE_PAGE, 200);
  })
  .openapi(consoleAsset, (c) => {
    const { file } = c.req.valid("param");
    const asset = Object.hasOwn(CONSOLE_ASSETS, file) ? CONSOLE_ASSETS[file] : undefined;
    if (!asset) throw new ApiError("not_found", "Not found");
    return c.body(asset.body, 200, {
      "Content-Type": asset.contentType,
      "Cache-Control": ASSET_CACHE,
    });
  });
