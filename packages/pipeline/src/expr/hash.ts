// Hash functions in plain JS, so the pipeline package stays browser-safe (no node:crypto) and results are
// identical everywhere. md5/sha256 follow RFC 1321 / FIPS 180-4 and are checked against their test vectors.

const encoder = new TextEncoder();

function toHex(words: readonly number[], littleEndian: boolean): string {
  let out = "";
  for (const w of words) {
    for (let b = 0; b < 4; b++) {
      const shift = littleEndian ? b * 8 : 24 - b * 8;
      out += ((w >>> shift) & 0xff).toString(16).padStart(2, "0");
    }
  }
  return out;
}

/** Message bytes followed by 0x80, zeros, and the bit length, to a multiple of 64 bytes. */
function pad(bytes: Uint8Array, littleEndianLength: boolean): Uint8Array {
  const total = Math.ceil((bytes.length + 9) / 64) * 64;
  const out = new Uint8Array(total);
  out.set(bytes);
  out[bytes.length] = 0x80;
  const bits = bytes.length * 8;
  const low = bits >>> 0;
  const high = Math.floor(bits / 2 ** 32) >>> 0;
  const view = new DataView(out.buffer);
  if (littleEndianLength) {
    view.setUint32(total - 8, low, true);
    view.setUint32(total - 4, high, true);
  } else {
    view.setUint32(total - 8, high, false);
    view.setUint32(total - 4, low, false);
  }
  return out;
}

// ---- MD5 ---------------------------------------------------------------------------------------------

const MD5_K = Array.from({ length: 64 }, (_, i) => Math.floor(Math.abs(Math.sin(i + 1)) * 2 ** 32) >>> 0);
const MD5_S = [7, 12, 17, 22, 5, 9, 14, 20, 4, 11, 16, 23, 6, 10, 15, 21];

export function md5Hex(text: string): string {
  const data = pad(encoder.encode(text), true);
  const view = new DataView(data.buffer);
  let a0 = 0x67452301;
  let b0 = 0xefcdab89;
  let c0 = 0x98badcfe;
  let d0 = 0x10325476;
  const m = new Array<number>(16).fill(0);
  for (let chunk = 0; chunk < data.length; chunk += 64) {
    for (let i = 0; i < 16; i++) m[i] = view.getUint32(chunk + i * 4, true);
    let a = a0;
    let b = b0;
    let c = c0;
    let d = d0;
    for (let i = 0; i < 64; i++) {
      const round = i >>> 4;
      let f: number;
      let g: number;
      if (round === 0) {
        f = (b & c) | (~b & d);
        g = i;
      } else if (round === 1) {
        f = (d & b) | (~d & c);
        g = (5 * i + 1) & 15;
      } else if (round === 2) {
        f = b ^ c ^ d;
        g = (3 * i + 5) & 15;
      } else {
        f = c ^ (b | ~d);
        g = (7 * i) & 15;
      }
      const sum = (a + f + (MD5_K[i] ?? 0) + (m[g] ?? 0)) | 0;
      const s = MD5_S[(round << 2) | (i & 3)] ?? 0;
      a = d;
      d = c;
      c = b;
      b = (b + ((sum << s) | (sum >>> (32 - s)))) | 0;
    }
    a0 = (a0 + a) | 0;
    b0 = (b0 + b) | 0;
    c0 = (c0 + c) | 0;
    d0 = (d0 + d) | 0;
  }
  return toHex([a0, b0, c0, d0], true);
}

// ---- SHA-256 -----------------------------------------------------------------------------------------

function firstPrimes(count: number): number[] {
  const primes: number[] = [];
  for (let n = 2; primes.length < count; n++) {
    if (primes.every((p) => n % p !== 0)) primes.push(n);
  }
  return primes;
}

/** First 32 bits of the fractional part of `root(p)`; exact for these inputs in double precision. */
function fractionBits(x: number): number {
  return Math.floor((x - Math.floor(x)) * 2 ** 32) >>> 0;
}

const PRIMES = firstPrimes(64);
const SHA256_K = PRIMES.map((p) => fractionBits(Math.cbrt(p)));
const SHA256_H = PRIMES.slice(0, 8).map((p) => fractionBits(Math.sqrt(p)));

function rotr(x: number, n: number): number {
  return (x >>> n) | (x << (32 - n));
}

export function sha256Hex(text: string): string {
  const data = pad(encoder.encode(text), false);
  const view = new DataView(data.buffer);
  const h = SHA256_H.slice();
  const w = new Array<number>(64).fill(0);
  for (let chunk = 0; chunk < data.length; chunk += 64) {
    for (let i = 0; i < 16; i++) w[i] = view.getUint32(chunk + i * 4, false);
    for (let i = 16; i < 64; i++) {
      const w15 = w[i - 15] ?? 0;
      const w2 = w[i - 2] ?? 0;
      const s0 = rotr(w15, 7) ^ rotr(w15, 18) ^ (w15 >>> 3);
      const s1 = rotr(w2, 17) ^ rotr(w2, 19) ^ (w2 >>> 10);
      w[i] = ((w[i - 16] ?? 0) + s0 + (w[i - 7] ?? 0) + s1) | 0;
    }
    let [a, b, c, d, e, f, g, hh] = h as [number, number, number, number, number, number, number, number];
    for (let i = 0; i < 64; i++) {
      const s1 = rotr(e, 6) ^ rotr(e, 11) ^ rotr(e, 25);
      const ch = (e & f) ^ (~e & g);
      const t1 = (hh + s1 + ch + (SHA256_K[i] ?? 0) + (w[i] ?? 0)) | 0;
      const s0 = rotr(a, 2) ^ rotr(a, 13) ^ rotr(a, 22);
      const maj = (a & b) ^ (a & c) ^ (b & c);
      const t2 = (s0 + maj) | 0;
      hh = g;
      g = f;
      f = e;
      e = (d + t1) | 0;
      d = c;
      c = b;
      b = a;
      a = (t1 + t2) | 0;
    }
    const next = [a, b, c, d, e, f, g, hh];
    for (let i = 0; i < 8; i++) h[i] = ((h[i] ?? 0) + (next[i] ?? 0)) | 0;
  }
  return toHex(h, false);
}

// ---- FNV-1a 64 ---------------------------------------------------------------------------------------

/**
 * FNV-1a, 64-bit, over the UTF-8 bytes of `text`, in four 16-bit limbs (no BigInt, no allocation).
 * Returns the limbs, least significant first.
 */
function fnv1a64(text: string): [number, number, number, number] {
  // offset basis 0xcbf29ce484222325
  let h0 = 0x2325;
  let h1 = 0x8422;
  let h2 = 0x9ce4;
  let h3 = 0xcbf2;
  const step = (byte: number) => {
    h0 ^= byte;
    // multiply by the prime 0x100000001b3 = 2^40 + 0x1b3, modulo 2^64
    const t0 = h0 * 0x1b3;
    const t1 = h1 * 0x1b3 + (t0 >>> 16);
    const t2 = h2 * 0x1b3 + h0 * 0x100 + (t1 >>> 16);
    const t3 = h3 * 0x1b3 + h1 * 0x100 + (t2 >>> 16);
    h0 = t0 & 0xffff;
    h1 = t1 & 0xffff;
    h2 = t2 & 0xffff;
    h3 = t3 & 0xffff;
  };
  for (let i = 0; i < text.length; i++) {
    let c = text.charCodeAt(i);
    if (c >= 0xd800 && c <= 0xdbff && i + 1 < text.length) {
      const d = text.charCodeAt(i + 1);
      if (d >= 0xdc00 && d <= 0xdfff) {
        c = 0x10000 + ((c - 0xd800) << 10) + (d - 0xdc00);
        i++;
      }
    }
    if (c >= 0xd800 && c <= 0xdfff) c = 0xfffd; // lone surrogate: what TextEncoder writes
    if (c < 0x80) step(c);
    else if (c < 0x800) {
      step(0xc0 | (c >> 6));
      step(0x80 | (c & 0x3f));
    } else if (c < 0x10000) {
      step(0xe0 | (c >> 12));
      step(0x80 | ((c >> 6) & 0x3f));
      step(0x80 | (c & 0x3f));
    } else {
      step(0xf0 | (c >> 18));
      step(0x80 | ((c >> 12) & 0x3f));
      step(0x80 | ((c >> 6) & 0x3f));
      step(0x80 | (c & 0x3f));
    }
  }
  return [h0, h1, h2, h3];
}

/** Full 64-bit FNV-1a as 16 hex digits (for tests against the published vectors). */
export function fnv1a64Hex(text: string): string {
  const [h0, h1, h2, h3] = fnv1a64(text);
  return [h3, h2, h1, h0].map((x) => x.toString(16).padStart(4, "0")).join("");
}

/**
 * The low 53 bits of FNV-1a 64 as a non-negative safe integer: stable across runs, machines and browsers,
 * fast, and usable with `%` for bucketing. Not a cryptographic hash.
 */
export function stableHash53(text: string): number {
  const [h0, h1, h2, h3] = fnv1a64(text);
  return (h3 & 0x1f) * 2 ** 48 + h2 * 2 ** 32 + h1 * 2 ** 16 + h0;
}
