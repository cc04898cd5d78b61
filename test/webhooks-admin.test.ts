/**
 * Outbound webhooks (issue 15), the admin API: only admins manage endpoints, the secret is shown
 * once, bad URLs and unknown event types are refused without a write, changes are audited.
 */
import { eq } from "drizzle-orm";
import { afterEach, describe, expect, it } from "vitest";
import { webhookEndpoints } from "../src/db/schema";
import { webhookUrlProblem } from "../src/webhooks/url-policy";
import { call, type Envelope, expectError } from "./helpers/api";
import { auditFor, db, makeAdmin, register } from "./helpers/users";
import { admin, afterWebhookTest, type Endpoint, endpoint, RECEIVER } from "./helpers/webhooks";

afterEach(afterWebhookTest);

describe("webhook endpoints (admin API)", () => {
  it("only admins manage them; the secret is shown once", async () => {
    const user = await register();
    const refused = await call("POST", "/admin/webhooks/", {
      token: user.access_token,
      body: { url: `${RECEIVER}/hooks/x/ok`, event_types: ["user.created"] },
    });
    expectError(refused, 403, "forbidden");
    expect(
      await db()
        .select()
        .from(webhookEndpoints)
        .where(eq(webhookEndpoints.url, `${RECEIVER}/hooks/x/ok`)),
    ).toEqual([]);

    const token = await admin();
    const created = await endpoint(token);
    expect(created.secret).toMatch(/^whsec_[A-Za-z0-9+/]{43}=$/);
    const read = await call<Envelope<Endpoint>>("GET", `/admin/webhooks/${created.id}/`, { token });
    expect(read.status).toBe(200);
    expect(read.text).not.toContain(created.secret as string);
    expect(read.body.data).not.toHaveProperty("secret");
    const listed = await call<Envelope<Endpoint[]>>("GET", "/admin/webhooks/", { token });
    expect(listed.text).not.toContain("whsec_");
    expect(listed.body.data.map((e) => e.id)).toContain(created.id);
  });

  it("refuses unknown event types and bad URLs with 400, writing nothing", async () => {
    const token = await admin();
    const before = (await db().select().from(webhookEndpoints)).length;
    for (const body of [
      { url: `${RECEIVER}/hooks/x/ok`, event_types: ["user.nope"] },
      { url: `${RECEIVER}/hooks/x/ok`, event_types: [] },
      { url: "not a url", event_types: ["user.created"] },
      { url: "ftp://example.com/hook", event_types: ["user.created"] },
      { url: "https://user:pw@example.com/hook", event_types: ["user.created"] },
    ]) {
      expectError(
        await call("POST", "/admin/webhooks/", { token, body }),
        400,
        "validation_failed",
      );
    }
    expect((await db().select().from(webhookEndpoints)).length).toBe(before);
  });

  it("in production, only https to public hosts", () => {
    const production = { environment: "production" as const };
    for (const url of [
      "http://hooks.example.com/x",
      "https://127.0.0.1/x",
      "https://10.1.2.3/x",
      "https://[::1]/x",
      "https://[::ffff:192.168.1.1]/x",
      "https://169.254.169.254/latest/meta-data",
      "https://localhost/x",
      "https://metadata.internal/x",
      "https://intranet/x",
    ]) {
      expect(webhookUrlProblem(production, url), url).not.toBeNull();
    }
    expect(webhookUrlProblem(production, "https://hooks.example.com/x")).toBeNull();
    expect(webhookUrlProblem(production, "https://203.0.113.9/x")).not.toBeNull(); // documentation range
    expect(webhookUrlProblem(production, "https://8.8.8.8/x")).toBeNull();
    expect(webhookUrlProblem({ environment: "local" }, `${RECEIVER}/x`)).toBeNull();
  });

  it("changes are audited", async () => {
    const user = await register();
    await makeAdmin(user);
    const created = await endpoint(user.access_token);
    await call("PATCH", `/admin/webhooks/${created.id}/`, {
      token: user.access_token,
      body: { description: "payments" },
    });
    const actions = (await auditFor(user.id)).map((a) => a.action);
    expect(actions).toEqual(expect.arrayContaining(["webhook_created", "webhook_updated"]));
  });
});
