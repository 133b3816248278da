// A 64-bit structural hash of a JSON value, in two independent 32-bit lanes, equal for values that JSON considers
// equal whatever their objects' field order. Built for sink.discard's digest, where it runs once per record, so it
// walks the value instead of writing its JSON text, and never sorts keys:
//
// - a string: its UTF-8 bytes taken four at a time as little-endian 32-bit words (a last word of 1-3 bytes padded
//   with zeros), fed to murmur3's x86_32 round in lane 1 and xxHash32's round in lane 2, then its byte length mixed
//   in. Lone surrogates, which UTF-8 cannot hold, count as U+FFFD (as TextEncoder writes them);
// - a number: its IEEE-754 double (-0 as 0), as two words; NaN and ±Infinity hash as null, as JSON writes them;
// - true, false, null: constants; an array: its elements' hashes in order, then its length;
// - an object: the sum (mod 2^32) over its fields of fmix32(k ^ v), where k is the key's hash xor a seed times an odd
//   constant and v the value's hash, then the field count. Sums do not depend on order. Fields whose value is
//   undefined (or a function or symbol) are skipped, as in JSON.
//
// Every kind starts from its own seed, so "1" and 1, [] and {} differ. Each lane ends with murmur3's fmix32.
//
// Speed: reading a long string with charCodeAt costs about 1.7 ns per character in V8 (sliced strings are slower
// still), while TextEncoder.encodeInto copies it out natively at a fraction of that; short ASCII strings are read
// directly, since a native call costs more than they do.

const SHORT = 24;
const LITTLE_ENDIAN = new Uint8Array(new Uint32Array([1]).buffer)[0] === 1;
const encoder = new TextEncoder();

const M1 = 0xcc9e2d51;
const M2 = 0x1b873593;
const X1 = 0x9e3779b1;
const X2 = 0x85ebca77;

// Per-kind seeds, lane 1 then lane 2.
const STRING1 = 0x9747b28c;
const STRING2 = 0x165667b1;
const NUMBER1 = 0x27d4eb2f;
const NUMBER2 = 0x61c88647;
const ARRAY1 = 0x2545f491;
const ARRAY2 = 0x4f6cdd1d;
const OBJECT1 = 0x68e31da4;
const OBJECT2 = 0xb5297a4d;
const FIELD1 = 0x1b56c4e9;
const FIELD2 = 0x7feb352d;
const NULL1 = 0x5bd1e995;
const NULL2 = 0x6a09e667;
const TRUE1 = 0x3c6ef372;
const TRUE2 = 0xa54ff53a;
const FALSE1 = 0x510e527f;
const FALSE2 = 0x9b05688c;

/** murmur3 x86_32's round over one word. */
function round1(h: number, w: number): number {
  let k = Math.imul(w, M1);
  k = (k << 15) | (k >>> 17);
  h ^= Math.imul(k, M2);
  h = (h << 13) | (h >>> 19);
  return (Math.imul(h, 5) + 0xe6546b64) | 0;
}

/** xxHash32's round over one word. */
function round2(h: number, w: number): number {
  h = (h + Math.imul(w, X2)) | 0;
  h = (h << 13) | (h >>> 19);
  return Math.imul(h, X1);
}

function fmix32(h: number): number {
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h | 0;
}

const skipped = (v: unknown) => v === undefined || typeof v === "function" || typeof v === "symbol";

export class RecordHasher {
  /** Lane 1 of the last hash, an unsigned 32-bit integer. */
  h1 = 0;
  /** Lane 2 of the last hash, an unsigned 32-bit integer. */
  h2 = 0;
  // The lanes while walking, as signed 32-bit integers (which V8 keeps unboxed); h1/h2 get them unsigned at the end.
  private l1 = 0;
  private l2 = 0;
  private readonly float = new Float64Array(1);
  private readonly words = new Uint32Array(this.float.buffer);
  /** Scratch space strings are encoded into. */
  private bytes = new Uint8Array(4096);
  private words32 = new Uint32Array(this.bytes.buffer);
  // Records of one stream mostly share their keys: remember the last key list and the keys' hashes.
  private lastKeys: string[] = [];
  private keyMix1: number[] = [];
  private keyMix2: number[] = [];

  /** Hashes `value`; read `h1` and `h2` afterwards. */
  hash(value: unknown): this {
    if (value !== null && typeof value === "object" && !Array.isArray(value)) {
      this.record(value as Record<string, unknown>);
    } else {
      this.value(value);
    }
    this.h1 = this.l1 >>> 0;
    this.h2 = this.l2 >>> 0;
    return this;
  }

  /**
   * A top-level object. Its keys are checked against the previous record's while iterating (for-in over an object
   * of a known shape is fast and allocates nothing); on the first difference the key hashes are rebuilt. Records are
   * plain objects, so for-in lists exactly their own keys.
   */
  private record(o: Record<string, unknown>): void {
    const last = this.lastKeys;
    const k1 = this.keyMix1;
    const k2 = this.keyMix2;
    let i = 0;
    let sum1 = 0;
    let sum2 = 0;
    let count = 0;
    for (const key in o) {
      if (key !== last[i]) {
        this.recordNewKeys(o);
        return;
      }
      const v = o[key];
      i++;
      if (skipped(v)) continue;
      this.value(v);
      sum1 = (sum1 + fmix32(k1[i - 1]! ^ this.l1)) | 0;
      sum2 = (sum2 + fmix32(k2[i - 1]! ^ this.l2)) | 0;
      count++;
    }
    if (i !== last.length) {
      this.recordNewKeys(o);
      return;
    }
    this.l1 = fmix32(round1(round1(OBJECT1, sum1), count));
    this.l2 = fmix32(round2(round2(OBJECT2, sum2), count));
  }

  private recordNewKeys(o: Record<string, unknown>): void {
    const keys = Object.keys(o);
    this.lastKeys = keys;
    this.keyMix1 = [];
    this.keyMix2 = [];
    for (const key of keys) {
      this.string(key);
      this.keyMix1.push(keyMix1(this.l1));
      this.keyMix2.push(keyMix2(this.l2));
    }
    // Hashed from the own keys here, not by record(): for-in also lists inherited enumerable keys, and an object
    // with those would otherwise send record() back here for ever.
    this.object(o);
  }

  private value(v: unknown): void {
    switch (typeof v) {
      case "string":
        this.string(v);
        return;
      case "number":
        this.number(v);
        return;
      case "boolean":
        this.l1 = v ? TRUE1 : FALSE1;
        this.l2 = v ? TRUE2 : FALSE2;
        return;
      case "bigint":
        // Not JSON; hashed as the number it stands for, so a bigint id equals the same number id.
        this.number(Number(v));
        return;
      case "object":
        if (v === null) break;
        if (Array.isArray(v)) this.array(v);
        else this.object(v as Record<string, unknown>);
        return;
    }
    this.l1 = NULL1;
    this.l2 = NULL2;
  }

  private number(v: number): void {
    if (!Number.isFinite(v)) {
      this.l1 = NULL1;
      this.l2 = NULL2;
      return;
    }
    this.float[0] = v === 0 ? 0 : v; // -0 is 0
    const lo = this.words[0]!;
    const hi = this.words[1]!;
    this.l1 = fmix32(round1(round1(NUMBER1, lo), hi));
    this.l2 = fmix32(round2(round2(NUMBER2, lo), hi));
  }

  private string(s: string): void {
    if (s.length < SHORT && this.ascii(s)) return;
    if (this.bytes.length < s.length * 3) this.grow(s.length * 3);
    const n = encoder.encodeInto(s, this.bytes).written;
    const bytes = this.bytes;
    const words = this.words32;
    const whole = n >>> 2;
    let a = STRING1;
    let b = STRING2;
    for (let i = 0; i < whole; i++) {
      const j = i << 2;
      const w = LITTLE_ENDIAN
        ? words[i]!
        : bytes[j]! | (bytes[j + 1]! << 8) | (bytes[j + 2]! << 16) | (bytes[j + 3]! << 24);
      a = round1(a, w);
      b = round2(b, w);
    }
    const rest = n & 3;
    if (rest > 0) {
      const j = whole << 2;
      let w = bytes[j]!;
      if (rest > 1) w |= bytes[j + 1]! << 8;
      if (rest > 2) w |= bytes[j + 2]! << 16;
      a = round1(a, w);
      b = round2(b, w);
    }
    this.l1 = fmix32(a ^ n);
    this.l2 = fmix32(b ^ n);
  }

  /** A short string read with charCodeAt (its UTF-8 bytes are its code units); false if it is not all ASCII. */
  private ascii(s: string): boolean {
    const n = s.length;
    let a = STRING1;
    let b = STRING2;
    let i = 0;
    for (; i + 3 < n; i += 4) {
      const c0 = s.charCodeAt(i);
      const c1 = s.charCodeAt(i + 1);
      const c2 = s.charCodeAt(i + 2);
      const c3 = s.charCodeAt(i + 3);
      if ((c0 | c1 | c2 | c3) >= 0x80) return false;
      const w = c0 | (c1 << 8) | (c2 << 16) | (c3 << 24);
      a = round1(a, w);
      b = round2(b, w);
    }
    if (i < n) {
      let w = 0;
      for (let shift = 0; i < n; i++, shift += 8) {
        const c = s.charCodeAt(i);
        if (c >= 0x80) return false;
        w |= c << shift;
      }
      a = round1(a, w);
      b = round2(b, w);
    }
    this.l1 = fmix32(a ^ n);
    this.l2 = fmix32(b ^ n);
    return true;
  }

  private grow(size: number): void {
    let length = this.bytes.length;
    while (length < size) length *= 2;
    this.bytes = new Uint8Array(length);
    this.words32 = new Uint32Array(this.bytes.buffer);
  }

  private array(v: readonly unknown[]): void {
    let a = ARRAY1;
    let b = ARRAY2;
    for (let i = 0; i < v.length; i++) {
      const item = v[i];
      if (skipped(item)) {
        this.l1 = NULL1;
        this.l2 = NULL2;
      } else {
        this.value(item);
      }
      a = round1(a, this.l1);
      b = round2(b, this.l2);
    }
    this.l1 = fmix32(a ^ v.length);
    this.l2 = fmix32(b ^ v.length);
  }

  private object(o: Record<string, unknown>): void {
    let sum1 = 0;
    let sum2 = 0;
    let count = 0;
    for (const key of Object.keys(o)) {
      const v = o[key];
      if (skipped(v)) continue;
      this.string(key);
      const k1 = keyMix1(this.l1);
      const k2 = keyMix2(this.l2);
      this.value(v);
      sum1 = (sum1 + fmix32(k1 ^ this.l1)) | 0;
      sum2 = (sum2 + fmix32(k2 ^ this.l2)) | 0;
      count++;
    }
    this.l1 = fmix32(round1(round1(OBJECT1, sum1), count));
    this.l2 = fmix32(round2(round2(OBJECT2, sum2), count));
  }
}

/** A key's hash prepared for pairing with its value's: one field's share of the object sum is fmix32(mix ^ value). */
function keyMix1(keyHash: number): number {
  return Math.imul(keyHash ^ FIELD1, M1);
}

function keyMix2(keyHash: number): number {
  return Math.imul(keyHash ^ FIELD2, X1);
}

/** `h1` and `h2` as 16 hex digits. */
export function hashHex(h1: number, h2: number): string {
  return (h1 >>> 0).toString(16).padStart(8, "0") + (h2 >>> 0).toString(16).padStart(8, "0");
}
