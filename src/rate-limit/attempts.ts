/**
 * The budget of password guesses (DESIGN §7; the README's "Lockout" section has the numbers).
 * Aimed so an attacker cannot lock anyone else out:
 *
 * - A client that proves it signed in to this account before, with its current password (a
 *   login-device proof, handed out at every successful login), is counted on its own, per account
 *   and device, and nothing else — strangers' guesses never touch its count.
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
import type { SecondFactorAttempts } from "../mfa/guarded-session";
import { clientNetwork, emailSubject, enforceAll, perAccount, perSubject } from "./limits";

/**
 * The attempts of one request. A login may present a device proof (`deviceProof`), checked
 * against the account at `begin`. A re-authentication runs inside a session, which stands in for
 * the device: it is counted per account and network (shared with login) and per session, but not
 * against the account's ceiling — a stranger filling the ceiling must not block a signed-in owner
 * from changing their password, and a guesser holding a session already had the password once.
 */
export function passwordAttempts(
  c: Context<AppEnv>,
  from: { deviceProof?: string | undefined } | { sessionId: string },
): PasswordAttempts & { device(): string | null } {
  const network = clientNetwork(c.get("clientIp"));
  let settle: (() => Promise<void>) | null = null;
  let device: string | null = null;
  return {
    async begin(email, account) {
      // A failed lookup is the caller's to report; here it only means "no proof is honoured".
      const known = Promise.resolve(account).then(
        (a) => a,
        () => null,
      );
      const subject = await emailSubject(email);
      // All of an account's counts live in its one limiter instance: asked once per attempt.
      const onNetwork = perAccount("login-account", subject, network);
      if ("sessionId" in from) {
        const own = [onNetwork, perAccount("login-device", subject, `session:${from.sessionId}`)];
        const counted = await enforceAll(c, own);
        settle = () => counted.settle(own, []);
        return;
      }
      device = from.deviceProof
        ? await verifyDeviceProof(c.get("config"), from.deviceProof, await known)
        : null;
      if (device !== null) {
        const own = [perAccount("login-device", subject, device)];
        const counted = await enforceAll(c, own);
        settle = () => counted.settle(own, []);
        return;
      }
      const ceiling = perAccount("login-ceiling", subject);
      const counted = await enforceAll(c, [perSubject("login-ip", network), onNetwork, ceiling]);
      settle = () => counted.settle([onNetwork], [ceiling]);
    },
    succeeded() {
      if (settle) c.executionCtx.waitUntil(settle());
    },
    /** The id of the proven device this login came from (its proof is renewed, not multiplied). */
    device: () => device,
  };
}

/**
 * Second-factor attempts (codes, recovery codes, passkeys): per client network always, and per
 * account once the account is known, counted before the factor is checked. Success forgets the
 * account's count and takes the attempt back from the network's.
 */
export function secondFactorAttempts(c: Context<AppEnv>): SecondFactorAttempts {
  const network = perSubject("mfa-ip", clientNetwork(c.get("clientIp")));
  let settle: (() => Promise<void>) | null = null;
  return {
    async begin(userId) {
      const account = userId === null ? [] : [perAccount("mfa-account", userId)];
      const counted = await enforceAll(c, [network, ...account]);
      settle = () => counted.settle(account, [network]);
    },
    succeeded() {
      if (settle) c.executionCtx.waitUntil(settle());
    },
  };
}
