/**
 * The cron's housekeeping: delete sessions, one-time tokens, emailed sign-in codes and
 * identity-provider requests nobody can use any more, and published outbox rows. Rows are kept a while after they stop mattering, so "why was I logged
 * out" or "what did we send" can still be answered.
 */
import { and, isNotNull, lt, or } from "drizzle-orm";
import type { Db } from "./db/client";
import { oneTimeTokens, outbox, pushIngress, sessions } from "./db/schema";
import { emailCodes, oauthStates } from "./db/sign-in-schema";

const DAY_MS = 24 * 60 * 60 * 1000;
export const SESSION_RETENTION_MS = 30 * DAY_MS;
const ONE_TIME_TOKEN_RETENTION_MS = 7 * DAY_MS;
/** Published outbox rows are kept this long for inspection and replay, then deleted. */
const OUTBOX_RETENTION_MS = 7 * DAY_MS;
/** How long a push request taken in over HTTP is remembered, so a repost is a duplicate. */
const PUSH_INGRESS_RETENTION_MS = 7 * DAY_MS;

export async function purgeExpired(db: Db, now: Date) {
  const sessionCutoff = new Date(now.getTime() - SESSION_RETENTION_MS);
  const tokenCutoff = new Date(now.getTime() - ONE_TIME_TOKEN_RETENTION_MS);
  const outboxCutoff = new Date(now.getTime() - OUTBOX_RETENTION_MS);
  const ingressCutoff = new Date(now.getTime() - PUSH_INGRESS_RETENTION_MS);
  const [deletedSessions, deletedTokens, deletedEvents, forgottenRequests, codes, states] =
    await db.batch([
      db
        .delete(sessions)
        .where(
          or(
            lt(sessions.expiresAt, sessionCutoff),
            and(isNotNull(sessions.revokedAt), lt(sessions.revokedAt, sessionCutoff)),
          ),
        )
        .returning({ id: sessions.id }),
      db
        .delete(oneTimeTokens)
        .where(lt(oneTimeTokens.expiresAt, tokenCutoff))
        .returning({ id: oneTimeTokens.id }),
      db
        .delete(outbox)
        .where(and(isNotNull(outbox.publishedAt), lt(outbox.publishedAt, outboxCutoff)))
        .returning({ id: outbox.id }),
      db
        .delete(pushIngress)
        .where(lt(pushIngress.receivedAt, ingressCutoff))
        .returning({ id: pushIngress.notificationId }),
      // Codes and requests live minutes; a day later nobody needs them, not even to explain.
      db
        .delete(emailCodes)
        .where(lt(emailCodes.expiresAt, new Date(now.getTime() - DAY_MS)))
        .returning({ id: emailCodes.id }),
      db
        .delete(oauthStates)
        .where(lt(oauthStates.expiresAt, new Date(now.getTime() - DAY_MS)))
        .returning({ id: oauthStates.id }),
    ]);
  return {
    sessions: deletedSessions.length,
    oneTimeTokens: deletedTokens.length,
    publishedEvents: deletedEvents.length,
    pushRequestsTakenIn: forgottenRequests.length,
    emailCodes: codes.length,
    oauthRequests: states.length,
  };
}
