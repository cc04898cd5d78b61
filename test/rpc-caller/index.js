/**
 * A second Worker for the RPC tests: it binds the user service's `UserService` entrypoint exactly
 * as a calling Worker would (vitest.config.ts), and relays `{ method, args }` to it.
 */
export default {
  async fetch(request, env) {
    const { method, args } = await request.json();
    try {
      const result = await env.USERS[method](...args);
      return Response.json({ ok: true, result: result ?? null });
    } catch (err) {
      return Response.json({ ok: false, error: String(err) }, { status: 500 });
    }
  },
};
