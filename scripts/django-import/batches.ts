/**
 * Users into calls: at most N users and under 60 KiB of JSON each (the server reads at most 64 KiB),
 * each user serialised once; and calls onto the wire, a few in flight at once, the reader waiting
 * while all slots are taken (so memory stays at a few batches whatever the input's size).
 */
import type { ImportUser } from "./users.ts";

/** What is kept of a user while its call is in flight: enough to report it. */
export interface Sent {
  source: string;
  email: string;
  id: string | null;
  legacy_id: number | null;
  warnings: string[];
}

export interface Batch {
  /** From 1, in the order the batches were made. */
  number: number;
  users: Sent[];
  body: string;
}

export class Batcher {
  private users: Sent[] = [];
  private parts: string[] = [];
  private bytes: number;
  private made = 0;
  private readonly overhead: number;
  private readonly limits: { users: number; bytes: number };
  /** The rest of the body after `users` (`,"update":[…],"dry_run":…`). */
  private readonly suffix: string;
  private readonly emit: (batch: Batch) => Promise<void>;

  constructor(
    limits: { users: number; bytes: number },
    suffix: string,
    emit: (batch: Batch) => Promise<void>,
  ) {
    this.limits = limits;
    this.suffix = suffix;
    this.emit = emit;
    this.overhead = Buffer.byteLength(`{"users":[]${suffix}}`);
    this.bytes = this.overhead;
  }

  /** Adds a user; a reason when the user alone is too large for any call. */
  async add(user: ImportUser, warnings: string[]): Promise<string | null> {
    const json = JSON.stringify(user);
    const size = Buffer.byteLength(json);
    if (this.overhead + size > this.limits.bytes) {
      return `the user's data is ${Math.ceil(size / 1024)} KiB as JSON, over what one call may carry`;
    }
    const separator = this.parts.length > 0 ? 1 : 0;
    if (this.bytes + separator + size > this.limits.bytes) await this.flush();
    this.bytes += (this.parts.length > 0 ? 1 : 0) + size;
    this.parts.push(json);
    this.users.push({
      source: user.source,
      email: user.email,
      id: user.id ?? null,
      legacy_id: user.legacy_id ?? null,
      warnings,
    });
    if (this.parts.length >= this.limits.users) await this.flush();
    return null;
  }

  async flush(): Promise<void> {
    if (this.parts.length === 0) return;
    const batch = {
      number: ++this.made,
      users: this.users,
      body: `{"users":[${this.parts.join(",")}]${this.suffix}}`,
    };
    this.users = [];
    this.parts = [];
    this.bytes = this.overhead;
    await this.emit(batch);
  }
}

/** Runs `send` for each submitted batch with at most `concurrency` in flight. */
export class Dispatcher {
  private readonly inFlight = new Set<Promise<void>>();
  /** The first error a send threw; nothing more is sent after it. */
  failure: Error | null = null;

  private readonly concurrency: number;
  private readonly send: (batch: Batch) => Promise<void>;

  constructor(concurrency: number, send: (batch: Batch) => Promise<void>) {
    this.concurrency = concurrency;
    this.send = send;
  }

  /** Waits for a free slot, then starts the batch. */
  async submit(batch: Batch): Promise<void> {
    while (this.inFlight.size >= this.concurrency) await Promise.race(this.inFlight);
    if (this.failure) return;
    const running: Promise<void> = this.send(batch)
      .catch((err: unknown) => {
        this.failure ??= err instanceof Error ? err : new Error(String(err));
      })
      .finally(() => this.inFlight.delete(running));
    this.inFlight.add(running);
  }

  async drain(): Promise<void> {
    await Promise.all(this.inFlight);
  }
}
