/**
 * The real producers and callers of the replaced services, replayed as they send (issue 11): the
 * push requests of a notification platform's gateway and of the Django service's test publisher
 * (test/fixtures/clients/, byte for byte but for the user id and, fresh for each test, the request
 * and correlation ids), and the HTTP calls of its gateway, push and email services and end-to-end
 * script, which send no service key. Internal reads stay closed unless an operator opens them for
 * a network or for verified client certificates.
 */
import { env } from "cloudflare:workers";
import { eq } from "drizzle-orm";
import { afterEach, describe, expect, it, vi } from "vitest";
import { users } from "../src/db/schema";
import djangoPushText from "./fixtures/clients/django-test-publisher-push.json?raw";
import gatewayPushText from "./fixtures/clients/gateway-push.json?raw";
import {
  type ApiResponse,
  call,
  callWith,
  type Envelope,
  expectError,
  request,
} from "./helpers/api";
import { consume, jobsFor, statusesByAnyId, userWithDevices } from "./helpers/push";
import { db, login, PASSWORD, register, SERVICE, uniqueEmail } from "./helpers/users";

afterEach(() => {
  vi.restoreAllMocks();
});

/** The test user of the capturing system, which the fixtures name (see their README). */
const FIXTURE_USER = "b8c8d2d5-0463-4ee7-bb0d-62fa09c77fe1";
const GATEWAY = JSON.parse(gatewayPushText) as Record<string, unknown>;
const DJANGO = JSON.parse(djangoPushText) as Record<string, unknown>;

type Fixture = Record<string, unknown> & { request_id: string; correlation_id?: string };

/**
 * A fixture as its producer sent it, addressed to one of our users, with request and correlation
 * ids of its own: statuses are found by either, so no two tests may share one.
 */
function replay(text: string, userId: string): Fixture {
  let body = text.replaceAll(FIXTURE_USER, userId);
  for (const id of [GATEWAY.request_id, GATEWAY.correlation_id, DJANGO.request_id]) {
    body = body.replaceAll(id as string, crypto.randomUUID());
  }
  return JSON.parse(body) as Fixture;
}

/** Waits for the local push-request consumer to have filed something under this id. */
async function settled(id: string) {
  await vi.waitFor(
    async () => {
      expect((await statusesByAnyId(id)).length).toBeGreaterThan(0);
    },
    { timeout: 5_000, interval: 50 },
  );
  return statusesByAnyId(id);
}

describe("push requests as the real producers send them", () => {
  it("the gateway's: notification id from request_id, user from metadata, priority 8 high", async () => {
    const { user, devices } = await userWithDevices({ name: "Ada" });
    const body = replay(gatewayPushText, user.id);
    const { result, ids } = await consume("push-requests", [body]);
    expect(result.explicitAcks).toEqual(ids);

    const [job] = await jobsFor(body.request_id);
    expect(job?.job).toMatchObject({
      notification_id: body.request_id,
      request_id: body.request_id,
      correlation_id: body.correlation_id,
      user: { id: user.id, name: "Ada" },
      device: { id: devices[0] },
      request: { template_code: "welcome", priority: "high", user_id: user.id },
    });
    // Every field of the original request, verbatim: nothing stripped, nothing renamed.
    expect(job?.job.original).toEqual(body);
    expect(job?.job.request).toMatchObject({
      retry_count: 0,
      created_at: GATEWAY.created_at,
      type: "push",
    });

    // The gateway finds its statuses by either of its ids.
    for (const id of [body.request_id, body.correlation_id] as string[]) {
      const res = await call<Envelope<{ status: string; user_id: string }[]>>(
        "GET",
        `/push/status/${id}/`,
        { headers: SERVICE },
      );
      expect(res.status, res.text).toBe(200);
      expect(res.body.data).toEqual([
        expect.objectContaining({ status: "queued", user_id: user.id }),
      ]);
    }
  });

  it("the Django test publisher's: notification_type push, priority 1 low", async () => {
    const { user } = await userWithDevices();
    const body = replay(djangoPushText, user.id);
    await consume("push-requests", [body]);
    const [job] = await jobsFor(body.request_id);
    expect(job?.job).toMatchObject({
      request_id: body.request_id,
      correlation_id: null,
      request: { template_code: "WELCOME_TEST", priority: "low", notification_type: "push" },
    });
    expect(job?.job.original).toEqual(body);
  });

  it("a request for another channel is skipped with the reason", async () => {
    const { user } = await userWithDevices();
    const body = { ...replay(gatewayPushText, user.id), type: "email" };
    await consume("push-requests", [body]);
    const rows = await statusesByAnyId(body.request_id);
    expect(rows).toEqual([
      expect.objectContaining({ status: "skipped", error: 'not a push request (type "email")' }),
    ]);
    expect(await jobsFor(body.request_id)).toHaveLength(0);
  });

  it("an invalid one is filed under the sender's request id, not the queue's message id", async () => {
    const body = { ...replay(gatewayPushText, FIXTURE_USER), metadata: {} };
    const { ids } = await consume("push-requests", [body]);
    const [row] = await statusesByAnyId(body.request_id);
    expect(row).toMatchObject({ status: "failed", notificationId: body.request_id });
    expect(row?.error).toContain("user_id");
    expect(await statusesByAnyId(`message:${ids[0]}`)).toHaveLength(0);
  });

  it("an integer priority outside 0–10 is refused, not guessed", async () => {
    const { user } = await userWithDevices();
    const body = { ...replay(gatewayPushText, user.id), priority: 11 };
    await consume("push-requests", [body]);
    const [row] = await statusesByAnyId(body.request_id);
    expect(row).toMatchObject({ status: "failed" });
    expect(row?.error).toContain("priority");
  });
});

describe("POST /api/v1/push/requests/ (producers outside Cloudflare)", () => {
  const post = (body: unknown, headers: Record<string, string> = SERVICE) =>
    call<Envelope<{ accepted: number; results: Record<string, unknown>[] }>>(
      "POST",
      "/push/requests/",
      { body: body as Record<string, unknown>, headers },
    );

  it("takes the gateway's request as sent, queues it once, and answers a repost duplicate", async () => {
    const { user } = await userWithDevices();
    const body = replay(gatewayPushText, user.id);
    const send = vi.spyOn(env.PUSH_REQUESTS, "sendBatch");
    const first = await post(body);
    expect(first.status, first.text).toBe(202);
    expect(first.body.data.results).toEqual([
      { index: 0, status: "accepted", notification_id: body.request_id },
    ]);
    // Queued exactly as sent.
    expect(send).toHaveBeenCalledWith([{ body, contentType: "json" }]);
    expect((await settled(body.request_id))[0]).toMatchObject({ status: "queued" });

    const again = await post(body);
    expect(again.status).toBe(202);
    expect(again.body.data.results).toEqual([
      { index: 0, status: "duplicate", notification_id: body.request_id },
    ]);
    expect(send).toHaveBeenCalledTimes(1);
  });

  it("answers one result per item of a batch, with the reason for each refusal", async () => {
    const { user } = await userWithDevices();
    const valid = replay(djangoPushText, user.id);
    const noUser = { ...valid, request_id: crypto.randomUUID(), user_id: undefined };
    const email = { ...valid, request_id: crypto.randomUUID(), notification_type: "email" };
    const res = await post([valid, noUser, email, valid]);
    expect(res.status, res.text).toBe(202);
    const [a, b, c, d] = res.body.data.results;
    expect(a).toEqual({ index: 0, status: "accepted", notification_id: valid.request_id });
    expect(b).toMatchObject({ index: 1, status: "refused", notification_id: noUser.request_id });
    expect(b?.reason).toContain("user_id");
    expect(c).toMatchObject({ status: "refused", reason: 'not a push request (type "email")' });
    expect(d).toEqual({ index: 3, status: "duplicate", notification_id: valid.request_id });
    expect(res.body.data).toMatchObject({ accepted: 1, duplicates: 1, refused: 2 });
  });

  it("refuses more than 100 at once, and callers without a service key", async () => {
    const many = Array.from({ length: 101 }, () => ({
      ...DJANGO,
      request_id: crypto.randomUUID(),
    }));
    expectError(await post(many), 400, "validation_failed");
    expectError(await post(DJANGO, {}), 401, "authentication_required");
  });

  it("writes nothing when the queue is down, so a retry queues it", async () => {
    const { user } = await userWithDevices();
    const body = replay(gatewayPushText, user.id);
    vi.spyOn(console, "error").mockImplementation(() => {});
    const broken = {
      sendBatch: () => Promise.reject(new Error("queue down")),
    } as unknown as Queue;
    const res = await callWith(
      { PUSH_REQUESTS: broken },
      request("POST", "/push/requests/", { body, headers: SERVICE }),
    );
    expectError(res, 503, "service_unavailable");
    const retry = await post(body);
    expect(retry.body.data.results[0]).toMatchObject({ status: "accepted" });
  });

  it("POST /api/v1/notifications/test/ is the Django service's test path onto the same", async () => {
    const { user } = await userWithDevices();
    const res = await call<
      Envelope<{ message: string; payload: { request_id: string } & Record<string, unknown> }>
    >("POST", "/notifications/test/", {
      body: { user_id: user.id, variables: { name: "Ada" } },
      headers: SERVICE,
    });
    expect(res.status, res.text).toBe(200);
    expect(res.body.success).toBe(true);
    expect(res.body.data.message).toEqual(expect.any(String));
    expect(res.body.data.payload).toMatchObject({
      notification_type: "push",
      user_id: user.id,
      template_code: "WELCOME_TEST",
      priority: 1,
      metadata: { source: "test-endpoint" },
    });
    const rows = await settled(res.body.data.payload.request_id);
    expect(rows[0]).toMatchObject({ status: "queued" });
    const missing = await call("POST", "/notifications/test/", { body: {}, headers: SERVICE });
    expectError(missing, 400, "validation_failed");
  });
});

const OPEN = { LEGACY_CALLER_NETWORKS: "198.51.100.0/24, 2001:db8:7::/48" };
const INSIDE = { "CF-Connecting-IP": "198.51.100.23" };

/** A sibling's call, without any credential, from a client address, with vars changed. */
function sibling<T = Envelope>(
  path: string,
  vars: Record<string, string> = {},
  headers: Record<string, string> = {},
): Promise<ApiResponse<T>> {
  return callWith<T>(
    vars,
    request("GET", path, { headers: { "X-Correlation-ID": "", ...headers } }),
  );
}

describe("the siblings' reads are closed by default", () => {
  const paths = (id: string) => [
    `http://localhost/api/users/${id}/preferences`,
    `http://localhost/api/users/${id}`,
    `/users/${id}/preferences/`,
    `/users/${id}/push-token/`,
    `/users/${id}/contact/?type=email`,
  ];

  it("without a credential, from any address, even one that says it is inside", async () => {
    const user = await register();
    for (const path of paths(user.id)) {
      const res = await sibling(path, {}, { ...INSIDE, "X-Forwarded-For": "198.51.100.23" });
      expectError(res, 401, "authentication_required");
    }
  });

  it("and from outside the listed networks when they are opened", async () => {
    const user = await register();
    for (const path of paths(user.id)) {
      const res = await sibling(path, OPEN, {
        "CF-Connecting-IP": "203.0.113.9",
        "X-Forwarded-For": "198.51.100.23",
      });
      expectError(res, 401, "authentication_required");
    }
  });

  it("opened for a listed network (IPv4 and IPv6) and for verified client certificates", async () => {
    const { user } = await userWithDevices();
    for (const ip of ["198.51.100.23", "2001:db8:7:1::5", "::ffff:198.51.100.23"]) {
      const res = await sibling(`/users/${user.id}/preferences/`, OPEN, { "CF-Connecting-IP": ip });
      expect(res.status, `${ip}: ${res.text}`).toBe(200);
    }
    const cert = (certVerified: string) =>
      new Request(`http://localhost/api/v1/users/${user.id}/push-token/`, {
        cf: { tlsClientAuth: { certPresented: "1", certVerified } },
      });
    expect((await callWith({ LEGACY_CALLER_MTLS: "true" }, cert("SUCCESS"))).status).toBe(200);
    expectError(
      await callWith({ LEGACY_CALLER_MTLS: "true" }, cert("FAILED:self signed")),
      401,
      "authentication_required",
    );
    expectError(await callWith({}, cert("SUCCESS")), 401, "authentication_required");
  });

  it("a listed network never passes for a user: a bad bearer token is still refused", async () => {
    const user = await register();
    const res = await sibling(`/users/${user.id}/preferences/`, OPEN, {
      ...INSIDE,
      Authorization: "Bearer not.a.token",
    });
    expect(res.status).toBe(401);
  });

  it("a malformed network list fails the configuration, naming the setting only in the log", async () => {
    const user = await register();
    const logged = vi.spyOn(console, "error").mockImplementation(() => {});
    const res = await sibling(`/users/${user.id}/preferences/`, {
      LEGACY_CALLER_NETWORKS: "10.0.0.0/99",
    });
    expectError(res, 500, "misconfigured");
    expect(JSON.stringify(logged.mock.calls)).toContain("LEGACY_CALLER_NETWORKS");
  });
});

describe("what each sibling reads", () => {
  it("gateway: GET /api/users/{id}/preferences is a bare body", async () => {
    const { user } = await userWithDevices({ preferences: { email: false } });
    const res = await sibling<Record<string, unknown>>(
      `http://localhost/api/users/${user.id}/preferences`,
      OPEN,
      INSIDE,
    );
    expect(res.status, res.text).toBe(200);
    expect(res.body).toEqual({
      email_enabled: false,
      push_enabled: true,
      email: user.email,
      push_tokens: [`tok-0-${user.id}`],
    });
  });

  it("gateway: GET /api/users/{id} has id, email, name and preferences at the top", async () => {
    const user = await register({ name: "Ada Lovelace" });
    const res = await sibling<Record<string, unknown>>(
      `http://localhost/api/users/${user.id}`,
      OPEN,
      INSIDE,
    );
    expect(res.status, res.text).toBe(200);
    expect(res.body).toMatchObject({
      id: user.id,
      email: user.email,
      name: "Ada Lovelace",
      preferences: { email: true, push: true },
      // The envelope stays for the users service's own clients.
      success: true,
      data: { id: user.id, email: user.email },
    });
    expect(res.headers.get("Deprecation")).not.toBeNull();
  });

  it("gateway: GET /api/users/validate checks the bearer token and is not a user id", async () => {
    const user = await register({ name: "Ada" });
    const res = await call<Record<string, unknown>>("GET", "http://localhost/api/users/validate", {
      token: user.access_token,
      headers: { "X-Correlation-ID": "" },
    });
    expect(res.status, res.text).toBe(200);
    expect(res.body).toEqual({ id: user.id, email: user.email, name: "Ada" });
    // An empty correlation id is replaced by a generated one.
    expect(res.headers.get("X-Correlation-ID")).toMatch(/^[0-9a-f-]{36}$/);

    await call("POST", "/auth/logout/", { token: user.access_token });
    const revoked = await call("GET", "http://localhost/api/users/validate", {
      token: user.access_token,
    });
    expectError(revoked, 401, "invalid_token");
    expectError(
      await call("GET", "http://localhost/api/users/validate"),
      401,
      "authentication_required",
    );
  });

  it("gateway: GET /api/v1/users/{id}/contact?type=email|push", async () => {
    const { user } = await userWithDevices({ preferences: { push: false } });
    const email = await sibling<Envelope>(`/users/${user.id}/contact?type=email`, OPEN, INSIDE);
    expect(email.status, email.text).toBe(200);
    expect(email.body).toMatchObject({
      success: true,
      data: {
        user_id: user.id,
        contact: user.email,
        notification_type: "email",
        preferences_enabled: true,
      },
    });
    const push = await sibling<Envelope>(`/users/${user.id}/contact?type=push`, OPEN, INSIDE);
    expect(push.body.data).toEqual({
      user_id: user.id,
      contact: `tok-0-${user.id}`,
      notification_type: "push",
      preferences_enabled: false,
    });
    const unknown = await sibling(`/users/${crypto.randomUUID()}/contact?type=email`, OPEN, INSIDE);
    expectError(unknown, 404, "not_found");
  });

  it("push and email services: GET /api/v1/users/{id}/preferences has the switches and email", async () => {
    const { user } = await userWithDevices();
    for (const res of [
      await sibling<Envelope<Record<string, unknown>>>(
        `/users/${user.id}/preferences/`,
        OPEN,
        INSIDE,
      ),
      await call<Envelope<Record<string, unknown>>>("GET", `/users/${user.id}/preferences/`, {
        headers: SERVICE,
      }),
    ]) {
      expect(res.status, res.text).toBe(200);
      expect(res.body.data).toMatchObject({
        email_enabled: true,
        push_enabled: true,
        email: user.email,
      });
    }
  });

  it("push service: GET /api/v1/users/{id}/push-token has data.token (and data.push_token); 404 = none", async () => {
    const { user } = await userWithDevices();
    const res = await sibling<Envelope>(`/users/${user.id}/push-token`, OPEN, INSIDE);
    expect(res.status, res.text).toBe(200);
    expect(res.body.data).toMatchObject({
      token: `tok-0-${user.id}`,
      push_token: `tok-0-${user.id}`,
    });
    const none = await register();
    expectError(await sibling(`/users/${none.id}/push-token`, OPEN, INSIDE), 404, "not_found");
  });

  it("end-to-end script: health, registration with first and last name, login", async () => {
    expect((await call("GET", "http://localhost/api/health")).status).toBe(200);
    const email = uniqueEmail("e2e");
    const username = `e2e${crypto.randomUUID().slice(0, 8)}`;
    const registered = await call<Envelope<{ user: { id: string; name: string } }>>(
      "POST",
      "/auth/register",
      { body: { email, username, password: PASSWORD, first_name: "Ada", last_name: "Lovelace" } },
    );
    expect(registered.status, registered.text).toBe(201);
    expect(registered.body.data.user.name).toBe("Ada Lovelace");
    const [row] = await db().select().from(users).where(eq(users.email, email));
    expect(row).toMatchObject({ firstName: "Ada", lastName: "Lovelace", username });
    expect((await login(email)).status).toBe(200);
  });

  it("the notification-platform's own clients: PUT /users/profile/ {name} is partial", async () => {
    const user = await register({
      name: "Before",
      username: `p${crypto.randomUUID().slice(0, 8)}`,
    });
    const before = await call<Envelope<Record<string, unknown>>>("GET", "/users/profile/", {
      token: user.access_token,
    });
    const res = await call<Envelope<Record<string, unknown>>>("PUT", "/users/profile/", {
      token: user.access_token,
      body: { name: "After" },
    });
    expect(res.status, res.text).toBe(200);
    expect(res.body.data).toMatchObject({
      name: "After",
      email: user.email,
      username: before.body.data.username,
    });
  });
});
