/**
 * The benchmarks' I/O twins (bench/endpoints.ts, bench/cpu.ts) make exactly the round trips of the
 * routes they stand for, at the same levels, and nothing else: GET /_dev/io for the hot reads,
 * POST /_dev/login-io for login (the lookup beside the counts, then the batch beside the
 * account's settling, around one hash).
 */
import { describe, expect, it } from "vitest";
import { request } from "./helpers/api";
import { type Trace, tracedRequest } from "./helpers/round-trips";
import { PASSWORD, register } from "./helpers/users";

const json = { "CF-Connecting-IP": "192.0.2.79" };

describe("the benchmarks' I/O twins (rate limits on)", () => {
  // The benchmark's I/O twins (bench/endpoints.ts) must make exactly their read's round trips.
  it("the I/O twins GET /_dev/io make the round trips of the reads they stand for", async () => {
    const user = await register();
    const bearer = { ...json, Authorization: `Bearer ${user.access_token}` };
    const twins = [
      ["/users/me/", "/_dev/io?kv=1&d1=1"],
      ["/users/preferences/", "/_dev/io?kv=2&hits=1"],
    ] as const;
    for (const [path, twin] of twins) {
      await tracedRequest(request("GET", path, { headers: bearer })); // fills the preferences cache
      const read = await tracedRequest(request("GET", path, { headers: bearer }));
      await tracedRequest(new Request(`http://localhost${twin}`, { headers: json })); // writes its hit
      const io = await tracedRequest(new Request(`http://localhost${twin}`, { headers: json }));
      expect(read.status, path).toBe(200);
      expect(io.status, twin).toBe(204);
      expect(io.summary, `${twin}\n${io.trace.list().join("\n")}`).toEqual(read.summary);
    }
  });

  // Login's twin (bench/endpoints.ts, bench/cpu.ts) must make exactly login's round trips, at the
  // same levels: the lookup beside the counts, then the batch beside the account's settling.
  it("the login twin POST /_dev/login-io makes login's round trips", async () => {
    const user = await register();
    const body = { email: user.email, password: PASSWORD };
    const login = await tracedRequest(request("POST", "/auth/login/", { body, headers: json }));
    const twin = await tracedRequest(
      request("POST", "http://localhost/_dev/login-io", { body, headers: json }),
    );
    expect(login.status).toBe(200);
    expect(twin.status).toBe(204);
    expect(twin.summary, twin.trace.list().join("\n")).toEqual(login.summary);
    const levels = (t: Trace) => t.calls.map((c) => `${c.level} ${c.kind}`).sort();
    expect(levels(twin.trace)).toEqual(levels(login.trace));
  });
});
