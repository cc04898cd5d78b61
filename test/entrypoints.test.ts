/**
 * The Worker's other entry points: the cron's housekeeping and the queue dispatcher.
 */
import {
  createExecutionContext,
  createMessageBatch,
  createScheduledController,
  getQueueResult,
} from "cloudflare:test";
import { env } from "cloudflare:workers";
import { eq } from "drizzle-orm";
import { afterEach, describe, expect, it, vi } from "vitest";
import { refreshTokens, sessions } from "../src/db/schema";
import { emailCodes, oauthStates } from "../src/db/sign-in-schema";
import worker from "../src/dev/local";
import { SESSION_RETENTION_MS } from "../src/housekeeping";
import { claims, db, register, sessionsFor } from "./helpers/users";

afterEach(() => {
  vi.restoreAllMocks();
});

describe("scheduled housekeeping", () => {
  it("deletes sessions long expired or long revoked, and keeps the rest", async () => {
    const expired = await register();
    const revoked = await register();
    const current = await register();
    const longAgo = new Date(Date.now() - SESSION_RETENTION_MS - 60_000);
    await db().update(sessions).set({ expiresAt: longAgo }).where(eq(sessions.userId, expired.id));
    await db()
      .update(sessions)
      .set({ revokedAt: longAgo, revokedReason: "logout" })
      .where(eq(sessions.userId, revoked.id));

    vi.spyOn(console, "log").mockImplementation(() => {});
    const controller = createScheduledController({
      scheduledTime: new Date(),
      cron: "*/5 * * * *",
    });
    await worker.scheduled(controller, env);

    expect(await sessionsFor(expired.id)).toHaveLength(0);
    expect(await sessionsFor(revoked.id)).toHaveLength(0);
    expect(await sessionsFor(current.id)).toHaveLength(1);
    // Their refresh-token history goes with them (foreign key cascade).
    const history = await db().select().from(refreshTokens);
    const sessionIds = new Set(history.map((h) => h.sessionId));
    expect([...sessionIds].some((id) => id === claims(expired.access_token).sid)).toBe(false);
    expect(sessionIds.has(claims(current.access_token).sid as string)).toBe(true);
  });
});

describe("scheduled housekeeping of sign-in leftovers", () => {
  it("deletes emailed codes and provider requests a day past their expiry, keeps live ones", async () => {
    const now = Date.now();
    const row = (id: string, expiresAt: number) => ({
      id,
      email: `${id}@example.com`,
      codeHash: `c-${id}`,
      linkHash: `l-${id}`,
      expiresAt: new Date(expiresAt),
      createdAt: new Date(expiresAt - 600_000),
    });
    const old = crypto.randomUUID();
    const live = crypto.randomUUID();
    await db()
      .insert(emailCodes)
      .values([row(old, now - 2 * 86_400_000), row(live, now + 600_000)]);
    const state = (id: string, expiresAt: number) => ({
      id,
      provider: "corp",
      bindingHash: "b",
      codeVerifier: "v",
      nonce: "n",
      redirectTo: "http://localhost:3000/",
      sessionMode: "token" as const,
      expiresAt: new Date(expiresAt),
      createdAt: new Date(expiresAt - 600_000),
    });
    await db()
      .insert(oauthStates)
      .values([state(old, now - 2 * 86_400_000), state(live, now + 600_000)]);

    vi.spyOn(console, "log").mockImplementation(() => {});
    await worker.scheduled(
      createScheduledController({ scheduledTime: new Date(), cron: "*/5 * * * *" }),
      env,
    );
    const codes = (await db().select({ id: emailCodes.id }).from(emailCodes)).map((r) => r.id);
    const states = (await db().select({ id: oauthStates.id }).from(oauthStates)).map((r) => r.id);
    expect(codes).not.toContain(old);
    expect(codes).toContain(live);
    expect(states).not.toContain(old);
    expect(states).toContain(live);
  });
});

describe("queue dispatch", () => {
  it("retries, never acknowledges, a batch from a queue it has no consumer for", async () => {
    vi.spyOn(console, "error").mockImplementation(() => {});
    const batch = createMessageBatch("unknown-queue", [
      { id: "m1", timestamp: new Date(), attempts: 1, body: { hello: "world" } },
    ]);
    const ctx = createExecutionContext();
    await worker.queue(batch, env, ctx);
    const result = await getQueueResult(batch, ctx);
    expect(result.ackAll).toBe(false);
    expect(result.explicitAcks).toEqual([]);
    expect(result.retryBatch.retry).toBe(true);
  });
});
