/**
 * What makes an account unique: its email (stored trimmed and lower-cased) and its username
 * (compared NFKC-normalised and lower-cased), and the 409s a clash becomes.
 */
import { uniqueViolation } from "../db/errors";
import { ApiError } from "../errors";

/**
 * The stored form of an email address: ASCII letters lower-cased, nothing else folded — so a
 * non-ASCII look-alike (the Kelvin sign U+212A for "k") never matches a stored address.
 */
export function normalizeEmail(email: string): string {
  return email.trim().replace(/[A-Z]/g, (ch) => ch.toLowerCase());
}

/**
 * The form of a username that uniqueness compares: NFKC-normalised and lower-cased in the Worker,
 * because SQLite's lower() folds ASCII only ("Émile" and "émile" would both be accepted).
 */
export function usernameKey(username: string | null): string | null {
  return username === null ? null : username.normalize("NFKC").toLowerCase();
}

export function usernameTaken() {
  return new ApiError("username_taken", "A user with this username already exists", {
    details: { username: ["A user with that username already exists."] },
  });
}

/** Turns a unique-constraint failure on users into the contract's 409. */
export function conflictFrom(err: unknown): ApiError | null {
  const constraint = uniqueViolation(err);
  if (constraint === "users.email" || constraint === "users_email_unique") {
    return new ApiError("email_taken", "A user with this email already exists", {
      details: { email: ["A user with this email already exists."] },
    });
  }
  if (constraint === "users.username_key" || constraint === "users_username_key_unique") {
    return usernameTaken();
  }
  return null;
}

/** Runs a write, turning a unique-constraint clash on users into its 409. */
export async function withoutConflict<T>(run: () => Promise<T>): Promise<T> {
  try {
    return await run();
  } catch (err) {
    throw conflictFrom(err) ?? err;
  }
}
