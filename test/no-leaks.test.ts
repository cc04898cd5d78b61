/**
 * No response ever carries a password, a hash, or a refresh token other than the one it issues.
 */
import { describe, expect, it } from "vitest";
import { type ApiResponse, call, type Envelope } from "./helpers/api";
import { PASSWORD, type TokenPair, uniqueEmail, userRow } from "./helpers/users";

const NEW_PASSWORD = "indigo-Lantern-77";

describe("responses never leak secrets", () => {
  it("across a whole account journey", async () => {
    const issued: string[] = [];
    const responses: ApiResponse[] = [];
    const track = <T>(res: ApiResponse<T>) => {
      responses.push(res as ApiResponse);
      const data = (res.body as Envelope<Partial<TokenPair>>).data;
      const own = data && typeof data === "object" ? data.refresh_token : undefined;
      // Only the token this response issues may appear in it — never an earlier one.
      for (const token of issued)
        expect(res.text.includes(token), `earlier refresh token in ${res.text}`).toBe(false);
      if (own) issued.push(own);
      return res;
    };

    const email = uniqueEmail("journey");
    const registered = track(
      await call<Envelope<TokenPair>>("POST", "/users/", {
        body: { email, password: PASSWORD, password2: PASSWORD, name: "Journey" },
      }),
    );
    const first = registered.body.data;
    const second = track(
      await call<Envelope<TokenPair>>("POST", "/auth/login/", {
        body: { email, password: PASSWORD },
      }),
    ).body.data;
    track(await call("POST", "/auth/login/", { body: { email, password: "wrong-password-1" } }));
    track(
      await call("POST", "/auth/login/", { body: { email: uniqueEmail(), password: PASSWORD } }),
    );
    const rotated = track(
      await call<Envelope<TokenPair>>("POST", "/auth/refresh/", {
        body: { refresh_token: first.refresh_token },
      }),
    ).body.data;
    track(await call("POST", "/auth/refresh/", { body: { refresh_token: "not-a-token" } }));
    track(await call("GET", "/users/profile/", { token: rotated.access_token }));
    track(
      await call("PATCH", "/users/me/", {
        token: rotated.access_token,
        body: { name: "Renamed", email: uniqueEmail(), current_password: "wrong-password-2" },
      }),
    );
    track(
      await call("PUT", "/users/me/", {
        token: rotated.access_token,
        body: { email, name: "Put" },
      }),
    );
    track(
      await call("POST", "/users/", {
        body: { email, password: NEW_PASSWORD, password_confirm: NEW_PASSWORD },
      }),
    );
    track(await call("POST", "/users/", { body: { email: uniqueEmail(), password: "Zq9!x" } }));
    track(await call("POST", "/auth/logout/", { token: second.access_token }));
    track(await call("DELETE", "/users/me/", { token: rotated.access_token }));

    const row = await userRow(first.user.id);
    const hash = row?.passwordHash ?? "";
    expect(hash).not.toBe("");
    for (const res of responses) {
      for (const secret of [
        PASSWORD,
        NEW_PASSWORD,
        "wrong-password-1",
        "wrong-password-2",
        "Zq9!x",
        hash,
      ]) {
        expect(res.text.includes(secret), `${secret} in ${res.text}`).toBe(false);
      }
      expect(res.text).not.toMatch(/argon2|pbkdf2|password_hash|token_hash|passwordHash/i);
    }
    expect(issued).toHaveLength(3);
  });
});
