/**
 * What production refuses that is fine locally (src/config.ts runs it on every configuration).
 *
 * Secrets that are public knowledge: the local service key of wrangler.toml, `.dev.vars` and the
 * README, and the test suite's. Production refuses them, and signing keys named as `npm start`
 * and the tests name theirs (`dev-<date>`, `test-…`) — a guard against deploying local secrets by
 * accident, not a control (a renamed key passes).
 */
const WELL_KNOWN_SERVICE_KEYS = new Set(["dev-service-key", "other-service-key"]);
const DEV_KEY_ID = /^(dev|test)-/i;

/** What production refuses that is fine locally: dev tools on, and keys everyone knows. */
export function productionRefusals(env: {
  ENVIRONMENT: "production" | "local";
  DEV_TOOLS: boolean;
  SERVICE_KEYS: { name: string; key: string }[];
  JWT_PRIVATE_KEY: { kid: string };
  JWT_PUBLIC_KEYS?: { keys: { kid: string }[] } | undefined;
}): [setting: string, message: string][] {
  if (env.ENVIRONMENT !== "production") return [];
  const refused: [string, string][] = [];
  if (env.DEV_TOOLS) refused.push(["DEV_TOOLS", "must be off in production"]);
  for (const { name, key } of env.SERVICE_KEYS) {
    if (WELL_KNOWN_SERVICE_KEYS.has(key)) {
      refused.push([
        "SERVICE_KEYS",
        `holds a well-known local key (for "${name}"); set a secret one`,
      ]);
    }
  }
  const kids = [env.JWT_PRIVATE_KEY.kid, ...(env.JWT_PUBLIC_KEYS?.keys ?? []).map((k) => k.kid)];
  for (const kid of new Set(kids.filter((k) => DEV_KEY_ID.test(k)))) {
    refused.push([
      "JWT_PRIVATE_KEY",
      `kid "${kid}" is a local or test key; make one with npm run keys:generate`,
    ]);
  }
  return refused;
}
