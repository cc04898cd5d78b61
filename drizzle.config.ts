import { defineConfig } from "drizzle-kit";

// `npm run db:generate` writes SQL migrations from src/db/schema.ts; wrangler applies them
// (`npm run db:migrate:local` / `db:migrate:remote`) and the tests apply them to their own D1.
export default defineConfig({
  dialect: "sqlite",
  schema: [
    "./src/db/schema.ts",
    "./src/db/mfa-schema.ts",
    "./src/db/operations-schema.ts",
    "./src/db/sign-in-schema.ts",
  ],
  out: "./migrations",
});
