/**
 * Password policy and hashing (DESIGN §5, §8).
 *
 * Hashes are PHC strings, so parameters can change over time: a login with a hash made under other
 * parameters (or imported from Django) is rehashed with the current ones.
 */
import { dictionary } from "@zxcvbn-ts/language-common";
import { type Argon2Params, argon2idHash, argon2idParams, argon2idVerify } from "./argon2";
import { isDjangoPbkdf2, verifyDjangoPbkdf2 } from "./pbkdf2";

const PASSWORD_MIN_LENGTH = 8;
export const PASSWORD_MAX_LENGTH = 128;

/**
 * The Argon2id calls, as one object so the security tests can observe that every login path does
 * the same hashing work (an ES module's own bindings cannot be spied on).
 */
export const argon2id = {
  hash: argon2idHash,
  verify: argon2idVerify,
};

let commonPasswords: Set<string> | undefined;

/**
 * The bundled list of common passwords: zxcvbn-ts's ~49k leaked passwords, shipped inside the
 * Worker. Only entries the length rule would otherwise accept matter; built once per isolate.
 */
function isCommonPassword(password: string): boolean {
  commonPasswords ??= new Set(
    dictionary["passwords-common"]
      .filter((p) => p.length >= PASSWORD_MIN_LENGTH)
      .map((p) => p.toLowerCase()),
  );
  return commonPasswords.has(password.trim().toLowerCase());
}

export interface PasswordContext {
  email?: string | null | undefined;
  username?: string | null | undefined;
  name?: string | null | undefined;
}

/**
 * Django's validators, with Django's messages: minimum length, not common, not entirely numeric,
 * not the user's own email / username / name. Length above the maximum is the schema's job.
 */
export function passwordPolicyErrors(password: string, context: PasswordContext = {}): string[] {
  const errors: string[] = [];
  if (password.length < PASSWORD_MIN_LENGTH) {
    errors.push(
      `This password is too short. It must contain at least ${PASSWORD_MIN_LENGTH} characters.`,
    );
  }
  if (isCommonPassword(password)) errors.push("This password is too common.");
  if (/^\d+$/.test(password)) errors.push("This password is entirely numeric.");

  const candidate = password.trim().toLowerCase();
  const email = context.email?.trim().toLowerCase();
  if (email && (candidate === email || candidate === email.split("@")[0])) {
    errors.push("The password is too similar to the email address.");
  }
  const username = context.username?.trim().toLowerCase();
  if (username && candidate === username) {
    errors.push("The password is too similar to the username.");
  }
  const name = context.name?.trim().toLowerCase();
  if (name && name.length >= 3 && candidate === name.replaceAll(" ", "")) {
    errors.push("The password is too similar to the name.");
  }
  return errors;
}

export function hashPassword(password: string, params: Argon2Params): string {
  return argon2id.hash(password, params);
}

export interface PasswordCheck {
  ok: boolean;
  /** The stored hash is not Argon2id with the current parameters: store a fresh one. */
  needsRehash: boolean;
}

/**
 * Checks a password against a stored hash: Argon2id PHC strings, Django's `argon2$…` (the same PHC
 * string behind a prefix) and Django's `pbkdf2_sha256$…`.
 */
export async function verifyPassword(
  stored: string,
  password: string,
  params: Argon2Params,
): Promise<PasswordCheck> {
  if (stored.startsWith("$argon2id$") || stored.startsWith("argon2$argon2id$")) {
    const phc = stored.startsWith("argon2$") ? stored.slice("argon2".length) : stored;
    const ok = argon2id.verify(phc, password);
    const current = argon2idParams(phc);
    const needsRehash =
      stored !== phc ||
      !current ||
      current.memoryKib !== params.memoryKib ||
      current.iterations !== params.iterations ||
      current.parallelism !== params.parallelism;
    return { ok, needsRehash };
  }
  if (isDjangoPbkdf2(stored)) {
    return { ok: await verifyDjangoPbkdf2(stored, password), needsRehash: true };
  }
  return { ok: false, needsRehash: true };
}

// Fixed salt and hash for the dummy check below: verifying against them costs exactly one Argon2id
// computation with the current parameters, and no password can match (the hash is all zero bytes).
const DUMMY_SALT = "c29tZXNhbHRzb21lc2FsdA";
const DUMMY_HASH = "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA";

/**
 * The same hashing work as checking a real password, for an account that does not exist (or must
 * not be told apart), so response times do not reveal which emails are registered.
 */
export function spendPasswordWork(password: string, params: Argon2Params): void {
  const { memoryKib: m, iterations: t, parallelism: p } = params;
  argon2id.verify(`$argon2id$v=19$m=${m},t=${t},p=${p}$${DUMMY_SALT}$${DUMMY_HASH}`, password);
}
