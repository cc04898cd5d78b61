// PBKDF2-HMAC-SHA256 (RFC 8018) in AssemblyScript, compiled to src/auth/wasm/pbkdf2-sha256.wasm by
// `npm run build:wasm`.
//
// Why this exists: production Workers refuse PBKDF2 above 100,000 iterations in WebCrypto and
// node:crypto, while Django stores passwords with 260,000 to 1,200,000 iterations. Users imported from
// the replaced Django services must still be able to log in once so their hash can be upgraded.
//
// The host writes the password and salt into the exported input buffer, calls `derive`, and reads
// the key from the output buffer. HMAC's inner and outer pad states are computed once per call, so
// each iteration costs exactly two SHA-256 compressions.

const MAX_PASSWORD = 4096;
const MAX_SALT = 1024;
const MAX_OUTPUT = 256;

const INPUT = new StaticArray<u8>(MAX_PASSWORD + MAX_SALT);
const OUTPUT = new StaticArray<u8>(MAX_OUTPUT);

const K: StaticArray<u32> = [
  0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5,
  0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174,
  0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da,
  0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967,
  0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85,
  0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070,
  0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3,
  0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2,
];

const W = new StaticArray<u32>(64);
// Working buffers: one 64-byte message block, and hash states of 8 words each.
const BLOCK = new StaticArray<u8>(64);
const STATE = new StaticArray<u32>(8);
const INNER = new StaticArray<u32>(8);
const OUTER = new StaticArray<u32>(8);
const U = new StaticArray<u32>(8);
const T = new StaticArray<u32>(8);
// Scratch for hashing arbitrary-length messages (long keys, salt || block index).
const KEY_HASH = new StaticArray<u8>(32);

@inline
function rotr(x: u32, n: u32): u32 {
  return (x >>> n) | (x << (32 - n));
}

function initState(state: StaticArray<u32>): void {
  unchecked((state[0] = 0x6a09e667));
  unchecked((state[1] = 0xbb67ae85));
  unchecked((state[2] = 0x3c6ef372));
  unchecked((state[3] = 0xa54ff53a));
  unchecked((state[4] = 0x510e527f));
  unchecked((state[5] = 0x9b05688c));
  unchecked((state[6] = 0x1f83d9ab));
  unchecked((state[7] = 0x5be0cd19));
}

function copyState(from: StaticArray<u32>, to: StaticArray<u32>): void {
  for (let i = 0; i < 8; i++) unchecked((to[i] = from[i]));
}

/** One SHA-256 compression of W[0..15] (already big-endian words) into `state`. */
function compressWords(state: StaticArray<u32>): void {
  for (let i = 16; i < 64; i++) {
    const w15 = unchecked(W[i - 15]);
    const w2 = unchecked(W[i - 2]);
    const s0 = rotr(w15, 7) ^ rotr(w15, 18) ^ (w15 >>> 3);
    const s1 = rotr(w2, 17) ^ rotr(w2, 19) ^ (w2 >>> 10);
    unchecked((W[i] = W[i - 16] + s0 + W[i - 7] + s1));
  }
  let a = unchecked(state[0]);
  let b = unchecked(state[1]);
  let c = unchecked(state[2]);
  let d = unchecked(state[3]);
  let e = unchecked(state[4]);
  let f = unchecked(state[5]);
  let g = unchecked(state[6]);
  let h = unchecked(state[7]);
  for (let i = 0; i < 64; i++) {
    const S1 = rotr(e, 6) ^ rotr(e, 11) ^ rotr(e, 25);
    const ch = (e & f) ^ (~e & g);
    const t1 = h + S1 + ch + unchecked(K[i]) + unchecked(W[i]);
    const S0 = rotr(a, 2) ^ rotr(a, 13) ^ rotr(a, 22);
    const maj = (a & b) ^ (a & c) ^ (b & c);
    const t2 = S0 + maj;
    h = g;
    g = f;
    f = e;
    e = d + t1;
    d = c;
    c = b;
    b = a;
    a = t1 + t2;
  }
  unchecked((state[0] += a));
  unchecked((state[1] += b));
  unchecked((state[2] += c));
  unchecked((state[3] += d));
  unchecked((state[4] += e));
  unchecked((state[5] += f));
  unchecked((state[6] += g));
  unchecked((state[7] += h));
}

function compressBlock(state: StaticArray<u32>): void {
  for (let i = 0; i < 16; i++) {
    const j = i << 2;
    unchecked(
      (W[i] =
        ((<u32>BLOCK[j]) << 24) |
        ((<u32>BLOCK[j + 1]) << 16) |
        ((<u32>BLOCK[j + 2]) << 8) |
        (<u32>BLOCK[j + 3])),
    );
  }
  compressWords(state);
}

/**
 * Continues a SHA-256 whose state already absorbed `prefixLen` bytes (a multiple of 64), over the
 * bytes INPUT[offset .. offset+len) followed by `extra` big-endian u32 (if `withCounter`), then pads
 * and finishes. Writes the digest into `out` as words.
 */
function hashTail(
  state: StaticArray<u32>,
  prefixLen: u32,
  offset: i32,
  len: i32,
  withCounter: bool,
  counter: u32,
  out: StaticArray<u32>,
): void {
  const total = len + (withCounter ? 4 : 0);
  let filled = 0;
  for (let i = 0; i < total; i++) {
    let byte: u8;
    if (i < len) {
      byte = unchecked(INPUT[offset + i]);
    } else {
      byte = <u8>(counter >>> (8 * (3 - (i - len))));
    }
    unchecked((BLOCK[filled] = byte));
    filled++;
    if (filled == 64) {
      compressBlock(state);
      filled = 0;
    }
  }
  unchecked((BLOCK[filled] = 0x80));
  filled++;
  if (filled > 56) {
    while (filled < 64) unchecked((BLOCK[filled++] = 0));
    compressBlock(state);
    filled = 0;
  }
  while (filled < 56) unchecked((BLOCK[filled++] = 0));
  const bits: u64 = (<u64>prefixLen + <u64>total) * 8;
  for (let i = 0; i < 8; i++) unchecked((BLOCK[56 + i] = <u8>(bits >>> (8 * (7 - i)))));
  compressBlock(state);
  copyState(state, out);
}

/** Starts an HMAC pad state: SHA-256 over (key XOR pad), key being `keyBytes[0..keyLen)`. */
function padState(state: StaticArray<u32>, keyLen: i32, useKeyHash: bool, pad: u8): void {
  initState(state);
  for (let i = 0; i < 64; i++) {
    let k: u8 = 0;
    if (useKeyHash) {
      if (i < 32) k = unchecked(KEY_HASH[i]);
    } else if (i < keyLen) {
      k = unchecked(INPUT[i]);
    }
    unchecked((BLOCK[i] = k ^ pad));
  }
  compressBlock(state);
}

/**
 * Compresses the 32-byte digest in U (as words), padded as the final block of a 96-byte message
 * (64-byte pad block + 32 bytes), on top of `base`. Result replaces U.
 */
function hashDigestAfterPad(base: StaticArray<u32>): void {
  for (let i = 0; i < 8; i++) unchecked((W[i] = U[i]));
  unchecked((W[8] = 0x80000000));
  for (let i = 9; i < 15; i++) unchecked((W[i] = 0));
  unchecked((W[15] = (64 + 32) * 8));
  copyState(base, STATE);
  compressWords(STATE);
  copyState(STATE, U);
}

/** Address of the input buffer: the password at offset 0, the salt right after it. */
export function inputPointer(): usize {
  return changetype<usize>(INPUT);
}

/** Address of the output buffer the derived key is written to. */
export function outputPointer(): usize {
  return changetype<usize>(OUTPUT);
}

/**
 * Derives `keyLen` bytes with PBKDF2-HMAC-SHA256. Returns 0 on success, 1 on bad lengths.
 */
export function derive(passwordLen: i32, saltLen: i32, iterations: u32, keyLen: i32): i32 {
  if (passwordLen < 0 || passwordLen > MAX_PASSWORD) return 1;
  if (saltLen < 0 || saltLen > MAX_SALT) return 1;
  if (keyLen <= 0 || keyLen > MAX_OUTPUT || iterations == 0) return 1;

  // Keys longer than the block size are hashed first (RFC 2104).
  let useKeyHash = false;
  if (passwordLen > 64) {
    initState(STATE);
    hashTail(STATE, 0, 0, passwordLen, false, 0, U);
    for (let i = 0; i < 8; i++) {
      const w = unchecked(U[i]);
      unchecked((KEY_HASH[i * 4] = <u8>(w >>> 24)));
      unchecked((KEY_HASH[i * 4 + 1] = <u8>(w >>> 16)));
      unchecked((KEY_HASH[i * 4 + 2] = <u8>(w >>> 8)));
      unchecked((KEY_HASH[i * 4 + 3] = <u8>w));
    }
    useKeyHash = true;
  }
  padState(INNER, passwordLen, useKeyHash, 0x36);
  padState(OUTER, passwordLen, useKeyHash, 0x5c);

  const blocks = (keyLen + 31) / 32;
  for (let block = 1; block <= blocks; block++) {
    // U1 = HMAC(P, S || INT(block))
    copyState(INNER, STATE);
    hashTail(STATE, 64, passwordLen, saltLen, true, <u32>block, U);
    hashDigestAfterPad(OUTER);
    copyState(U, T);
    for (let i: u32 = 1; i < iterations; i++) {
      hashDigestAfterPad(INNER);
      hashDigestAfterPad(OUTER);
      for (let j = 0; j < 8; j++) unchecked((T[j] ^= U[j]));
    }
    const base = (block - 1) * 32;
    for (let i = 0; i < 32 && base + i < keyLen; i++) {
      const w = unchecked(T[i >> 2]);
      unchecked((OUTPUT[base + i] = <u8>(w >>> (8 * (3 - (i & 3))))));
    }
  }
  return 0;
}
