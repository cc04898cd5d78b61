/**
 * `npm run keys:generate -- [--kid <id>] [--previous <jwks file>] [--put]`
 *
 * Generates a production ES256 key pair and prints the two secrets. With `--previous`, the public
 * keys of the current JWKS are kept in JWT_PUBLIC_KEYS so tokens signed with the old key keep
 * verifying during a rotation (drop them once ACCESS_TOKEN_LIFETIME_MINUTES has passed). With
 * `--put`, both secrets are stored with `wrangler secret put --env production` instead of printed.
 */
import { spawnSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { parseArgs } from "node:util";
import { generateSigningKeys } from "./keys.ts";

const { values } = parseArgs({
  options: {
    kid: { type: "string" },
    previous: { type: "string" },
    put: { type: "boolean", default: false },
  },
});

const kid = values.kid ?? `key-${new Date().toISOString().slice(0, 10)}`;
const keys = await generateSigningKeys(kid);
let publicJwks = keys.publicJwks;
if (values.previous) {
  const previous = JSON.parse(readFileSync(values.previous, "utf8")) as { keys: { kid: string }[] };
  const current = JSON.parse(keys.publicJwks) as { keys: { kid: string }[] };
  publicJwks = JSON.stringify({
    keys: [...current.keys, ...previous.keys.filter((k) => k.kid !== kid)],
  });
}

if (values.put) {
  for (const [name, value] of [
    ["JWT_PRIVATE_KEY", keys.privateJwk],
    ["JWT_PUBLIC_KEYS", publicJwks],
  ] as const) {
    const result = spawnSync(
      "node_modules/.bin/wrangler",
      ["secret", "put", name, "--env", "production"],
      { input: value, stdio: ["pipe", "inherit", "inherit"] },
    );
    if (result.status !== 0) process.exit(result.status ?? 1);
  }
  console.log(`Stored JWT_PRIVATE_KEY and JWT_PUBLIC_KEYS (kid "${kid}").`);
} else {
  console.log(`# kid "${kid}". Store both as secrets; never commit them.`);
  console.log(`JWT_PRIVATE_KEY=${keys.privateJwk}`);
  console.log(`JWT_PUBLIC_KEYS=${publicJwks}`);
}
