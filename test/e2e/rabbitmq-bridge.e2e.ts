/**
 * The RabbitMQ bridge (bridge/) end to end: a real RabbitMQ (rabbitmq-server with a node name,
 * ports and state of its own, under a temporary directory), the locally served Worker
 * (`wrangler dev`, local D1/KV/Queues), and the bridge as an operator runs it, one child process
 * per scenario. Messages are published the way the notification platform's API gateway publishes
 * them, and read the way the payment service reads `user.created`.
 *
 * Run by `npm run test:bridge`, with Node's test runner. Needs rabbitmq-server (Debian:
 * `apt-get install rabbitmq-server`).
 */
import assert from "node:assert/strict";
import { type ChildProcess, execFile, spawn, spawnSync } from "node:child_process";
import { pbkdf2Sync, randomBytes, randomInt, randomUUID } from "node:crypto";
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  openSync,
  readFileSync,
  realpathSync,
  rmSync,
  writeFileSync,
} from "node:fs";
import { createServer, type Server } from "node:http";
import { type AddressInfo, createServer as createTcpServer } from "node:net";
import { tmpdir } from "node:os";
import { delimiter, dirname, join } from "node:path";
import { createInterface } from "node:readline";
import { after, before, describe, it } from "node:test";
import { promisify } from "node:util";
import amqp, { type ChannelModel, type ConfirmChannel, type GetMessage } from "amqplib";
import { Webhook } from "standardwebhooks";
import { type LocalServer, startServer, waitFor } from "../../bench/local-server.ts";

const NODE = "node_modules/.bin/node";
const SERVICE_KEY = "dev-service-key";
const PASSWORD = "violet-Harbor-42";
const run = promisify(execFile);

// The notification platform's topology, as its API gateway declares it.
const DIRECT = "notifications.direct";
const DLX = "notifications.dlx";
const PUSH_QUEUE = "push.queue";
const FAILED_QUEUE = "failed.queue";
const PUSH_QUEUE_ARGS = {
  "x-dead-letter-exchange": DLX,
  "x-dead-letter-routing-key": "failed",
  "x-max-priority": 10,
};
/** What this test binds to the DLX to watch dead letters arrive. */
const DEAD_WATCH = "bridge-e2e-dead-letters";

async function freePort(): Promise<number> {
  const probe = createTcpServer();
  await new Promise<void>((resolve) => probe.listen(0, "127.0.0.1", resolve));
  const { port } = probe.address() as AddressInfo;
  await new Promise((resolve) => probe.close(resolve));
  return port;
}

function onPath(name: string): string | null {
  for (const dir of (process.env.PATH ?? "").split(delimiter)) {
    if (dir && existsSync(join(dir, name))) return join(dir, name);
  }
  return null;
}

// ---------------------------------------------------------------------------------------------
// A RabbitMQ of the test's own.

interface Rabbit {
  url: string;
  /** `rabbitmqctl -q <args>` against this node. */
  ctl: (...args: string[]) => Promise<string>;
  stop: () => Promise<void>;
}

/**
 * The rabbitmq-server and rabbitmqctl scripts to run. Debian's /usr/sbin ones are a wrapper that
 * switches to the rabbitmq user and /var/lib/rabbitmq; the scripts next to it run as the caller,
 * with the state the environment names.
 */
function rabbitScripts(): { server: string; ctl: string; epmd: string } {
  const found = onPath("rabbitmq-server") ?? "/usr/lib/rabbitmq/bin/rabbitmq-server";
  const dir = existsSync(found) ? dirname(realpathSync(found)) : "";
  const server = join(dir, "rabbitmq-server");
  const ctl = join(dir, "rabbitmqctl");
  const epmd = onPath("epmd") ?? "/usr/lib/erlang/bin/epmd";
  if (!dir || !existsSync(server) || !existsSync(ctl) || !existsSync(epmd)) {
    throw new Error(
      "rabbitmq-server is not installed, and this test runs a real RabbitMQ: run .ci/run, or " +
        "`apt-get install rabbitmq-server` (Debian/Ubuntu), then npm run test:bridge again.",
    );
  }
  return { server, ctl, epmd };
}

/** Stops a detached child's whole process group, and waits for the child to exit. */
async function killGroup(child: ChildProcess, signal: NodeJS.Signals = "SIGTERM") {
  if (!child.pid || child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((resolve) => child.once("exit", resolve));
  try {
    process.kill(-child.pid, signal);
  } catch {
    return; // already gone
  }
  await exited;
}

async function startRabbit(dir: string): Promise<Rabbit> {
  const scripts = rabbitScripts();
  const [amqpPort, distPort, epmdPort] = [await freePort(), await freePort(), await freePort()];
  const node = `bridge-e2e-${process.pid}@localhost`;
  for (const sub of ["mnesia", "log", "home"]) mkdirSync(join(dir, sub), { recursive: true });
  writeFileSync(join(dir, "rabbitmq.conf"), "");
  writeFileSync(join(dir, "enabled_plugins"), "[].\n");
  writeFileSync(join(dir, "rabbitmq-env.conf"), "");
  const env = {
    ...process.env,
    RABBITMQ_NODENAME: node,
    RABBITMQ_NODE_IP_ADDRESS: "127.0.0.1",
    RABBITMQ_NODE_PORT: String(amqpPort),
    RABBITMQ_DIST_PORT: String(distPort),
    // Its own epmd, so nothing clashes with (or outlives us in) a system-wide one.
    ERL_EPMD_PORT: String(epmdPort),
    RABBITMQ_MNESIA_BASE: join(dir, "mnesia"),
    RABBITMQ_LOG_BASE: join(dir, "log"),
    RABBITMQ_CONFIG_FILE: join(dir, "rabbitmq.conf"),
    RABBITMQ_ADVANCED_CONFIG_FILE: join(dir, "advanced.config"),
    RABBITMQ_ENABLED_PLUGINS_FILE: join(dir, "enabled_plugins"),
    RABBITMQ_CONF_ENV_FILE: join(dir, "rabbitmq-env.conf"),
    RABBITMQ_PLUGINS_EXPAND_DIR: join(dir, "plugins-expand"),
    // The Erlang cookie is created in $HOME: a fresh one, no root-owned state.
    HOME: join(dir, "home"),
  };
  const out = openSync(join(dir, "server.out"), "w");
  const epmd = spawn(scripts.epmd, ["-port", String(epmdPort), "-address", "127.0.0.1"], {
    env,
    stdio: ["ignore", out, out],
    detached: true,
  });
  const server = spawn(scripts.server, [], { env, stdio: ["ignore", out, out], detached: true });
  const kill = () => {
    for (const child of [server, epmd]) {
      try {
        if (child.pid && child.exitCode === null) process.kill(-child.pid, "SIGKILL");
      } catch {
        // already gone
      }
    }
  };
  process.on("exit", kill);
  const exited = new Promise((resolve) => server.once("exit", resolve));

  const url = `amqp://guest:guest@127.0.0.1:${amqpPort}`;
  await waitFor(
    "RabbitMQ to accept AMQP connections",
    async () => {
      if (server.exitCode !== null) {
        const output = readFileSync(join(dir, "server.out"), "utf8").slice(-4000);
        throw new Error(`rabbitmq-server exited (${server.exitCode}):\n${output}`);
      }
      try {
        await (await amqp.connect(url)).close();
        return true;
      } catch {
        return false;
      }
    },
    90_000,
  ).catch(async (err) => {
    await killGroup(server, "SIGKILL");
    await killGroup(epmd);
    throw err;
  });
  const ctl = async (...args: string[]) =>
    (await run(scripts.ctl, ["-q", "-n", node, ...args], { env, timeout: 30_000 })).stdout;
  return {
    url,
    ctl,
    stop: async () => {
      await ctl("stop").catch(() => killGroup(server, "SIGKILL"));
      await Promise.race([exited, new Promise((resolve) => setTimeout(resolve, 15_000))]);
      await killGroup(server, "SIGKILL");
      await killGroup(epmd);
      process.off("exit", kill);
    },
  };
}

// ---------------------------------------------------------------------------------------------
// The bridge, as a child process.

type LogLine = { level: string; msg: string } & Record<string, unknown>;

interface Bridge {
  logs: LogLine[];
  /** Everything it wrote, for failure messages. */
  output: () => string;
  /** Resolves with the first log line matching, or fails after `timeoutMs`. */
  waitForLog: (
    msg: string,
    match?: (line: LogLine) => boolean,
    timeoutMs?: number,
  ) => Promise<LogLine>;
  /** SIGTERM, then the exit code. */
  stop: () => Promise<number | null>;
}

const bridges = new Set<ChildProcess>();
process.on("exit", () => {
  for (const child of bridges) child.kill("SIGKILL");
});

function startBridge(args: string[]): Bridge {
  const child = spawn(NODE, ["bridge/bridge.ts", ...args], { stdio: ["ignore", "pipe", "pipe"] });
  bridges.add(child);
  const logs: LogLine[] = [];
  let stderr = "";
  child.stderr?.on("data", (chunk: Buffer) => {
    stderr += chunk.toString();
  });
  createInterface({ input: child.stdout as NodeJS.ReadableStream }).on("line", (line) => {
    try {
      logs.push(JSON.parse(line) as LogLine);
    } catch {
      logs.push({ level: "raw", msg: line });
    }
  });
  let closed = false;
  // "close", not "exit": by then every line it wrote has been read.
  const exited = new Promise<number | null>((resolve) =>
    child.once("close", (code) => {
      closed = true;
      bridges.delete(child);
      resolve(code);
    }),
  );
  const describeLogs = () => `${logs.map((l) => JSON.stringify(l)).join("\n")}\n${stderr}`;
  return {
    logs,
    output: describeLogs,
    waitForLog: async (msg, match = () => true, timeoutMs = 20_000) => {
      let found: LogLine | undefined;
      try {
        await waitFor(
          `the bridge to log ${msg}`,
          () => {
            found = logs.find((l) => l.msg === msg && match(l));
            if (found) return true;
            if (closed) throw new Error(`the bridge exited (${child.exitCode})`);
            return false;
          },
          timeoutMs,
        );
      } catch (err) {
        throw new Error(`${(err as Error).message}; its output:\n${describeLogs()}`);
      }
      return found as LogLine;
    },
    stop: async () => {
      if (child.exitCode === null && child.pid) process.kill(child.pid, "SIGTERM");
      return exited;
    },
  };
}

/**
 * Runs `body` with a bridge started with `args`, then stops it (SIGTERM) and expects a clean exit;
 * a failure carries what the bridge logged.
 */
async function withBridge(args: string[], body: (bridge: Bridge) => Promise<void>) {
  const bridge = startBridge(args);
  let failure: unknown = null;
  try {
    await body(bridge);
  } catch (err) {
    failure = err;
  }
  const code = await bridge.stop();
  if (failure instanceof Error) {
    failure.message += `\n--- the bridge's output:\n${bridge.output()}`;
  }
  if (failure) throw failure;
  assert.equal(code, 0, bridge.output());
}

// ---------------------------------------------------------------------------------------------
// Shared state, and the service through its public API.

let rabbit: Rabbit;
let server: LocalServer;
let connection: ChannelModel;
let channel: ConfirmChannel;
const work = mkdtempSync(join(tmpdir(), "bridge-e2e-"));

async function api(method: string, path: string, body?: unknown, headers = {}) {
  const res = await fetch(`${server.base}/api/v1${path}`, {
    method,
    headers: { "Content-Type": "application/json", ...headers },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  let parsed: { data?: Record<string, unknown> } = {};
  try {
    parsed = JSON.parse(text);
  } catch {
    // Not JSON: the status and text say what happened.
  }
  return { status: res.status, text, data: (parsed.data ?? {}) as Record<string, unknown> };
}

async function register(fields: Record<string, unknown> = {}) {
  const email = `bridge-${randomUUID()}@example.com`;
  const res = await api("POST", "/users/", { email, password: PASSWORD, name: "Ada", ...fields });
  assert.equal(res.status, 201, res.text);
  const user = res.data.user as { id: string; email: string; username: string | null };
  return { ...user, token: String(res.data.access_token) };
}

/** A user with one active Android device: every valid push request for them becomes a job. */
async function userWithDevice() {
  const user = await register();
  const device = `fcm-${randomUUID()}`;
  const res = await api(
    "POST",
    "/users/push-tokens/",
    { token: device, platform: "android", device_id: "pixel" },
    { Authorization: `Bearer ${user.token}` },
  );
  assert.equal(res.status, 201, res.text);
  return { ...user, device };
}

type Job = {
  notification_id: string;
  device: { token: string };
  original: Record<string, unknown>;
};

async function deliveries(userId: string): Promise<Job[]> {
  const res = await fetch(`${server.base}/_dev/push-deliveries?user_id=${userId}`);
  assert.equal(res.status, 200);
  return ((await res.json()) as { data: Job[] }).data;
}

async function deliveryFor(userId: string, notificationId: string, timeoutMs = 45_000) {
  let job: Job | undefined;
  await waitFor(
    `a delivery job for ${notificationId}`,
    async () => {
      job = (await deliveries(userId)).find((j) => j.notification_id === notificationId);
      return job !== undefined;
    },
    timeoutMs,
  );
  return job as Job;
}

// ---------------------------------------------------------------------------------------------
// RabbitMQ, as the producers and consumers around the service use it.

/** A push request exactly as the API gateway builds it (shared/fixtures/clients/gateway-push.json). */
function gatewayRequest(userId: string, priority = 8) {
  return {
    correlation_id: randomUUID(),
    template_id: "welcome",
    variables: { user_name: "Ada", app_name: "Demo App" },
    priority,
    retry_count: 0,
    created_at: new Date().toISOString(),
    metadata: { app_name: "Demo App", user_id: userId, source: "api_gateway" },
    request_id: randomUUID(),
    type: "push",
  };
}

/** As the gateway publishes: persistent, messageId = request_id, AMQP priority = the body's. */
async function publishAsGateway(
  body: Record<string, unknown> | string,
  messageId: string,
  priority?: number,
) {
  const content = Buffer.from(typeof body === "string" ? body : JSON.stringify(body));
  await new Promise<void>((resolve, reject) =>
    channel.publish(
      DIRECT,
      "push",
      content,
      {
        persistent: true,
        messageId,
        timestamp: Date.now(),
        ...(priority === undefined ? {} : { priority }),
      },
      (err: unknown) => (err ? reject(err) : resolve()),
    ),
  );
}

async function queueDepth(queue: string): Promise<{ ready: number; unacked: number }> {
  const rows = JSON.parse(
    await rabbit.ctl(
      "list_queues",
      "name",
      "messages_ready",
      "messages_unacknowledged",
      "--formatter",
      "json",
    ),
  ) as { name: string; messages_ready: number; messages_unacknowledged: number }[];
  const row = rows.find((r) => r.name === queue);
  assert.ok(row, `queue ${queue} exists`);
  return { ready: row.messages_ready, unacked: row.messages_unacknowledged };
}

/** Takes messages off `queue` (acking them) until `count` matched `match`, or fails. */
async function take(
  queue: string,
  match: (msg: GetMessage) => boolean,
  count = 1,
  timeoutMs = 20_000,
): Promise<GetMessage[]> {
  const matched: GetMessage[] = [];
  await waitFor(
    `${count} message(s) on ${queue}`,
    async () => {
      for (;;) {
        const msg = await channel.get(queue, { noAck: true });
        if (msg === false) break;
        if (match(msg)) matched.push(msg);
      }
      return matched.length >= count;
    },
    timeoutMs,
  );
  return matched;
}

/** Every message on `queue` right now, taken off it. */
async function drain(queue: string): Promise<GetMessage[]> {
  const all: GetMessage[] = [];
  for (;;) {
    const msg = await channel.get(queue, { noAck: true });
    if (msg === false) return all;
    all.push(msg);
  }
}

/** A webhook delivery signed as the service signs them (Standard Webhooks). */
function signed(secret: string, envelope: unknown, at = new Date()) {
  const body = JSON.stringify(envelope);
  const id = `msg_${randomUUID()}`;
  return {
    body,
    headers: {
      "Content-Type": "application/json",
      "webhook-id": id,
      "webhook-timestamp": String(Math.floor(at.getTime() / 1000)),
      "webhook-signature": new Webhook(secret).sign(id, at, body),
    },
  };
}

const newSecret = () => `whsec_${randomBytes(32).toString("base64")}`;

function envelope(type: string, data: Record<string, unknown>) {
  return {
    id: randomUUID(),
    type,
    version: 1,
    occurred_at: new Date().toISOString(),
    correlation_id: randomUUID(),
    data,
  };
}

// ---------------------------------------------------------------------------------------------

before(async () => {
  rabbitScripts(); // fails at once, with what to install, when RabbitMQ is missing
  const [broker, worker] = await Promise.allSettled([
    startRabbit(join(work, "rabbitmq")),
    startServer(Number(process.env.E2E_PORT ?? 8796), ".wrangler/e2e-bridge-state", {
      RATE_LIMIT_REGISTER_IP: "off",
    }),
  ]);
  if (broker.status === "fulfilled") rabbit = broker.value;
  if (worker.status === "fulfilled") server = worker.value;
  if (broker.status === "rejected") throw broker.reason;
  if (worker.status === "rejected") throw worker.reason;
  connection = await amqp.connect(rabbit.url, {
    clientProperties: { connection_name: "bridge-e2e test" },
  });
  channel = await connection.createConfirmChannel();
  // The gateway's declarations, made before any bridge starts: the bridge must match them.
  await channel.assertExchange(DIRECT, "direct", { durable: true });
  await channel.assertExchange(DLX, "direct", { durable: true });
  await channel.assertQueue(PUSH_QUEUE, { durable: true, arguments: PUSH_QUEUE_ARGS });
  await channel.bindQueue(PUSH_QUEUE, DIRECT, "push");
  await channel.assertQueue(FAILED_QUEUE, { durable: true });
  await channel.bindQueue(FAILED_QUEUE, DLX, "failed");
  await channel.assertQueue(DEAD_WATCH, { durable: false });
  await channel.bindQueue(DEAD_WATCH, DLX, "failed");
});

after(async () => {
  for (const child of bridges) {
    const closed = new Promise((resolve) => child.once("close", resolve));
    child.kill("SIGKILL");
    await closed;
  }
  await connection?.close().catch(() => undefined);
  await Promise.all([server?.stop(), rabbit?.stop()]);
  rmSync(work, { recursive: true, force: true });
});

const inArgs = (serviceUrl: string, key = SERVICE_KEY) => [
  "--mode",
  "in",
  "--amqp-url",
  rabbit.url,
  "--service-url",
  serviceUrl,
  "--service-key",
  key,
];

describe("in: push requests from RabbitMQ", () => {
  it("turns a message published as the gateway publishes it into a delivery job, keeping the AMQP priority", async () => {
    const user = await userWithDevice();
    await withBridge(inArgs(server.base), async (bridge) => {
      await bridge.waitForLog("consuming");
      const gateway = gatewayRequest(user.id, 8);
      await publishAsGateway(gateway, gateway.request_id, 8);
      // The Django user service's test publisher, straight to the queue; the priority only as
      // the AMQP property.
      const django = {
        notification_type: "push",
        user_id: user.id,
        template_code: "WELCOME_TEST",
        variables: { name: "User" },
        request_id: randomUUID(),
        metadata: { source: "test-endpoint" },
      };
      await new Promise<void>((resolve, reject) =>
        channel.sendToQueue(
          PUSH_QUEUE,
          Buffer.from(JSON.stringify(django)),
          { persistent: true, priority: 9 },
          (err: unknown) => (err ? reject(err) : resolve()),
        ),
      );

      const job = await deliveryFor(user.id, gateway.request_id);
      assert.equal(job.device.token, user.device);
      assert.deepEqual(job.original, gateway);
      const fromDjango = await deliveryFor(user.id, django.request_id);
      assert.deepEqual(fromDjango.original, { ...django, priority: 9 });

      await bridge.waitForLog("acked", (l) => l.message_id === gateway.request_id);
      await bridge.waitForLog("acked", (l) => l.notification_id === django.request_id);
      assert.deepEqual(await queueDepth(PUSH_QUEUE), { ready: 0, unacked: 0 });
    });
  });

  it("reconnects when RabbitMQ drops its connection, and goes on consuming", async () => {
    const user = await userWithDevice();
    await withBridge(inArgs(server.base), async (bridge) => {
      await bridge.waitForLog("consuming");
      // Table output: its pids are the node's own ("<node.1.2.3>"), which close_connection takes.
      const connections = (
        await rabbit.ctl("list_connections", "--no-table-headers", "pid", "client_properties")
      )
        .split("\n")
        .filter((line) => line.includes("user-service bridge"));
      assert.equal(connections.length, 1, connections.join("\n"));
      const pid = connections[0]?.split("\t")[0] ?? "";
      await rabbit.ctl("close_connection", pid, "e2e: the connection drops");
      await bridge.waitForLog("amqp_connection_lost");
      await waitFor(
        "the bridge to consume again",
        () => bridge.logs.filter((l) => l.msg === "consuming").length === 2,
        20_000,
      );
      const request = gatewayRequest(user.id, 5);
      await publishAsGateway(request, request.request_id, 5);
      await deliveryFor(user.id, request.request_id);
    });
  });
});

describe("in: while the service is down", () => {
  let proxy: Server;
  let proxyUrl: string;
  let up = false;

  before(async () => {
    // Stands between the bridge and the Worker: 503 while "down", the Worker's answer once up.
    proxy = createServer(async (req, res) => {
      const chunks: Buffer[] = [];
      for await (const chunk of req) chunks.push(chunk as Buffer);
      if (!up) {
        res.writeHead(503, { "Content-Type": "application/json" });
        res.end('{"success":false,"message":"down for the test","error":"service_unavailable"}');
        return;
      }
      const answer = await fetch(`${server.base}${req.url}`, {
        method: req.method,
        headers: {
          "Content-Type": String(req.headers["content-type"]),
          "X-Service-Key": String(req.headers["x-service-key"]),
        },
        body: Buffer.concat(chunks),
      });
      res.writeHead(answer.status, { "Content-Type": "application/json" });
      res.end(await answer.text());
    });
    await new Promise<void>((resolve) => proxy.listen(0, "127.0.0.1", resolve));
    proxyUrl = `http://127.0.0.1:${(proxy.address() as AddressInfo).port}`;
  });
  after(() => new Promise<void>((resolve) => proxy.close(() => resolve())));

  it("keeps the message unacked in RabbitMQ, retries with backoff, and delivers it once the service is back", async () => {
    const user = await userWithDevice();
    up = false;
    await withBridge(inArgs(proxyUrl), async (bridge) => {
      await bridge.waitForLog("consuming");
      const request = gatewayRequest(user.id, 7);
      await publishAsGateway(request, request.request_id, 7);
      await bridge.waitForLog("service_unavailable", (l) => l.attempt === 2);
      const [first, second] = bridge.logs.filter((l) => l.msg === "service_unavailable");
      assert.equal(first?.retry_in_ms, 1000);
      assert.equal(second?.retry_in_ms, 2000);
      assert.equal(second?.http_status, 503);
      // Neither lost, nor acked, nor dead-lettered: held by the bridge, unacked.
      assert.deepEqual(await queueDepth(PUSH_QUEUE), { ready: 0, unacked: 1 });
      assert.equal((await channel.checkQueue(DEAD_WATCH)).messageCount, 0);
      assert.equal(
        (await deliveries(user.id)).some((j) => j.notification_id === request.request_id),
        false,
      );

      up = true;
      const job = await deliveryFor(user.id, request.request_id);
      assert.deepEqual(job.original, request);
      const acked = await bridge.waitForLog("acked", (l) => l.message_id === request.request_id);
      assert.ok((acked.attempt as number) >= 3, JSON.stringify(acked));
      assert.deepEqual(await queueDepth(PUSH_QUEUE), { ready: 0, unacked: 0 });
      assert.equal((await channel.checkQueue(DEAD_WATCH)).messageCount, 0);
    });
  });

  it("gives the message back to RabbitMQ when stopped during the outage; the next bridge delivers it", async () => {
    const user = await userWithDevice();
    up = false;
    const request = gatewayRequest(user.id, 3);
    const first = startBridge(inArgs(proxyUrl));
    await first.waitForLog("consuming");
    await publishAsGateway(request, request.request_id, 3);
    await first.waitForLog("service_unavailable", (l) => l.message_id === request.request_id);
    assert.equal(await first.stop(), 0, first.output());
    await first.waitForLog("left_unacked");
    assert.deepEqual(await queueDepth(PUSH_QUEUE), { ready: 1, unacked: 0 });

    up = true;
    await withBridge(inArgs(proxyUrl), async (second) => {
      await deliveryFor(user.id, request.request_id);
      const acked = await second.waitForLog("acked", (l) => l.message_id === request.request_id);
      assert.equal(acked.redelivered, true);
      assert.deepEqual(await queueDepth(PUSH_QUEUE), { ready: 0, unacked: 0 });
    });
  });

  it("does not ack or dead-letter a message while the service refuses the bridge's key", async () => {
    const user = await userWithDevice();
    const request = gatewayRequest(user.id, 6);
    const wrong = startBridge(inArgs(server.base, "not-the-service-key"));
    await wrong.waitForLog("consuming");
    await publishAsGateway(request, request.request_id, 6);
    const refused = await wrong.waitForLog("service_refused_bridge");
    assert.equal(refused.level, "error");
    assert.equal(refused.http_status, 401);
    assert.deepEqual(await queueDepth(PUSH_QUEUE), { ready: 0, unacked: 1 });
    assert.equal(await wrong.stop(), 0, wrong.output());
    assert.deepEqual(await queueDepth(PUSH_QUEUE), { ready: 1, unacked: 0 });
    assert.equal((await channel.checkQueue(DEAD_WATCH)).messageCount, 0);

    await withBridge(inArgs(server.base), async (right) => {
      await deliveryFor(user.id, request.request_id);
      const acked = await right.waitForLog("acked", (l) => l.message_id === request.request_id);
      assert.equal(acked.redelivered, true);
    });
  });
});

describe("in: invalid messages", () => {
  it("dead-letters what the service refuses and what is not JSON, onto notifications.dlx / failed", async () => {
    const user = await userWithDevice();
    await withBridge(inArgs(server.base), async (bridge) => {
      await bridge.waitForLog("consuming");
      // No user and no template: the ingress refuses it.
      const refused = { request_id: randomUUID(), type: "push", variables: {}, priority: 5 };
      await publishAsGateway(refused, refused.request_id, 5);
      const garbledId = randomUUID();
      await publishAsGateway("{not json", garbledId);
      // And a valid one behind them still goes through.
      const valid = gatewayRequest(user.id, 5);
      await publishAsGateway(valid, valid.request_id, 5);

      const ids: string[] = [refused.request_id, garbledId];
      const dead = await take(DEAD_WATCH, (m) => ids.includes(String(m.properties.messageId)), 2);
      const byId = new Map(dead.map((m) => [m.properties.messageId as string, m]));
      const refusedDead = byId.get(refused.request_id);
      const garbledDead = byId.get(garbledId);
      assert.ok(refusedDead && garbledDead, `dead letters: ${[...byId.keys()].join(", ")}`);
      assert.deepEqual(JSON.parse(refusedDead.content.toString()), refused);
      assert.equal(garbledDead.content.toString(), "{not json");
      for (const m of [refusedDead, garbledDead]) {
        assert.equal(m.fields.exchange, DLX);
        assert.equal(m.fields.routingKey, "failed");
        assert.equal(m.properties.headers?.["x-first-death-reason"], "rejected");
        assert.equal(m.properties.headers?.["x-first-death-queue"], PUSH_QUEUE);
      }
      const reasons = bridge.logs.filter((l) => l.msg === "dead_lettered").map((l) => l.reason);
      assert.ok(
        reasons.some((r) => /invalid request/.test(String(r))),
        reasons.join("; "),
      );
      assert.ok(reasons.includes("the body is not JSON"), reasons.join("; "));

      await deliveryFor(user.id, valid.request_id);
      await bridge.waitForLog("acked", (l) => l.message_id === valid.request_id);
      assert.deepEqual(await queueDepth(PUSH_QUEUE), { ready: 0, unacked: 0 });
      // The gateway's own dead-letter queue has them too.
      assert.ok((await drain(FAILED_QUEUE)).length >= 2);
    });
  });
});

/** The Django pbkdf2_sha256 hash of `password`. */
function djangoHash(password: string): string {
  const salt = randomBytes(9).toString("hex");
  const iterations = 260_000;
  const key = pbkdf2Sync(password, salt, iterations, 32, "sha256").toString("base64");
  return `pbkdf2_sha256$${iterations}$${salt}$${key}`;
}

/**
 * An admin's access token. `npm run user:role` writes to the default local D1 only (no
 * --persist-to), so the admin comes the way real ones do from a replaced service: a Django
 * superuser imported with `npm run import:django`, who then signs in.
 */
async function adminToken(): Promise<{ token: string; legacyId: number }> {
  const legacyId = 700_000 + randomInt(90_000);
  const email = `bridge-admin-${legacyId}@example.com`;
  const dump = join(work, "admin.json");
  writeFileSync(
    dump,
    JSON.stringify([
      {
        model: "accounts.user",
        pk: legacyId,
        fields: {
          password: djangoHash(PASSWORD),
          email,
          username: `admin${legacyId}`,
          is_superuser: true,
          is_staff: true,
          is_active: true,
          date_joined: "2024-01-01T00:00:00Z",
        },
      },
    ]),
  );
  const imported = spawnSync(
    NODE,
    [
      "scripts/import-django.ts",
      "--url",
      server.base,
      "--report",
      join(work, "admin-report.json"),
      dump,
    ],
    { encoding: "utf8", timeout: 120_000 },
  );
  assert.equal(imported.status, 0, imported.stderr + imported.stdout);
  const login = await api("POST", "/auth/login/", { email, password: PASSWORD });
  assert.equal(login.status, 200, login.text);
  assert.equal((login.data.user as { role: string }).role, "admin");
  return { token: String(login.data.access_token), legacyId };
}

describe("out: user.created for the payment service", () => {
  it("publishes the exact {user_id, username, email} message on events / user.created", async () => {
    // The payment service's side: its exchange and queue, bound as it binds them.
    await channel.assertExchange("events", "topic", { durable: true });
    await channel.assertQueue("user-created-queue", { durable: true });
    await channel.bindQueue("user-created-queue", "events", "user.created");
    await channel.purgeQueue("user-created-queue");

    const admin = await adminToken();
    const port = await freePort();
    const endpoint = await api(
      "POST",
      "/admin/webhooks/",
      { url: `http://127.0.0.1:${port}/webhooks`, event_types: ["user.created"] },
      { Authorization: `Bearer ${admin.token}` },
    );
    assert.equal(
      endpoint.status,
      201,
      `POST /api/v1/admin/webhooks/ (the webhook admin API this scenario needs): ${endpoint.text}`,
    );
    const secret = String(endpoint.data.secret);
    assert.match(secret, /^whsec_/);

    await withBridge(
      [
        "--mode",
        "out",
        "--amqp-url",
        rabbit.url,
        "--listen",
        `127.0.0.1:${port}`,
        "--webhook-secret",
        secret,
        "--profile",
        "payment",
      ],
      async (bridge) => {
        await bridge.waitForLog("publishing");
        const named = await register({ username: `pay${randomInt(1e9)}` });
        const unnamed = await register();

        const messages = await take(
          "user-created-queue",
          (m) => [named.email, unnamed.email].includes(JSON.parse(m.content.toString()).email),
          2,
          30_000,
        );
        const bodyOf = (email: string) => {
          const msg = messages.find((m) => JSON.parse(m.content.toString()).email === email);
          assert.ok(msg, `a message for ${email}`);
          return { msg, body: JSON.parse(msg.content.toString()) as Record<string, unknown> };
        };

        const first = bodyOf(named.email);
        const userId = first.body.user_id as number;
        assert.ok(Number.isInteger(userId), `user_id is an integer: ${first.msg.content}`);
        assert.deepEqual(first.body, {
          user_id: userId,
          username: named.username,
          email: named.email,
        });
        assert.deepEqual(Object.keys(first.body), ["user_id", "username", "email"]);
        assert.equal(
          first.msg.content.toString(),
          JSON.stringify({ user_id: userId, username: named.username, email: named.email }),
        );
        assert.equal(first.msg.fields.exchange, "events");
        assert.equal(first.msg.fields.routingKey, "user.created");
        assert.equal(first.msg.properties.deliveryMode, 2);
        assert.equal(first.msg.properties.contentType, "application/json");
        assert.match(String(first.msg.properties.messageId), /^[0-9a-f-]{36}$/);

        // A new user's integer id comes after the imported ones, and is the service's own.
        assert.ok(userId > admin.legacyId, `${userId} after the imported ${admin.legacyId}`);
        const lookup = await api("GET", `/users/by-legacy-id/${userId}/`, undefined, {
          "X-Service-Key": SERVICE_KEY,
        });
        assert.equal(lookup.status, 200, lookup.text);
        assert.equal(lookup.data.email, named.email);

        // No username: the email stands in for it.
        const second = bodyOf(unnamed.email);
        assert.deepEqual(second.body, {
          user_id: second.body.user_id,
          username: unnamed.email,
          email: unnamed.email,
        });
        assert.ok(
          Number.isInteger(second.body.user_id) && (second.body.user_id as number) !== userId,
        );
      },
    );
  });
});

describe("out: what the receiver refuses or leaves alone", () => {
  const probe = "bridge-e2e-payment-probe";
  const secret = newSecret();
  let bridge: Bridge;
  let url: string;

  before(async () => {
    await channel.assertExchange("events", "topic", { durable: true });
    await channel.assertQueue(probe, { durable: false });
    await channel.bindQueue(probe, "events", "user.created");
    const port = await freePort();
    url = `http://127.0.0.1:${port}/webhooks`;
    bridge = startBridge([
      "--mode",
      "out",
      "--amqp-url",
      rabbit.url,
      "--listen",
      `127.0.0.1:${port}`,
      "--webhook-secret",
      secret,
    ]);
    await bridge.waitForLog("publishing");
  });
  after(async () => {
    assert.equal(await bridge.stop(), 0, bridge.output());
  });

  const userCreated = (legacyId?: number) =>
    envelope("user.created", {
      user_id: randomUUID(),
      email: `probe-${randomUUID()}@example.com`,
      username: "probe",
      name: "Probe",
      ...(legacyId === undefined ? {} : { legacy_id: legacyId }),
    });
  const post = (delivery: { body: string; headers: Record<string, string> }) =>
    fetch(url, { method: "POST", headers: delivery.headers, body: delivery.body });

  it("answers 401 to a webhook with a bad signature and publishes nothing", async () => {
    await channel.purgeQueue(probe);
    const wrongSecret = signed(newSecret(), userCreated(41));
    assert.equal((await post(wrongSecret)).status, 401);

    const tampered = signed(secret, userCreated(42));
    tampered.body = tampered.body.replace('"legacy_id":42', '"legacy_id":43');
    assert.equal((await post(tampered)).status, 401);

    const stale = signed(secret, userCreated(44), new Date(Date.now() - 10 * 60_000));
    assert.equal((await post(stale)).status, 401);

    const unsigned = signed(secret, userCreated(45));
    const { "webhook-signature": _, ...headers } = unsigned.headers;
    assert.equal((await post({ body: unsigned.body, headers })).status, 401);

    // The control: the same receiver publishes a correctly signed one.
    const good = userCreated(46);
    const res = await post(signed(secret, good));
    assert.equal(res.status, 200, await res.text());
    const [published] = await take(probe, (m) => m.properties.messageId === good.id);
    assert.deepEqual(JSON.parse(String(published?.content)), {
      user_id: 46,
      username: "probe",
      email: good.data.email,
    });
    assert.deepEqual(await drain(probe), [], "nothing but the correctly signed one");
    assert.equal(bridge.logs.filter((l) => l.msg === "signature_invalid").length, 4);
  });

  it("ignores other events (204) and skips user.created without an integer id (202)", async () => {
    await channel.purgeQueue(probe);
    const updated = envelope("user.updated", {
      user_id: randomUUID(),
      legacy_id: 7,
      changed: ["name"],
    });
    assert.equal((await post(signed(secret, updated))).status, 204);
    await bridge.waitForLog("ignored", (l) => l.event_id === updated.id);

    const old = userCreated();
    assert.equal((await post(signed(secret, old))).status, 202);
    await bridge.waitForLog("skipped_no_integer_id", (l) => l.event_id === old.id);

    const control = userCreated(47);
    assert.equal((await post(signed(secret, control))).status, 200);
    await take(probe, (m) => m.properties.messageId === control.id);
    assert.deepEqual(await drain(probe), []);
  });

  it("answers 503 while RabbitMQ is unreachable, so the service retries later", async () => {
    const port = await freePort();
    await withBridge(
      [
        "--mode",
        "out",
        "--amqp-url",
        `amqp://guest:guest@127.0.0.1:${await freePort()}`,
        "--listen",
        `127.0.0.1:${port}`,
        "--webhook-secret",
        secret,
      ],
      async (offline) => {
        await offline.waitForLog("listening");
        const delivery = signed(secret, userCreated(48));
        const res = await fetch(`http://127.0.0.1:${port}/webhooks`, {
          method: "POST",
          headers: delivery.headers,
          body: delivery.body,
        });
        assert.equal(res.status, 503);
        await offline.waitForLog("publish_failed");
      },
    );
  });
});

describe("out: the generic profile", () => {
  it("forwards every event's envelope unchanged, routing key = its type", async () => {
    const exchange = "user-service.events";
    const queue = "bridge-e2e-generic";
    const secret = newSecret();
    const port = await freePort();
    await withBridge(
      [
        "--mode",
        "out",
        "--amqp-url",
        rabbit.url,
        "--listen",
        `127.0.0.1:${port}`,
        "--webhook-secret",
        secret,
        "--profile",
        "generic",
      ],
      async (bridge) => {
        await bridge.waitForLog("publishing");
        // Declared as the bridge declares it (a different type or durability would fail here).
        await channel.assertExchange(exchange, "topic", { durable: true });
        await channel.assertQueue(queue, { durable: false });
        await channel.bindQueue(queue, exchange, "#");

        const events = [
          envelope("user.created", {
            user_id: randomUUID(),
            email: "g@example.com",
            username: null,
            name: "G",
          }),
          envelope("push_token.added", {
            user_id: randomUUID(),
            push_token_id: randomUUID(),
            platform: "ios",
          }),
        ];
        const sent = new Map<string, string>();
        for (const event of events) {
          const delivery = signed(secret, event);
          sent.set(event.id, delivery.body);
          const res = await fetch(`http://127.0.0.1:${port}/hooks/any/path`, {
            method: "POST",
            headers: delivery.headers,
            body: delivery.body,
          });
          assert.equal(res.status, 200, await res.text());
        }
        const received = await take(queue, (m) => sent.has(String(m.properties.messageId)), 2);
        for (const event of events) {
          const msg = received.find((m) => m.properties.messageId === event.id);
          assert.ok(msg);
          assert.equal(msg.fields.exchange, exchange);
          assert.equal(msg.fields.routingKey, event.type);
          assert.equal(msg.content.toString(), sent.get(event.id));
          assert.deepEqual(JSON.parse(msg.content.toString()), event);
          assert.equal(msg.properties.deliveryMode, 2);
          assert.equal(msg.properties.contentType, "application/json");
        }
      },
    );
  });
});
