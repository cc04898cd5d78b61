/**
 * GET /docs: the interactive API reference, served with its scripts and styles from the Worker
 * (no CDN, so it works offline).
 */
import { describe, expect, it } from "vitest";
import { type ApiResponse, call, expectError } from "./helpers/api";

const ROOT = "http://localhost";
const STRICT_CSP = "default-src 'none'; frame-ancestors 'none'";

async function page(path = "/docs"): Promise<ApiResponse<string>> {
  return call<string>("GET", `${ROOT}${path}`);
}

/** Every src and href attribute of the HTML, in order. */
function references(html: string): string[] {
  return [...html.matchAll(/\s(?:src|href)\s*=\s*["']?([^"'\s>]*)/gi)].map((m) => m[1] ?? "");
}

/** A path on this origin: starts with one slash, no scheme, no host (`//host/…`), no backslash. */
function isSameOriginPath(ref: string): boolean {
  return /^\/(?![/\\])/.test(ref) && !ref.includes("\\") && !/^[a-z][a-z0-9+.-]*:/i.test(ref);
}

function cspDirectives(csp: string): Map<string, string[]> {
  return new Map(
    csp
      .split(";")
      .map((part) => part.trim().split(/\s+/))
      .filter((words) => words[0])
      .map(([name, ...sources]) => [name?.toLowerCase() ?? "", sources]),
  );
}

describe("API reference page", () => {
  for (const path of ["/docs", "/docs/"]) {
    it(`serves Swagger UI's HTML shell at ${path}`, async () => {
      const res = await page(path);
      expect(res.status).toBe(200);
      expect(res.headers.get("Content-Type")).toMatch(/^text\/html;\s*charset=utf-8$/i);
      expect(res.text).toMatch(/^<!doctype html>/i);
      expect(res.text).toContain('<div id="swagger-ui"></div>');
      expect(references(res.text)).toEqual([
        "/docs/swagger-ui.css",
        "/docs/swagger-ui-bundle.js",
        "/docs/init.js",
      ]);
    });
  }

  it("references only same-origin paths, each served 200 with the right Content-Type", async () => {
    const res = await page();
    const refs = references(res.text);
    expect(refs.length).toBeGreaterThanOrEqual(3);
    // No absolute URL anywhere in the page, not only in attributes.
    expect(res.text).not.toMatch(/(https?:)?\/\/[a-z0-9-]+\./i);
    const expectedType: Record<string, RegExp> = {
      ".js": /^text\/javascript;\s*charset=utf-8$/i,
      ".css": /^text\/css;\s*charset=utf-8$/i,
    };
    for (const ref of refs) {
      expect(isSameOriginPath(ref), ref).toBe(true);
      const asset = await call<string>("GET", new URL(ref, `${ROOT}/docs`).href);
      expect(asset.status, ref).toBe(200);
      // X-Content-Type-Options: nosniff makes browsers refuse a script or stylesheet whose type
      // is not exactly JavaScript or CSS.
      const extension = ref.slice(ref.lastIndexOf("."));
      expect(expectedType[extension], ref).toBeDefined();
      expect(asset.headers.get("Content-Type"), ref).toMatch(expectedType[extension] ?? /^$/);
      expect(asset.headers.get("X-Content-Type-Options"), ref).toBe("nosniff");
      expect(asset.text.length, ref).toBeGreaterThan(100);
    }
  });

  it("serves Swagger UI itself, not a placeholder", async () => {
    const bundle = await call<string>("GET", `${ROOT}/docs/swagger-ui-bundle.js`);
    expect(bundle.text.length).toBeGreaterThan(1_000_000);
    expect(bundle.text).toContain("SwaggerUIBundle");
    const css = await call<string>("GET", `${ROOT}/docs/swagger-ui.css`);
    expect(css.text.length).toBeGreaterThan(100_000);
    expect(css.text).toContain(".swagger-ui");
    // The source maps are not served, so nothing should point a browser at them.
    for (const file of [bundle, css]) expect(file.text).not.toContain("sourceMappingURL");
  });

  it("starts Swagger UI on /openapi.json from an external script, without the online validator", async () => {
    const init = await call<string>("GET", `${ROOT}/docs/init.js`);
    expect(init.status).toBe(200);
    expect(init.text).toContain('url: "/openapi.json"');
    expect(init.text).toContain("validatorUrl: null");
    expect(init.text).not.toMatch(/https?:|\/\/[a-z0-9-]+\./i);
  });

  it("has no inline script or event handler", async () => {
    const { text } = await page();
    const scripts = [...text.matchAll(/<script\b([^>]*)>([\s\S]*?)<\/script>/gi)];
    expect(scripts.length).toBe(2);
    for (const [, attributes, body] of scripts) {
      expect(attributes).toMatch(/\ssrc="\/docs\//);
      expect(body?.trim()).toBe("");
    }
    expect(text).not.toMatch(/\son[a-z]+\s*=/i);
    expect(text).not.toMatch(/javascript:/i);
  });

  it("is cacheable: the page briefly, Swagger UI's files for a day", async () => {
    expect((await page()).headers.get("Cache-Control")).toBe("public, max-age=300");
    expect((await call("GET", `${ROOT}/docs/init.js`)).headers.get("Cache-Control")).toBe(
      "public, max-age=300",
    );
    for (const file of ["swagger-ui-bundle.js", "swagger-ui.css"]) {
      const res = await call("GET", `${ROOT}/docs/${file}`);
      expect(res.headers.get("Cache-Control"), file).toBe("public, max-age=86400");
    }
  });

  it("answers 404 with the error envelope for a file that is not part of the page", async () => {
    for (const file of ["swagger-ui-bundle.js.map", "index.html", "constructor", "..%2Fapp.ts"]) {
      const res = await call("GET", `${ROOT}/docs/${file}`);
      expectError(res, 404, "not_found");
      expect(res.headers.get("Content-Security-Policy"), file).toBe(STRICT_CSP);
      expect(res.headers.get("Cache-Control"), file).toBe("no-store");
    }
  });
});

describe("API reference page security headers", () => {
  it("has a CSP that allows nothing from another origin, no inline script and no framing", async () => {
    for (const path of ["/docs", "/docs/"]) {
      const csp = (await page(path)).headers.get("Content-Security-Policy") ?? "";
      const directives = cspDirectives(csp);
      expect(directives.get("default-src"), path).toEqual(["'none'"]);
      expect(directives.get("script-src"), path).toEqual(["'self'"]);
      expect(directives.get("frame-ancestors"), path).toEqual(["'none'"]);
      expect(directives.get("base-uri"), path).toEqual(["'none'"]);
      // Only this origin, data: images and inline styles (Swagger UI sets style attributes).
      const allowed = new Set(["'self'", "'none'", "data:", "'unsafe-inline'"]);
      for (const [name, sources] of directives) {
        for (const source of sources) expect(allowed.has(source), `${name} ${source}`).toBe(true);
        if (sources.includes("'unsafe-inline'")) expect(name).toBe("style-src");
        if (sources.includes("data:")) expect(name).toBe("img-src");
      }
    }
  });

  it("keeps the other secure headers on the page", async () => {
    const res = await page();
    expect(res.headers.get("X-Frame-Options")).toBe("DENY");
    expect(res.headers.get("X-Content-Type-Options")).toBe("nosniff");
    expect(res.headers.get("Strict-Transport-Security")).toBe(
      "max-age=31536000; includeSubDomains",
    );
    expect(res.headers.get("X-Correlation-ID")).toBeTruthy();
  });

  it("leaves API routes and the files under /docs/ with the strict CSP", async () => {
    for (const path of [
      `${ROOT}/health`,
      "/health",
      `${ROOT}/.well-known/jwks.json`,
      `${ROOT}/docsx`,
      `${ROOT}/docs/init.js`,
      `${ROOT}/docs/swagger-ui-bundle.js`,
    ]) {
      const res = await call("GET", path);
      expect(res.headers.get("Content-Security-Policy"), path).toBe(STRICT_CSP);
    }
  });
});
