/**
 * Counting the round trips a request makes (the latency model for the edge): pass-through wrappers
 * of the real bindings — every call still reaches local D1, KV, the Durable Object, the rate
 * limiting binding and the queues — that record each call, and which calls had finished when it
 * started. `depth` is then the longest chain of calls each waiting for the one before: calls issued
 * together (Promise.all) share a level, calls issued one after another add one each.
 */
import { createExecutionContext, waitOnExecutionContext } from "cloudflare:test";
import { env } from "cloudflare:workers";
import worker from "../../src/dev/local";

export type Kind = "d1" | "kv" | "do" | "ratelimit" | "queue";

interface Call {
  kind: Kind;
  what: string;
  /** D1 statements in this call (a batch carries several in one round trip). */
  statements: number;
  /** How many calls had finished when this one started. */
  startedAfter: number;
  level: number;
  /** Started once the response was ready (after-response work: publishing events). */
  afterResponse: boolean;
}

export class Trace {
  readonly calls: Call[] = [];
  /** The constraint of every D1 session opened (`withSession`). */
  readonly sessions: (string | undefined)[] = [];
  private readonly finished: Call[] = [];
  private responded = false;

  /** From now on calls are the request's after-response work. */
  respond() {
    this.responded = true;
  }

  async track<T>(kind: Kind, what: string, run: () => Promise<T>, statements = 0): Promise<T> {
    const call: Call = {
      kind,
      what,
      statements,
      startedAfter: this.finished.length,
      level: 0,
      afterResponse: this.responded,
    };
    this.calls.push(call);
    const before = this.finished.slice(0, call.startedAfter);
    call.level = 1 + Math.max(0, ...before.map((c) => c.level));
    try {
      return await run();
    } finally {
      this.finished.push(call);
    }
  }

  /**
   * Round trips per kind before the response, D1 statements, and the depth of the chain (how many
   * of them the client waits for one after another); `after` is the after-response work.
   */
  summary() {
    const before = this.calls.filter((c) => !c.afterResponse);
    const of = (kind: Kind) => before.filter((c) => c.kind === kind);
    const after = this.calls.filter((c) => c.afterResponse);
    return {
      d1: of("d1").length,
      d1Statements: of("d1").reduce((n, c) => n + c.statements, 0),
      kv: of("kv").length,
      do: of("do").length,
      ratelimit: of("ratelimit").length,
      queue: of("queue").length,
      depth: Math.max(0, ...before.map((c) => c.level)),
      after: after.length,
    };
  }

  /** Every call, with its level: for a failing test's message. */
  list() {
    return this.calls.map((c) => `${c.level} ${c.kind} ${c.what}`);
  }
}

type Fn = (...args: unknown[]) => unknown;

/**
 * A proxy whose methods `wrap` may replace. Calls go through Reflect.apply: a Durable Object
 * stub's methods are RPC stubs themselves, which take `.apply` or `.bind` for a remote method.
 */
const bindMethods = <T extends object>(
  target: T,
  wrap: (name: string, call: (...args: unknown[]) => unknown) => unknown,
) =>
  new Proxy(target, {
    get(t, property) {
      const value = Reflect.get(t, property, t);
      if (typeof value !== "function") return value;
      const call = (...args: unknown[]) => Reflect.apply(value as Fn, t, args);
      return wrap(String(property), call) ?? call;
    },
  });

function tracedStatement(trace: Trace, statement: D1PreparedStatement): D1PreparedStatement {
  return bindMethods(statement, (name, call) => {
    if (name === "bind") {
      return (...args: unknown[]) => tracedStatement(trace, call(...args) as D1PreparedStatement);
    }
    if (["all", "raw", "run", "first"].includes(name)) {
      return (...args: unknown[]) => trace.track("d1", name, async () => call(...args), 1);
    }
    return undefined;
  });
}

/** A D1 database or session whose statements are traced. */
function tracedD1<T extends D1Database | D1DatabaseSession>(trace: Trace, d1: T): T {
  return bindMethods(d1, (name, call) => {
    if (name === "prepare") {
      return (query: string) => tracedStatement(trace, call(query) as D1PreparedStatement);
    }
    if (name === "batch") {
      return (statements: D1PreparedStatement[]) =>
        trace.track("d1", "batch", async () => call(statements), statements.length);
    }
    if (name === "withSession") {
      return (constraint?: string) => {
        trace.sessions.push(constraint);
        return tracedD1(trace, call(constraint) as D1DatabaseSession);
      };
    }
    return undefined;
  });
}

function traced<T extends object>(trace: Trace, kind: Kind, target: T, methods: string[]): T {
  return bindMethods(target, (name, call) =>
    methods.includes(name)
      ? (...args: unknown[]) => trace.track(kind, name, async () => call(...args))
      : undefined,
  );
}

/** The test environment's bindings, each wrapped to record its calls on `trace`. */
export function tracedBindings(trace: Trace) {
  const limiter = bindMethods(env.RATE_LIMITER, (name, call) =>
    name === "getByName" || name === "get"
      ? (...args: unknown[]) =>
          traced(trace, "do", call(...args) as object, ["hit", "hitAll", "undo", "reset", "ping"])
      : undefined,
  );
  const queue = (q: Queue) => traced(trace, "queue", q, ["send", "sendBatch", "metrics"]);
  return {
    DB: tracedD1(trace, env.DB),
    KV: traced(trace, "kv", env.KV, ["get", "getWithMetadata", "put", "delete", "list"]),
    RATE_LIMITER: limiter,
    GLOBAL_LIMITER: traced(trace, "ratelimit", env.GLOBAL_LIMITER, ["limit"]),
    USER_EVENTS: queue(env.USER_EVENTS),
    PUSH_REQUESTS: queue(env.PUSH_REQUESTS),
    PUSH_DELIVERY: queue(env.PUSH_DELIVERY),
    PUSH_REQUESTS_DLQ: queue(env.PUSH_REQUESTS_DLQ),
  };
}

/** One request through bindings that record their calls (a fresh set, unless `on` is given). */
export async function tracedRequest(req: Request, on?: { env: Env; trace: Trace }) {
  const trace = on?.trace ?? new Trace();
  const bindings = on?.env ?? ({ ...env, ...tracedBindings(trace) } as Env);
  const ctx = createExecutionContext();
  const res = await worker.fetch(req, bindings, ctx);
  trace.respond();
  const text = await res.text();
  await waitOnExecutionContext(ctx);
  return { status: res.status, text, headers: res.headers, trace, summary: trace.summary() };
}
