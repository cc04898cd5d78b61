import { createRoute, z } from "@hono/zod-openapi";
import { publicJwks } from "../../auth/jwt";
import { createRouter, jsonContent } from "../openapi";
import { tags } from "../tags";

export const JwksSchema = z
  .object({
    keys: z.array(
      z.object({
        kty: z.literal("EC"),
        crv: z.literal("P-256"),
        x: z.string(),
        y: z.string(),
        kid: z.string(),
        alg: z.literal("ES256"),
        use: z.literal("sig"),
      }),
    ),
  })
  .openapi("JWKS", {
    example: {
      keys: [
        {
          kty: "EC",
          crv: "P-256",
          x: "f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU",
          y: "x_FEzRu9m36HLN_tue659LNpXW6pCyStikYjKIWI5a0",
          kid: "key-2026-11",
          alg: "ES256",
          use: "sig",
        },
      ],
    },
  });

const jwks = createRoute({
  method: "get",
  path: "/.well-known/jwks.json",
  tags: tags("Auth"),
  summary: "Public keys that verify access tokens (JWKS)",
  description:
    "Plain JWKS (RFC 7517), not wrapped in the envelope, so standard JWT libraries can fetch it.",
  responses: { 200: jsonContent(JwksSchema, "The key set") },
});

export const wellKnownRouter = createRouter().openapi(jwks, (c) => {
  c.header("Cache-Control", "public, max-age=300");
  return c.json(publicJwks(c.get("config")), 200);
});
