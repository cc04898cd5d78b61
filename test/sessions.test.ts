/**
 * GET /auth/sessions/ and DELETE /auth/sessions/{id}/.
 */
import { describe, expect, it } from "vitest";
import { call, type Envelope, expectError } from "./helpers/api";
import { auditFor, claims, PASSWORD, register, type TokenPair } from "./helpers/users";

interface Session {
  id: string;
  created_at: string;
  last_used_at: string;
  expires_at: string;
  ip: string | null;
  user_agent: string | null;
  current: boolean;
}

async function sessionsOf(token: string, query = "") {
  return call<Envelope<Session[]> & { meta: Record<string, unknown> }>(
    "GET",
    `/auth/sessions/${query}`,
    {
      token,
    },
  );
}

async function secondLogin(email: string): Promise<TokenPair> {
  const res = await call<Envelope<TokenPair>>("POST", "/auth/login/", {
    body: { email, password: PASSWORD },
    headers: { "CF-Connecting-IP": "2001:db8::7", "User-Agent": "phone/2.0" },
  });
  expect(res.status).toBe(200);
  return res.body.data;
}

describe("listing sessions", () => {
  it("lists my active sessions with where they came from, flagging the current one", async () => {
    const user = await register();
    const phone = await secondLogin(user.email);
    const res = await sessionsOf(user.access_token);
    expect(res.status, res.text).toBe(200);
    expect(res.body.data).toHaveLength(2);
    const current = res.body.data.find((s) => s.current);
    expect(current?.id).toBe(claims(user.access_token).sid);
    const other = res.body.data.find((s) => !s.current);
    expect(other).toMatchObject({
      id: claims(phone.access_token).sid,
      ip: "2001:db8::7",
      user_agent: "phone/2.0",
    });
    expect(Object.keys(other ?? {}).sort()).toEqual(
      ["created_at", "current", "expires_at", "id", "ip", "last_used_at", "user_agent"].sort(),
    );
    expect(res.body.meta).toEqual({
      total: 2,
      limit: 20,
      page: 1,
      total_pages: 1,
      has_next: false,
      has_previous: false,
    });
    expect(res.text).not.toContain(phone.refresh_token);
  });

  it("paginates and leaves out revoked sessions", async () => {
    const user = await register();
    const second = await secondLogin(user.email);
    await secondLogin(user.email);
    await call("POST", "/auth/logout/", { token: second.access_token });
    const page = await sessionsOf(user.access_token, "?limit=1&page=2");
    expect(page.body.data).toHaveLength(1);
    expect(page.body.meta).toMatchObject({
      total: 2,
      limit: 1,
      page: 2,
      total_pages: 2,
      has_next: false,
      has_previous: true,
    });
  });

  it("validates pagination", async () => {
    const user = await register();
    const res = await sessionsOf(user.access_token, "?limit=101&page=0");
    expectError(res, 400, "validation_failed");
    expect((res.body as Envelope<unknown>).details).toEqual({
      limit: ["Ensure this value is less than or equal to 100."],
      page: ["Ensure this value is greater than or equal to 1."],
    });
  });

  it("shows no one else's sessions", async () => {
    const user = await register();
    const other = await register();
    const res = await sessionsOf(user.access_token);
    expect(res.body.data.map((s) => s.id)).not.toContain(claims(other.access_token).sid);
  });
});

describe("revoking a session", () => {
  it("logs that device out and keeps this one", async () => {
    const user = await register();
    const phone = await secondLogin(user.email);
    const sid = claims(phone.access_token).sid as string;
    const res = await call("DELETE", `/auth/sessions/${sid}/`, { token: user.access_token });
    expect(res.status, res.text).toBe(200);
    expectError(
      await call("GET", "/users/me/", { token: phone.access_token }),
      401,
      "invalid_token",
    );
    expectError(
      await call("POST", "/auth/refresh/", { body: { refresh_token: phone.refresh_token } }),
      401,
      "invalid_token",
    );
    expect((await call("GET", "/users/me/", { token: user.access_token })).status).toBe(200);
    const [entry] = await auditFor(user.id, "session_revoked");
    expect(entry?.metadata).toEqual({ session_id: sid, current: false });
  });

  it("answers 404 for another user's session and leaves it alone", async () => {
    const user = await register();
    const victim = await register();
    const sid = claims(victim.access_token).sid as string;
    expectError(
      await call("DELETE", `/auth/sessions/${sid}/`, { token: user.access_token }),
      404,
      "not_found",
    );
    expect((await call("GET", "/users/me/", { token: victim.access_token })).status).toBe(200);
  });

  it("answers 404 for an unknown id, a malformed id and an already revoked session", async () => {
    const user = await register();
    const phone = await secondLogin(user.email);
    const sid = claims(phone.access_token).sid as string;
    await call("DELETE", `/auth/sessions/${sid}/`, { token: user.access_token });
    for (const id of [crypto.randomUUID(), "not-a-uuid", sid]) {
      expectError(
        await call("DELETE", `/auth/sessions/${id}/`, { token: user.access_token }),
        404,
        "not_found",
      );
    }
  });

  it("requires a bearer token", async () => {
    expectError(await call("GET", "/auth/sessions/"), 401, "authentication_required");
    expectError(
      await call("DELETE", `/auth/sessions/${crypto.randomUUID()}/`),
      401,
      "authentication_required",
    );
  });
});
