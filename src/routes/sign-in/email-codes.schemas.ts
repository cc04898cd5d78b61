/** Bodies and answers of sign-in by emailed code. */
import { z } from "@hono/zod-openapi";
import { emailField } from "../users/users.schemas";

export const EmailCodeRequestSchema = z
  .object({ email: emailField })
  .openapi("EmailCodeRequest", { example: { email: "ada@example.com" } });

export const EmailCodeVerifySchema = z
  .union([
    z
      .object({
        email: emailField,
        code: z
          .string()
          .trim()
          .regex(/^\d{6}$/, { error: "Enter the six-digit code from the email." }),
      })
      .strict(),
    z
      .object({
        token: z
          .string()
          .min(1)
          .max(256)
          .openapi({ description: "The `token` of the emailed link." }),
      })
      .strict(),
  ])
  .openapi("EmailCodeVerify", {
    description: "The code with its address, or the emailed link's token.",
    example: { email: "ada@example.com", code: "482913" },
  });
