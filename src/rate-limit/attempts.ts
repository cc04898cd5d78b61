/**
 * The budget of password guesses (DESIGN §7; the README's "Lockout" section has the numbers).
 * Aimed so an attacker cannot lock anyone else out:
 *
 * - A client that proves it signed in to this account before (a login-device proof, handed out at
 *   every successful login) is counted on its own, per account and device, and nothing else —
 *   strangers' guesses never touch its count.
 * - Anyone else is counted per account *and* client network, so failures from one network lock
 *   only that network out of that account, and against a much higher per-account ceiling that
 *   slows guessing spread over many networks. Login also keeps its per-network ceiling over all
 *   accounts.
 *
 * Every attempt is counted before the password is checked, in one atomic step per policy, so
 * parallel guesses cannot slip in before the first failure is recorded; the right password clears
 * the client's own count and refunds its attempt from the account's ceiling, so an owner's
 * logins never use up the ceiling.
 */
import type { Context } from "hono";
import type { AppEnv } from "../app-env";
import { verifyDeviceProof } from "../auth/jwt";
import type { PasswordAttempts } from "../auth/passwords";
import {
  type Counted,
  clear,
  clientNetwork,
  emailSubject,
  enforceAll,
  type PolicyName,
} from "./limits";

/**
 * The attempts of one request. `kind` "login" also counts the network's logins over all
 * accounts; a re-authentication runs inside a session, whose network is counted the same way.
 * `deviceProof` is what the client presented, checked against the account at `begin`.
 */
export function passwordAttempts(
  c: Context<AppEnv>,
  kind: "login" | "reauthentication",
  deviceProof?: string | undefined,
): PasswordAttempts & { trustedDevice(): boolean } {
  const network = clientNetwork(c.get("clientIp"));
  let counted: Counted | null = null;
  let own: [PolicyName, string] | null = null;
  let ceiling: string | null = null;
  let trusted = false;
  return {
    async begin(email) {
      const account = await emailSubject(email);
      const device = deviceProof
        ? await verifyDeviceProof(c.get("config"), deviceProof, account)
        : null;
      trusted = device !== null;
      if (device !== null) {
        own = ["login-device", `${account}:${device}`];
        counted = await enforceAll(c, [own]);
        return;
      }
      own = ["login-account", `${account}:${network}`];
      ceiling = account;
      counted = await enforceAll(c, [
        ...(kind === "login" ? [["login-ip", network] as [PolicyName, string]] : []),
        own,
        ["login-ceiling", account],
      ]);
    },
    async succeeded() {
      const tasks: Promise<void>[] = [];
      if (own) tasks.push(clear(c, ...own));
      if (counted && ceiling !== null) tasks.push(counted.undo("login-ceiling", ceiling));
      await Promise.all(tasks);
    },
    trustedDevice: () => trusted,
  };
}
