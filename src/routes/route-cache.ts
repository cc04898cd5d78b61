/**
 * The app's router: Hono's TrieRouter, with each (method, path) it has matched remembered.
 *
 * Hono's fastest router (RegExpRouter) cannot take this contract's paths — a parameter and a fixed
 * segment at the same place, as in `/users/:id/audit` beside `/users/push-tokens/:id` — so Hono
 * would fall back to the TrieRouter, which walks its tree of every route and middleware on each
 * request; in workerd that walk was one of the largest costs of a cheap read (bench/RESULTS.md,
 * issue 14). Routes never change once the app is built, so a match depends on nothing but the
 * method and the path, and clients ask for the same few paths over and over. The memory is
 * bounded: past MAX_ENTRIES it starts again, so a client asking for endless distinct paths costs
 * a walk each, as without the cache, and never grows the isolate.
 */
import type { Result, Router } from "hono/router";
import { TrieRouter } from "hono/router/trie-router";

const MAX_ENTRIES = 512;

export class CachedTrieRouter<T> implements Router<T> {
  readonly name = "CachedTrieRouter";
  readonly #router = new TrieRouter<T>();
  #matches = new Map<string, Result<T>>();

  add(method: string, path: string, handler: T): void {
    this.#matches = new Map(); // a route added after a match (app setup only) invalidates them
    this.#router.add(method, path, handler);
  }

  match(method: string, path: string): Result<T> {
    const key = `${method} ${path}`;
    let result = this.#matches.get(key);
    if (result === undefined) {
      result = this.#router.match(method, path);
      if (this.#matches.size >= MAX_ENTRIES) this.#matches = new Map();
      this.#matches.set(key, result);
    }
    return result;
  }
}
