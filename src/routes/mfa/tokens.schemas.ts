/**
 * What second-factor answers share: the access token a raised session gets, and recovery codes.
 */
import { z } from "@hono/zod-openapi";

/** A new access token for the same session, at its new assurance. */
export const AccessTokenSchema = z
  .object({
    access_token: z.string(),
    token_type: z.literal("Bearer"),
    expires_in: z.number().int(),
    aal: z.enum(["aal1", "aal2"]),
    amr: z.array(z.string()),
  })
  .openapi("ReissuedAccessToken", {
    example: {
      access_token: "eyJhbGciOiJFUzI1NiIsImtpZCI6ImtleS0yMDI2LTExIiwidHlwIjoiSldUIn0…",
      token_type: "Bearer",
      expires_in: 900,
      aal: "aal2",
      amr: ["pwd", "otp"],
    },
  });

export const recoveryCodes = z.array(z.string()).openapi({
  description: "Ten single-use recovery codes, shown only now; each replaces the old set.",
});

export const exampleCodes = [
  "k7h2m-q9xta",
  "p3vfd-8wz2n",
  "r6cqe-t4jkx",
  "y2bns-m7hgd",
  "f9xwa-c3pqv",
  "h4tzr-n8kme",
  "s2dvq-w6ybf",
  "e8mkc-j3xrp",
  "u5gta-b9nzh",
  "x7pqd-k2fwc",
];
