/**
 * Request schemas for users: field rules shared by registration, login and profile updates.
 * Messages follow Django REST framework so clients of the replaced services see familiar text.
 */
import { z } from "@hono/zod-openapi";
import { PASSWORD_MAX_LENGTH, passwordPolicyErrors } from "../../auth/passwords";
import { quietHoursIssue } from "../../preferences/preferences";
import { UserObjectSchema } from "../../users/user-object";
import { examples } from "../examples";
import { PreferencesInputSchema } from "../preferences/preferences.schemas";

/** The user object of the contract (src/users/user-object.ts), named and illustrated. */
export const UserSchema = UserObjectSchema.extend({
  user_id: UserObjectSchema.shape.user_id.openapi({
    description: "Same value as `id`, for older clients.",
  }),
}).openapi("User", { example: examples.user });

/** Trimmed and lower-cased before it is checked or stored. */
export const emailField = z
  .string()
  .trim()
  // Checked before any case folding: toLowerCase() would turn the Kelvin sign (U+212A) into an
  // ASCII "k" and accept an address the client never wrote. Addresses are ASCII (as Django's are).
  .regex(/^[\x20-\x7e]*$/, { error: "Enter a valid email address.", abort: true })
  .toLowerCase()
  .max(254, { error: "Ensure this field has no more than 254 characters." })
  .pipe(z.email({ error: "Enter a valid email address." }))
  // The pipe's second half (the email check) is not what the generator reads: say it here.
  .openapi({ example: "ada@example.com", format: "email", maxLength: 254 });

const usernameField = z
  .string()
  .trim()
  .min(1, { abort: true })
  .max(150)
  .regex(/^[\p{L}\p{N}_.@+-]+$/u, {
    error:
      "Enter a valid username. This value may contain only letters, numbers, and @/./+/-/_ characters.",
  })
  // The generator writes a regex with flags as `…$/u`; JSON Schema patterns carry no flags (they
  // are matched with Unicode semantics), so the pattern is given as it must read.
  .openapi({ example: "ada", pattern: "^[\\p{L}\\p{N}_.@+-]+$" });

const nameField = z.string().trim().max(150).openapi({ example: "Ada Lovelace" });

const pushTokenField = z.string().trim().min(1).max(4096);

/** A new password: policy checks need the other fields, so they run in the object's refinement. */
export const newPasswordField = z
  .string()
  .max(PASSWORD_MAX_LENGTH)
  .openapi({ format: "password", example: "correct horse battery staple" });

/**
 * The confirmation fields of the replaced services (`password2`, `password_confirm`): optional, but
 * when present they must equal the password.
 */
export const passwordConfirmationFields = {
  password2: z.string().max(PASSWORD_MAX_LENGTH).optional(),
  password_confirm: z.string().max(PASSWORD_MAX_LENGTH).optional(),
};

export function checkPasswordConfirmation(
  body: { password: string; password2?: string | undefined; password_confirm?: string | undefined },
  ctx: z.RefinementCtx,
) {
  for (const field of ["password2", "password_confirm"] as const) {
    if (body[field] !== undefined && body[field] !== body.password) {
      ctx.addIssue({
        code: "custom",
        path: [field],
        message: "The two password fields didn't match.",
      });
    }
  }
}

export const RegisterBodySchema = z
  .object({
    email: emailField,
    password: newPasswordField,
    ...passwordConfirmationFields,
    name: nameField.optional(),
    /** The replaced services' fields; `name` is derived from them when it is not sent. */
    first_name: nameField.optional(),
    last_name: nameField.optional(),
    username: usernameField.nullable().optional(),
    push_token: pushTokenField.nullable().optional(),
    preferences: PreferencesInputSchema.optional(),
  })
  .superRefine((body, ctx) => {
    for (const message of passwordPolicyErrors(body.password, body)) {
      ctx.addIssue({ code: "custom", path: ["password"], message });
    }
    checkPasswordConfirmation(body, ctx);
    const issue = quietHoursIssue(
      body.preferences?.quiet_hours_start,
      body.preferences?.quiet_hours_end,
    );
    if (issue)
      ctx.addIssue({ code: "custom", path: ["preferences", issue.field], message: issue.message });
  })
  .openapi("RegisterRequest", {
    example: {
      email: "ada@example.com",
      password: "correct horse battery staple",
      name: "Ada Lovelace",
      username: "ada",
    },
  });

export const TokenPairSchema = z
  .object({
    user: UserSchema,
    access_token: z.string(),
    refresh_token: z.string(),
    token_type: z.literal("Bearer"),
    expires_in: z.number().int().openapi({ description: "Access token lifetime in seconds." }),
  })
  .openapi("TokenPair", { example: { user: examples.user, ...examples.tokenPair } });

/**
 * The answer of a sign-in in cookie mode (`?session=cookie`, README: Browser sessions): the tokens
 * are in HttpOnly cookies, never in the body.
 */
export const CookieSessionSchema = z
  .object({
    user: UserSchema,
    token_type: z.literal("cookie"),
    expires_in: z.number().int().openapi({ description: "Access cookie lifetime in seconds." }),
    csrf_token: z.string().openapi({
      description:
        "Send it as `X-CSRF-Token` with every unsafe request (also in the `__Host-csrf` cookie).",
    }),
  })
  .openapi("CookieSession", {
    example: {
      user: examples.user,
      token_type: "cookie",
      expires_in: 900,
      csrf_token: "y3F0c2Q…",
    },
  });

/** `?session=cookie` on the routes that sign in (README: Browser sessions). */
export const SessionModeQuerySchema = z.object({
  session: z
    .enum(["token", "cookie"])
    .optional()
    .openapi({
      description:
        "`cookie` (COOKIE_SESSIONS on, first-party browser apps): the tokens are set as " +
        "HttpOnly cookies and the answer is a `CookieSession`.",
    }),
});

const profileFields = {
  email: emailField,
  name: nameField,
  username: usernameField.nullable(),
  push_token: pushTokenField.nullable(),
  preferences: PreferencesInputSchema.pick({ email: true, push: true }),
  /** Required to change the email address, so a stolen access token cannot take the account over. */
  current_password: z.string().max(1024).openapi({ format: "password" }),
};

/**
 * PUT replaces the profile: email and name are required, omitted optional fields are cleared.
 * A PUT with `name` but no `email` is the notification-platform service's PUT, which was partial:
 * it changes only what it sends (the handler tells the two apart by `email`).
 */
export const ProfilePutSchema = z
  .object({
    email: profileFields.email.optional(),
    name: profileFields.name.optional(),
    username: profileFields.username.optional(),
    push_token: profileFields.push_token.optional(),
    preferences: profileFields.preferences.optional(),
    current_password: profileFields.current_password.optional(),
  })
  .superRefine((body, ctx) => {
    if (body.name !== undefined) return;
    for (const field of body.email === undefined ? ["email", "name"] : ["name"]) {
      ctx.addIssue({ code: "custom", path: [field], message: "This field is required." });
    }
  })
  .openapi("ProfileReplace", {
    example: { email: "ada@example.com", name: "Ada King", username: "ada" },
  });

export const ProfilePatchSchema = z
  .object({
    email: profileFields.email,
    name: profileFields.name,
    username: profileFields.username,
    push_token: profileFields.push_token,
    preferences: profileFields.preferences,
    current_password: profileFields.current_password,
  })
  .partial()
  .openapi("ProfileUpdate", {
    example: { name: "Ada King", preferences: { email: true, push: false } },
  });

export const ChangePasswordSchema = z
  .object({
    old_password: z.string().max(1024).openapi({ format: "password" }),
    new_password: newPasswordField,
    new_password2: z.string().max(PASSWORD_MAX_LENGTH).optional(),
    new_password_confirm: z.string().max(PASSWORD_MAX_LENGTH).optional(),
  })
  .superRefine((body, ctx) => {
    for (const field of ["new_password2", "new_password_confirm"] as const) {
      if (body[field] !== undefined && body[field] !== body.new_password) {
        ctx.addIssue({
          code: "custom",
          path: [field],
          message: "The two password fields didn't match.",
        });
      }
    }
  })
  .openapi("ChangePasswordRequest", {
    example: { old_password: "correct horse battery staple", new_password: "teal-Meadow-31-river" },
  });

export const AuditEntrySchema = z
  .object({
    id: z.uuid(),
    action: z.string(),
    ip: z.string().nullable(),
    user_agent: z.string().nullable(),
    metadata: z.record(z.string(), z.unknown()).nullable(),
    created_at: z.iso.datetime(),
  })
  .openapi("AuditEntry", {
    example: {
      id: "5d4c3b2a-1f0e-4d9c-8b7a-6f5e4d3c2b1a",
      action: "login_success",
      ip: "203.0.113.7",
      user_agent: "Mozilla/5.0",
      metadata: { session_id: examples.session.id },
      created_at: examples.session.created_at,
    },
  });

export const UserIdParamSchema = z.object({
  id: z.string().openapi({ param: { name: "id", in: "path" }, format: "uuid" }),
});
