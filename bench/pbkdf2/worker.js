/**
 * The Worker `npm run bench:pbkdf2` times (bench/pbkdf2.ts): GET /run?impl=…&iterations=… derives
 * one 32-byte PBKDF2-HMAC-SHA256 key and answers its hex; GET /noop answers at once (the round
 * trip to subtract). Inside workerd the clock does not advance during CPU work, so nothing is timed
 * here. Plain JS like test/rpc-caller: the Node-side tsconfig that covers bench/ has no Worker types.
 */
import { pbkdf2, pbkdf2Async } from "@noble/hashes/pbkdf2.js";
import { sha256 } from "@noble/hashes/sha2.js";
import { pbkdf2Sha256 } from "../../src/auth/pbkdf2.ts";

const encoder = new TextEncoder();

async function webCrypto(password, salt, iterations) {
  const key = await crypto.subtle.importKey("raw", encoder.encode(password), "PBKDF2", false, [
    "deriveBits",
  ]);
  const bits = await crypto.subtle.deriveBits(
    { name: "PBKDF2", hash: "SHA-256", salt: encoder.encode(salt), iterations },
    key,
    256,
  );
  return new Uint8Array(bits);
}

const implementations = {
  // What src/auth/pbkdf2.ts uses above WebCrypto's production limit of 100,000 iterations.
  shipped: (password, salt, c) => pbkdf2Sha256(password, salt, c),
  "noble-async": (password, salt, c) => pbkdf2Async(sha256, password, salt, { c, dkLen: 32 }),
  "noble-sync": async (password, salt, c) => pbkdf2(sha256, password, salt, { c, dkLen: 32 }),
  // Native, for reference only: local workerd computes any count, production refuses > 100,000.
  webcrypto: webCrypto,
};

export default {
  async fetch(request) {
    const url = new URL(request.url);
    if (url.pathname === "/noop") return new Response(null, { status: 204 });
    if (url.pathname !== "/run") return new Response("not found", { status: 404 });
    const run = implementations[url.searchParams.get("impl") ?? ""];
    const iterations = Number(url.searchParams.get("iterations"));
    const password = url.searchParams.get("password") ?? "";
    const salt = url.searchParams.get("salt") ?? "";
    if (!run || !Number.isInteger(iterations) || iterations < 1 || iterations > 2_000_000) {
      return new Response("bad request", { status: 400 });
    }
    const key = await run(password, salt, iterations);
    return Response.json({ hex: [...key].map((b) => b.toString(16).padStart(2, "0")).join("") });
  },
};
