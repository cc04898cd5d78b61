/**
 * Test data: every test makes its own users with unique emails, through the public API.
 */
import { env } from "cloudflare:workers";
import { and, desc, eq } from "drizzle-orm";
import { expect } from "vitest";
import { getDb } from "../../src/db/client";
import { auditLog, outbox, sessions, users } from "../../src/db/schema";
import { call, callWith, type Envelope, request } from "./api";

export const PASSWORD = "violet-Harbor-42";

export function uniqueEmail(prefix = "user"): string {
  return `${prefix}-${crypto.randomUUID()}@example.com`;
}

export interface TokenPair {
  user: {
    id: string;
    user_id: string;
    email: string;
    username: string | null;
    name: string;
    role: string;
    is_active: boolean;
    email_verified: boolean;
    push_token: string | null;
    preferences: { email: boolean; push: boolean };
    created_at: string;
    updated_at: string;
    last_login_at: string | null;
  };
  access_token: string;
  refresh_token: string;
  token_type: string;
  expires_in: number;
}

export interface TestUser extends TokenPair {
  email: string;
  password: string;
  id: string;
}

/**
 * Registers through the API and waits for the request's after-response work (event publishing), so
 * it cannot spill into what the test measures next.
 */
export async function register(fields: Record<string, unknown> = {}): Promise<TestUser> {
  const email = (fields.email as string | undefined) ?? uniqueEmail();
  const password = (fields.password as string | undefined) ?? PASSWORD;
  const res = await callWith<Envelope<TokenPair>>(
    {},
    request("POST", "/users/", { body: { email, password, ...fields } }),
  );
  expect(res.status, res.text).toBe(201);
  return { ...res.body.data, email: res.body.data.user.email, password, id: res.body.data.user.id };
}

export async function login(email: string, password = PASSWORD) {
  return call<Envelope<TokenPair>>("POST", "/auth/login/", { body: { email, password } });
}

export const db = () => getDb(env);

export async function userRow(id: string) {
  const [row] = await db().select().from(users).where(eq(users.id, id));
  return row;
}

export async function outboxFor(userId: string, type?: string) {
  const rows = await db().select().from(outbox).orderBy(desc(outbox.createdAt));
  return rows
    .filter((r) => r.destination === "user-events")
    .map((r) => ({
      ...r,
      event: JSON.parse(r.payload) as { type: string; data: Record<string, unknown> },
    }))
    .filter((r) => r.event.data.user_id === userId && (!type || r.type === type));
}

export async function auditFor(userId: string, action?: string) {
  return db()
    .select()
    .from(auditLog)
    .where(
      action
        ? and(eq(auditLog.userId, userId), eq(auditLog.action, action))
        : eq(auditLog.userId, userId),
    )
    .orderBy(desc(auditLog.createdAt));
}

export async function sessionsFor(userId: string) {
  return db().select().from(sessions).where(eq(sessions.userId, userId));
}

/** Decodes a JWT's payload without verifying it (for asserting claims). */
export function claims(token: string): Record<string, unknown> {
  const part = token.split(".")[1] ?? "";
  return JSON.parse(atob(part.replaceAll("-", "+").replaceAll("_", "/")));
}

/** Makes a user an admin directly in D1 (what `npm run user:role` does). */
export async function makeAdmin(user: { id: string }) {
  await db().update(users).set({ role: "admin" }).where(eq(users.id, user.id));
}

/** Headers of a caller holding a configured service key (vitest.config.ts SERVICE_KEYS). */
export const SERVICE = { "X-Service-Key": "dev-service-key" } as const;
export const SERVICE_BEARER = { Authorization: "Bearer other-service-key" } as const;
export const WRONG_SERVICE = { "X-Service-Key": "not-a-configured-key" } as const;
