/**
 * Workers RPC: another Worker calls `UserService` through a service binding (test/rpc-caller).
 */
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { call } from "./helpers/api";
import { enrolTotp } from "./helpers/totp";
import { register } from "./helpers/users";

async function rpc<T>(method: string, ...args: unknown[]): Promise<T> {
  const res = await env.RPC_CALLER.fetch("http://rpc-caller/", {
    method: "POST",
    body: JSON.stringify({ method, args }),
  });
  const body = (await res.json()) as { ok: boolean; result: T; error?: string };
  if (!body.ok) throw new Error(body.error);
  return body.result;
}

describe("UserService over a service binding", () => {
  it("getUser returns the user object, null for unknown or malformed ids", async () => {
    const user = await register({ name: "Rpc User" });
    expect(await rpc("getUser", user.id)).toEqual(user.user);
    expect(await rpc("getUser", crypto.randomUUID())).toBeNull();
    expect(await rpc("getUser", "not-a-uuid")).toBeNull();
  });

  it("getUserByEmail finds the user whatever the case", async () => {
    const user = await register();
    expect(await rpc("getUserByEmail", user.email.toUpperCase())).toMatchObject({ id: user.id });
    expect(await rpc("getUserByEmail", "nobody@example.com")).toBeNull();
  });

  it("validateToken reports a second factor's aal2 and amr", async () => {
    const user = await register();
    const { aal2Token } = await enrolTotp(user);
    expect(await rpc("validateToken", aal2Token)).toMatchObject({
      valid: true,
      aal: "aal2",
      amr: ["pwd", "otp"],
    });
  });

  it("validateToken accepts a live token and refuses it once its session is revoked", async () => {
    const user = await register();
    expect(await rpc("validateToken", user.access_token)).toMatchObject({
      valid: true,
      user_id: user.id,
      email: user.email,
      role: "user",
      // How the session was authenticated (README: Second factors): a password alone.
      aal: "aal1",
      amr: ["pwd"],
      auth_time: expect.any(String),
    });
    await call("POST", "/auth/logout/", { token: user.access_token });
    expect(await rpc("validateToken", user.access_token)).toEqual({
      valid: false,
      reason: "revoked",
    });
    expect(await rpc("validateToken", "garbage")).toEqual({ valid: false, reason: "invalid" });
  });

  it("getNotificationTargets returns preferences and active devices with their tokens", async () => {
    const user = await register({ preferences: { push_marketing: true } });
    await call("POST", "/users/push-tokens/", {
      token: user.access_token,
      body: { token: "rpc-device-token", platform: "android", device_id: "pixel" },
    });
    const targets = await rpc<{
      preferences: Record<string, unknown>;
      push_devices: { token: string }[];
    }>("getNotificationTargets", user.id);
    expect(targets.preferences).toMatchObject({ push: true, push_marketing: true });
    expect(targets.push_devices.map((d) => d.token)).toEqual(["rpc-device-token"]);
    expect(await rpc("getNotificationTargets", crypto.randomUUID())).toBeNull();
  });
});
