/**
 * `npm run admin` end to end, as an operator runs it: the real CLI, in Node, against the locally
 * served Worker (`wrangler dev`, local D1/KV/Queues/Durable Objects) with `dev-service` in
 * ADMIN_SERVICES. The first admin is made with that service key through the CLI itself; then it
 * signs in as that admin (password, and a second factor) and finds, shows, deactivates and
 * reactivates users, changes roles, ends sessions and re-drives a real dead letter.
 *
 * Run by `npm run test:admin-cli`, with Node's test runner.
 */
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { randomUUID } from "node:crypto";
import { rmSync } from "node:fs";
import { after, before, describe, it } from "node:test";
import { Secret, TOTP } from "otpauth";
import { type LocalServer, startServer, waitFor } from "../../bench/local-server.ts";
import { buildWasm } from "../../src/auth/wasm/build.ts";

const PORT = Number(process.env.E2E_PORT ?? 8798);
const STATE = ".wrangler/e2e-admin-cli-state";
const SERVICE_KEY = ["--service-key", "dev-service-key"];
const SERVICE_HEADER = { "X-Service-Key": "dev-service-key" };
const PASSWORD = "copper-Lantern-58-harbour";

let server: LocalServer | undefined;
const base = () => server?.base ?? "";

interface Person {
  email: string;
  id: string;
  ip: string;
}
const people: Record<"admin" | "alice" | "bob" | "carol", Person> = {
  admin: { email: "root.admin@example.com", id: "", ip: "203.0.113.10" },
  alice: { email: "alice.adler@example.com", id: "", ip: "203.0.113.11" },
  bob: { email: "bob.brandt@example.com", id: "", ip: "203.0.113.12" },
  carol: { email: "carol.chen@example.com", id: "", ip: "203.0.113.13" },
};

/** Runs the CLI with only the environment given here (none of the caller's USER_SERVICE_*). */
function cli(args: string[], env: Record<string, string> = {}, url = true) {
  const inherited = Object.fromEntries(
    Object.entries(process.env).filter(([name]) => !name.startsWith("USER_SERVICE_")),
  );
  const run = spawnSync(
    process.execPath,
    ["scripts/admin.ts", ...(url ? ["--url", base()] : []), ...args],
    { encoding: "utf8", timeout: 60_000, env: { ...inherited, ...env } },
  );
  return { code: run.status, stdout: run.stdout, stderr: run.stderr, all: run.stdout + run.stderr };
}

/** The root admin's access token (the test's own sign-in): most runs use it, see withPassword. */
let adminToken = "";
const asAdmin = (args: string[]) => cli(["--token", adminToken, ...args]);
/**
 * As the root admin, signing in with the password. Used for a few runs only: the CLI's sign-ins
 * all come from one network, and `login-ip` allows 30 in 5 minutes, as deployed.
 */
const withPassword = (args: string[]) =>
  cli(["--email", people.admin.email, "--password", PASSWORD, ...args]);

async function api(method: string, path: string, init: { body?: unknown; headers?: object } = {}) {
  const res = await fetch(`${base()}${path.startsWith("/_dev") ? "" : "/api/v1"}${path}`, {
    method,
    headers: { "Content-Type": "application/json", ...init.headers },
    body: init.body === undefined ? undefined : JSON.stringify(init.body),
  });
  return { status: res.status, body: (await res.json()) as { data: Record<string, unknown> } };
}

/** A password login from the person's own network: its status and access token. */
async function signIn(who: Person) {
  const res = await api("POST", "/auth/login/", {
    body: { email: who.email, password: PASSWORD },
    headers: { "CF-Connecting-IP": who.ip },
  });
  return { status: res.status, token: String(res.body.data?.access_token ?? "") };
}

async function login(who: Person): Promise<string> {
  const { status, token } = await signIn(who);
  assert.equal(status, 200, `${who.email} signs in`);
  return token;
}

const bearer = (token: string) => ({ Authorization: `Bearer ${token}` });

/** Exit code 1 and the service's error code first on stderr. */
function refused(run: ReturnType<typeof cli>, error: string) {
  assert.equal(run.code, 1, run.all);
  assert.match(run.stderr, new RegExp(`^error: ${error}: `));
}

before(async () => {
  buildWasm();
  server = await startServer(PORT, STATE, {
    ADMIN_SERVICES: "dev-service",
    SERVICE_KEYS: "dev-service:dev-service-key,other:other-service-key",
  });
  // Registration is limited per network: each person registers from their own.
  for (const who of Object.values(people)) {
    const res = await api("POST", "/users/", {
      body: { email: who.email, password: PASSWORD },
      headers: { "CF-Connecting-IP": who.ip },
    });
    assert.equal(res.status, 201, JSON.stringify(res.body));
    who.id = String((res.body.data.user as { id: string }).id);
  }
});

after(async () => {
  await server?.stop();
  rmSync(STATE, { recursive: true, force: true });
});

describe("the first admin", () => {
  it("is made with a service key from ADMIN_SERVICES, and another key changes nothing", async () => {
    const other = ["--service-key", "other-service-key"];
    refused(cli([...other, "users", "role", people.bob.email, "admin"]), "\\w+");

    const run = cli([...SERVICE_KEY, "users", "role", people.admin.email, "admin"]);
    assert.equal(run.code, 0, run.all);
    assert.match(
      run.stdout,
      new RegExp(`${people.admin.email} \\(${people.admin.id}\\) is active, role admin`),
    );
    const shown = JSON.parse(
      cli([...SERVICE_KEY, "users", "show", people.bob.email, "--json"]).stdout,
    );
    assert.equal(shown.role, "user", "the refused key promoted nobody");
    adminToken = await login(people.admin);
  });
});

describe("finding users", () => {
  it("lists everyone in a table, and --json parses with the page's meta", () => {
    const table = withPassword(["users", "list"]);
    assert.equal(table.code, 0, table.all);
    const [header, ...rows] = table.stdout.trim().split("\n");
    assert.match(
      header ?? "",
      /^ID\s+EMAIL\s+NAME\s+ROLE\s+ACTIVE\s+VERIFIED\s+CREATED\s+LAST LOGIN$/,
    );
    for (const who of Object.values(people)) {
      assert.ok(
        rows.some((r) => r.startsWith(who.id) && r.includes(who.email)),
        who.email,
      );
    }
    assert.match(table.stdout, /4 users, page 1 of 1\n$/);

    const json = JSON.parse(asAdmin(["users", "list", "--limit", "2", "--json"]).stdout);
    assert.equal(json.data.length, 2);
    assert.deepEqual([json.meta.total, json.meta.total_pages, json.meta.has_next], [4, 2, true]);
    assert.match(asAdmin(["users", "list", "--limit", "2"]).stdout, /--page 2 for more/);
  });

  it("searches email, username and name", () => {
    const run = asAdmin(["users", "search", "alice.ad"]);
    assert.equal(run.code, 0, run.all);
    assert.ok(run.stdout.includes(people.alice.email));
    assert.ok(!run.stdout.includes(people.bob.email));
    assert.equal(asAdmin(["users", "search", "nobody-at-all"]).stdout.trim(), "No users.");
  });

  it("shows one user, by email and by id alike", () => {
    const byEmail = asAdmin(["users", "show", people.alice.email.toUpperCase()]);
    assert.equal(byEmail.code, 0, byEmail.all);
    assert.match(byEmail.stdout, new RegExp(`^id\\s+${people.alice.id}$`, "m"));
    assert.match(byEmail.stdout, /^preferences\.email\s+true$/m);
    const byId = JSON.parse(asAdmin(["users", "show", people.alice.id, "--json"]).stdout);
    assert.equal(byId.email, people.alice.email);
    refused(asAdmin(["users", "show", "nobody@example.com"]), "not_found");
  });
});

describe("changing users", () => {
  it("deactivates (sign-in and tokens refused) and reactivates", async () => {
    const token = await login(people.alice);
    const off = asAdmin(["users", "deactivate", people.alice.email]);
    assert.equal(off.code, 0, off.all);
    assert.match(off.stdout, /is inactive/);
    assert.equal((await signIn(people.alice)).status, 401);
    assert.equal((await api("GET", "/users/me/", { headers: bearer(token) })).status, 401);
    assert.ok(asAdmin(["users", "list", "--inactive"]).stdout.includes(people.alice.email));
    assert.ok(!asAdmin(["users", "list", "--active"]).stdout.includes(people.alice.email));

    const on = asAdmin(["users", "reactivate", people.alice.id]);
    assert.equal(on.code, 0, on.all);
    assert.match(on.stdout, /is active/);
    assert.equal((await signIn(people.alice)).status, 200);
  });

  it("changes roles, but never the admin's own", () => {
    const up = JSON.parse(asAdmin(["users", "role", people.bob.email, "admin", "--json"]).stdout);
    assert.equal(up.role, "admin");
    const down = asAdmin(["users", "role", people.bob.email, "user"]);
    assert.match(down.stdout, /role user\.$/m);
    refused(withPassword(["users", "role", people.admin.email, "user"]), "forbidden");
  });

  it("lists a user's sessions and ends them all with --end", async () => {
    // Registration signed bob in too: start from none.
    assert.match(
      asAdmin(["users", "sessions", people.bob.email, "--end"]).stdout,
      /^Ended \d+ sessions? of/,
    );
    const tokens = [await login(people.bob), await login(people.bob)];
    const table = asAdmin(["users", "sessions", people.bob.email]);
    assert.equal(table.code, 0, table.all);
    assert.match(table.stdout, /^ID\s+CREATED\s+LAST USED\s+EXPIRES\s+IP\s+USER AGENT$/m);
    assert.match(table.stdout, /2 active sessions, page 1 of 1/);
    assert.ok(table.stdout.includes(people.bob.ip));

    const end = withPassword(["users", "sessions", people.bob.email, "--end"]);
    assert.equal(end.stdout.trim(), `Ended 2 sessions of ${people.bob.email}.`);
    for (const token of tokens) {
      assert.equal((await api("GET", "/users/me/", { headers: bearer(token) })).status, 401);
    }
    assert.equal(
      asAdmin(["users", "sessions", people.bob.id]).stdout.trim(),
      "No active sessions.",
    );
  });

  it("leaves no session behind when it signed in with a password", async () => {
    const sessions = () =>
      JSON.parse(cli([...SERVICE_KEY, "users", "sessions", people.admin.id, "--json"]).stdout);
    assert.equal(cli([...SERVICE_KEY, "users", "sessions", people.admin.id, "--end"]).code, 0);
    assert.equal(withPassword(["users", "devices", people.bob.email]).stdout.trim(), "No devices.");
    assert.equal(sessions().meta.total, 0, "the CLI's sign-in was ended with the command");
    adminToken = await login(people.admin);
    assert.equal(sessions().meta.total, 1);
  });

  it("reads its URL and token from USER_SERVICE_URL and USER_SERVICE_TOKEN", () => {
    const env = { USER_SERVICE_URL: base(), USER_SERVICE_TOKEN: adminToken };
    const audit = cli(["users", "audit", people.alice.email], env, false);
    assert.equal(audit.code, 0, audit.all);
    assert.match(audit.stdout, /^WHEN\s+ACTION/);
    assert.match(audit.stdout, /account_deactivated/);
    assert.match(audit.stdout, /account_reactivated/);
  });
});

describe("an admin with an authenticator app", () => {
  it("signs in with a code or a recovery code; reset-mfa removes the factor", async () => {
    assert.equal(cli([...SERVICE_KEY, "users", "role", people.carol.email, "admin"]).code, 0);
    const token = await login(people.carol);
    const enrol = await api("POST", "/auth/mfa/totp/", { headers: bearer(token) });
    const { factor_id, secret } = enrol.body.data as { factor_id: string; secret: string };
    const totp = new TOTP({ secret: Secret.fromBase32(secret) });
    const verified = await api("POST", "/auth/mfa/totp/verify/", {
      headers: bearer(token),
      body: { factor_id, code: totp.generate() },
    });
    assert.equal(verified.status, 200, JSON.stringify(verified.body));
    const [recovery] = verified.body.data.recovery_codes as string[];

    const asCarol = ["--email", people.carol.email, "--password", PASSWORD];
    const missing = cli([...asCarol, "users", "show", people.alice.email]);
    assert.equal(missing.code, 2, missing.all);
    assert.match(missing.stderr, /give --code or --recovery-code/);
    // The verification used this period's code, and each is accepted once: the next one's.
    const code = totp.generate({ timestamp: Date.now() + 30_000 });
    assert.equal(cli([...asCarol, "--code", code, "users", "show", people.alice.email]).code, 0);
    const withRecovery = cli([...asCarol, "--recovery-code", String(recovery), "users", "list"]);
    assert.equal(withRecovery.code, 0, withRecovery.all);

    const reset = withPassword(["users", "reset-mfa", people.carol.email]);
    assert.match(reset.stdout, /Removed every second factor of carol/);
    assert.equal(cli([...asCarol, "users", "list"]).code, 0, "a password alone is enough again");
  });
});

describe("dead letters", () => {
  it("lists a push request that failed for good and re-drives it once", async () => {
    assert.equal(
      asAdmin(["dead-letters", "list", "--state", "redriven"]).stdout.trim(),
      "No dead letters.",
    );
    const notification = `n-${randomUUID().slice(0, 8)}`;
    // For nobody: the request fails at once and its copy goes to the dead-letter queue.
    const sent = await api("POST", "/_dev/push-requests", {
      body: { notification_id: notification, user_id: randomUUID(), template_code: "welcome" },
    });
    assert.equal(sent.status, 202);
    let letters: { id: string; notification_id: string }[] = [];
    await waitFor(
      "the dead letter",
      async () => {
        const res = await api("GET", "/admin/dead-letters/", { headers: SERVICE_HEADER });
        letters = res.body.data as unknown as typeof letters;
        return letters.some((l) => l.notification_id === notification);
      },
      60_000,
    );
    const letter = letters.find((l) => l.notification_id === notification);
    assert.ok(letter);
    const table = asAdmin(["dead-letters", "list", "--state", "pending"]);
    assert.match(table.stdout, /^ID\s+FAILED\s+NOTIFICATION\s+USER\s+REASON\s+STATE$/m);
    assert.match(table.stdout, new RegExp(`${letter.id}.*${notification}.*unknown user.*pending`));

    const redrive = withPassword(["dead-letters", "redrive", letter.id]);
    assert.equal(redrive.code, 0, redrive.all);
    assert.match(redrive.stdout, /queued again/);
    refused(asAdmin(["dead-letters", "redrive", letter.id]), "conflict");
    refused(asAdmin(["dead-letters", "redrive", "no-such-letter"]), "not_found");
  });
});

describe("refusals", () => {
  it("exits 1 with the service's error for a wrong token or a non-admin", async () => {
    const wrong = cli(["--token", "not.a.token", "users", "list"]);
    refused(wrong, "invalid_token");
    assert.equal(wrong.stdout, "", "nothing listed");
    refused(cli(["--token", await login(people.alice), "users", "list"]), "forbidden");
  });

  it("exits 2 with the usage for bad usage, and 0 with it for --help", () => {
    for (const args of [
      ["users"],
      ["users", "promote", "x"],
      ["users", "role", "a@b.c", "root"],
      ["users", "list", "--end"],
      [],
    ]) {
      const run = cli([...SERVICE_KEY, ...args]);
      assert.equal(run.code, 2, `${args.join(" ")}: ${run.all}`);
      assert.match(run.stderr, /^error: .+\n\nUsage: npm run admin --/);
    }
    const none = cli(["users", "list"]);
    assert.equal(none.code, 2);
    assert.match(none.stderr, /no credentials/);
    const help = cli(["dead-letters", "--help"]);
    assert.equal(help.code, 0);
    assert.match(help.stdout, /^Usage: npm run admin -- dead-letters[\s\S]*Examples:/);
  });
});
