import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { hashHex, RecordHasher } from "./record-hash";

const lanes = (hasher: RecordHasher, v: unknown): [number, number] => {
  hasher.hash(v);
  return [hasher.h1, hasher.h2];
};
const fresh = (v: unknown) => lanes(new RecordHasher(), v);

/** JSON text with sorted keys: two values are equal as JSON exactly when these texts are equal. */
function sortedJson(v: unknown): string {
  if (v === null || typeof v !== "object") return JSON.stringify(v) ?? "null";
  if (Array.isArray(v)) return `[${v.map(sortedJson).join(",")}]`;
  const o = v as Record<string, unknown>;
  return `{${Object.keys(o)
    .filter((k) => o[k] !== undefined)
    .sort()
    .map((k) => `${JSON.stringify(k)}:${sortedJson(o[k])}`)
    .join(",")}}`;
}

/** The string rule as documented, spelled out over TextEncoder's bytes. */
function stringLanes(s: string): [number, number] {
  const bytes = new TextEncoder().encode(s);
  const rotl = (x: number, r: number) => (x << r) | (x >>> (32 - r));
  const fmix = (h: number) => {
    h ^= h >>> 16;
    h = Math.imul(h, 0x85ebca6b);
    h ^= h >>> 13;
    h = Math.imul(h, 0xc2b2ae35);
    return (h ^ (h >>> 16)) >>> 0;
  };
  let a = 0x9747b28c;
  let b = 0x165667b1;
  for (let i = 0; i < bytes.length; i += 4) {
    let w = 0;
    for (let j = 0; j < 4 && i + j < bytes.length; j++) w |= bytes[i + j]! << (8 * j);
    a ^= Math.imul(rotl(Math.imul(w, 0xcc9e2d51), 15), 0x1b873593);
    a = (Math.imul(rotl(a, 13), 5) + 0xe6546b64) | 0;
    b = Math.imul(rotl((b + Math.imul(w, 0x85ebca77)) | 0, 13), 0x9e3779b1);
  }
  return [fmix(a ^ bytes.length), fmix(b ^ bytes.length)];
}

/** The same value with every object's keys in reverse order. */
function reversedKeys(v: unknown): unknown {
  if (v === null || typeof v !== "object") return v;
  if (Array.isArray(v)) return v.map(reversedKeys);
  const out: Record<string, unknown> = {};
  for (const k of Object.keys(v).reverse()) {
    Object.defineProperty(out, k, { value: reversedKeys((v as Record<string, unknown>)[k]), enumerable: true });
  }
  return out;
}

describe("RecordHasher", () => {
  it("hashes strings by their UTF-8 bytes as documented, on the short and the long path", () => {
    const hasher = new RecordHasher();
    for (const s of [
      "",
      "a",
      "ab",
      "abc",
      "abcd",
      "abcde",
      "x".repeat(23),
      "x".repeat(24),
      "é",
      "日本語のテキスト",
      "😀".repeat(20),
    ]) {
      expect([s, lanes(hasher, s)]).toEqual([s, stringLanes(s)]);
    }
    fc.assert(
      fc.property(fc.string({ unit: "grapheme", maxLength: 60 }), (s) => {
        const [h1, h2] = lanes(hasher, s);
        const [e1, e2] = stringLanes(s);
        return h1 === e1 && h2 === e2;
      }),
    );
  });

  it("gives JSON-equal values the same hash, whatever the key order", () => {
    const hasher = new RecordHasher();
    fc.assert(
      fc.property(fc.jsonValue(), (v) => {
        const [h1, h2] = lanes(hasher, v);
        const [r1, r2] = lanes(hasher, JSON.parse(JSON.stringify(v)));
        const [o1, o2] = lanes(hasher, reversedKeys(v));
        return h1 === r1 && h2 === r2 && h1 === o1 && h2 === o2;
      }),
    );
  });

  it("gives different values different hashes", () => {
    const hasher = new RecordHasher();
    fc.assert(
      fc.property(fc.jsonValue(), fc.jsonValue(), (a, b) => {
        fc.pre(sortedJson(a) !== sortedJson(b));
        const [a1, a2] = lanes(hasher, a);
        const [b1, b2] = lanes(hasher, b);
        return a1 !== b1 || a2 !== b2;
      }),
    );
    const distinct = [
      1,
      "1",
      true,
      "true",
      null,
      "null",
      [],
      {},
      [1, 2],
      [2, 1],
      { a: 1 },
      { a: "1" },
      { b: 1 },
      "a",
      "a\u0000",
      0.1,
      2 ** 53 + 2,
    ];
    const seen = new Set(distinct.map((v) => hashHex(...fresh(v))));
    expect(seen.size).toBe(distinct.length);
  });

  it("treats undefined fields as absent, non-finite numbers as null and -0 as 0, as JSON does", () => {
    expect(fresh({ a: 1, b: undefined })).toEqual(fresh({ a: 1 }));
    expect(fresh({ a: Number.NaN, b: Number.POSITIVE_INFINITY })).toEqual(fresh({ a: null, b: null }));
    expect(fresh([undefined])).toEqual(fresh([null]));
    expect(fresh({ a: -0 })).toEqual(fresh({ a: 0 }));
  });

  it("stays right when records change shape", () => {
    const hasher = new RecordHasher();
    const records = [
      { a: 1, b: 2 },
      { b: 2, a: 1 },
      { a: 1, b: 2, c: 3 },
      { a: 1 },
      { a: 1, b: 2 },
      { a: 1, b: undefined, c: 3 },
      {},
      { a: 1, b: 2 },
    ];
    for (const r of records) expect(lanes(hasher, r)).toEqual(fresh(r));
    const inherited = Object.create({ extra: 1 }) as Record<string, unknown>;
    inherited.a = 1;
    expect(lanes(hasher, inherited)).toEqual(fresh({ a: 1 }));
    expect(lanes(hasher, { b: 2, a: 1 })).toEqual(lanes(hasher, { a: 1, b: 2 }));
  });

  it("formats lanes as 16 hex digits", () => {
    expect(hashHex(0, 0xffffffff)).toBe("00000000ffffffff");
    expect(hashHex(0x1234, 1)).toBe("0000123400000001");
  });
});
