/**
 * Password policy and hashing (DESIGN §5, §8).
 *
 * Hashes are PHC strings, so parameters can change over time: a login with a hash made under other
 * parameters (or imported from Django, src/auth/django-hashes.ts) is rehashed with the current ones.
 */
import { dictionary } from "@zxcvbn-ts/language-common";
import { type Argon2Params, argon2idHash, argon2idParams, argon2idVerify } from "./argon2";
import {
  argon2Refusal,
  type PasswordHashClassification,
  readDjangoHash,
  type StoredHash,
} from "./django-hashes";

export type { PasswordHashClassification } from "./django-hashes";

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

const OWN_FORMAT = "argon2id";

function sameParams(a: Argon2Params, b: Argon2Params): boolean {
  return (
    a.memoryKib === b.memoryKib && a.iterations === b.iterations && a.parallelism === b.parallelism
  );
}

/** The largest parameters PASSWORD_HASH_* accepts (src/config.ts): every hash we may have written. */
const OWN_LIMITS: Argon2Params = { memoryKib: 131_072, iterations: 10, parallelism: 4 };

function ownRefusal(written: boolean): string | undefined {
  return written ? undefined : "parameters this service never writes";
}

/**
 * Our own `$argon2id$` PHC strings, or Django's formats (src/auth/django-hashes.ts). At login
 * (`ours`) an Argon2id string is one this service wrote, under any configuration it allows; one
 * arriving in an import is bounded like Django's Argon2, since a hostile string could otherwise
 * make a login allocate gigabytes.
 */
function readStoredHash(encoded: string | null | undefined, ours: boolean): StoredHash {
  if (!encoded?.startsWith("$argon2id$")) return readDjangoHash(encoded);
  const found = argon2idParams(encoded);
  if (!found) {
    return { kind: "must_reset", format: OWN_FORMAT, reason: "not a well-formed Argon2id hash" };
  }
  const { memoryKib: m, iterations: t, parallelism: p } = found;
  const written =
    m <= OWN_LIMITS.memoryKib && t <= OWN_LIMITS.iterations && p <= OWN_LIMITS.parallelism;
  const refusal = ours ? ownRefusal(written) : argon2Refusal(m, t, p);
  if (refusal) return { kind: "must_reset", format: OWN_FORMAT, reason: refusal };
  return {
    kind: "verifiable",
    format: OWN_FORMAT,
    // Looked up at call time, so the security tests' spy on `argon2id.verify` sees this call.
    verify: async (password) => argon2id.verify(encoded, password),
  };
}

/**
 * What the importer needs to know about a Django `password` column: whether `verifyPassword` can
 * check it ("verifiable"), whether it is no password at all ("unusable": `!…`, empty, null), or a
 * password this Worker will not check ("must_reset": Django's default Argon2 memory, MD5/SHA-1/crypt
 * hashers, unknown or malformed strings) — the user then signs in after a password reset.
 */
export function classifyPasswordHash(
  encoded: string | null | undefined,
): PasswordHashClassification {
  const hash = readStoredHash(encoded, false);
  return hash.kind === "verifiable"
    ? { kind: hash.kind, format: hash.format }
    : { kind: hash.kind, format: hash.format, reason: hash.reason };
}

/**
 * Checks a password against a stored hash: our Argon2id PHC strings and every Django format
 * `classifyPasswordHash` calls verifiable. A hash that is unusable or cannot be checked here never
 * matches, and costs one Argon2id with the current parameters like a wrong password or an unknown
 * email, so timing does not tell such accounts apart. Django formats always need a rehash.
 */
export async function verifyPassword(
  stored: string,
  password: string,
  params: Argon2Params,
): Promise<PasswordCheck> {
  const hash = readStoredHash(stored, true);
  if (hash.kind !== "verifiable") {
    spendPasswordWork(password, params);
    return { ok: false, needsRehash: true };
  }
  const ok = await hash.verify(password);
  if (hash.format !== OWN_FORMAT) return { ok, needsRehash: true };
  const current = argon2idParams(stored);
  return { ok, needsRehash: !current || !sameParams(current, params) };
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

/**
 * The guessing budget a password check spends from: login and every re-authentication (change
 * password, email change, later step-ups) share one per account. The HTTP layer builds it
 * (src/rate-limit/attempts.ts); the domain only calls it around its check.
 */
export interface PasswordAttempts {
  /**
   * Counts this attempt on the account before the password is checked; throws the 429 if over.
   * `account` is the user the email names, if any (a device proof is checked against it); while
   * it is still being looked up, counts that need no proof already run.
   */
  begin(
    email: string,
    account: PromiseLike<{ id: string; passwordHash: string } | null>,
  ): Promise<void>;
  /**
   * The password was right: this client's failures are forgotten and its attempt refunded — after
   * the response, as nothing in it waits for that.
   */
  succeeded(): void;
}
