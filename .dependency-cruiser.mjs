// dependency-cruiser rules for src/ (`npm run lint:imports`).
//
// TypeScript 7 has no JavaScript compiler API, so dependency-cruiser's `tsc` parser is off and its
// bundled acorn reads JavaScript only: without swc it would find no .ts file at all and pass
// silently (it only prints a warning). So this file insists on @swc/core instead of passing.
try {
  import.meta.resolve("@swc/core");
} catch {
  throw new Error(
    "dependency-cruiser needs @swc/core to parse TypeScript here (TypeScript 7 has no JS API): npm i -D -E @swc/core",
  );
}

/** @type {import("dependency-cruiser").IConfiguration} */
export default {
  forbidden: [
    {
      name: "no-circular",
      severity: "error",
      comment:
        "An import cycle among src/ files. Type-only imports count: a type cycle is still a knot. " +
        "Move what both sides need into a module that imports neither.",
      from: { path: "^src/" },
      to: { circular: true },
    },
    {
      name: "routes-only-from-app",
      severity: "error",
      comment:
        "Only src/app.ts mounts src/routes/**; nothing else in src/ may depend on a route module. " +
        "Move what is shared out of src/routes/. The one other mount is the local entry " +
        "(src/dev/local.ts), which adds the dev tools' routes (src/routes/dev/) to the app, so " +
        "the production entry never reaches them.",
      from: {
        path: "^src/",
        pathNot: ["^src/routes/", "^src/app[.]ts$", "^src/dev/local[.]ts$"],
      },
      to: { path: "^src/routes/" },
    },
    {
      name: "dev-routes-stay-local",
      severity: "error",
      comment:
        "src/routes/dev/ is the dev tools' HTTP code: only the local entry mounts it, so nothing " +
        "the production entry reaches may import it.",
      from: { path: "^src/", pathNot: ["^src/routes/dev/", "^src/dev/local[.]ts$"] },
      to: { path: "^src/routes/dev/" },
    },
    {
      name: "dev-tools-stay-local",
      severity: "error",
      comment:
        "src/dev/ is the local stand-ins and the local entry that mounts them; nothing the " +
        "production entry (src/index.ts) reaches may import it, so none of it is deployed. The " +
        "dev tools' routes (src/routes/dev/) show what the stand-ins hold.",
      from: { path: "^src/", pathNot: ["^src/dev/", "^src/routes/dev/"] },
      to: { path: "^src/dev/" },
    },
  ],
  options: {
    // Parses .ts with swc; swc keeps `import type` edges, so type-only cycles are caught.
    parser: "swc",
    // worker-configuration.d.ts is generated; src/auth/wasm/ is AssemblyScript, built apart.
    exclude: { path: ["(^|/)node_modules/", "^worker-configuration[.]d[.]ts$", "^src/auth/wasm/"] },
    // Only the rules above are checked, so skip the analyses they do not need.
    skipAnalysisNotInRules: true,
  },
};
