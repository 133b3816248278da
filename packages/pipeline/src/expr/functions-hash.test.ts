import { createHash } from "node:crypto";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { fnv1a64Hex, md5Hex, sha256Hex, stableHash53 } from "./hash";
import { run } from "./test-support";

describe("md5 (RFC 1321 test suite)", () => {
  it.each([
    ["", "d41d8cd98f00b204e9800998ecf8427e"],
    ["a", "0cc175b9c0f1b6a831c399e269772661"],
    ["abc", "900150983cd24fb0d6963f7d28e17f72"],
    ["message digest", "f96b697d7cb7938d525a2f31aaf161d0"],
    ["abcdefghijklmnopqrstuvwxyz", "c3fcd3d76192e4007dfb496cca67e13b"],
    ["ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789", "d174ab98d277d9f5a5611c2c9f419d9f"],
    [
      "12345678901234567890123456789012345678901234567890123456789012345678901234567890",
      "57edf4a22be3c955ac49da2e2107b67a",
    ],
  ])("md5(%j)", (text, hex) => {
    expect(md5Hex(text)).toBe(hex);
  });
});

describe("sha256 (FIPS 180-4 examples)", () => {
  it.each([
    ["", "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"],
    ["abc", "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"],
    [
      "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq",
      "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1",
    ],
    ["The quick brown fox jumps over the lazy dog", "d7a8fbb307d7809469ca9abcb0082e4f8d5651e46d3cdb762d02d0bf37c9e592"],
  ])("sha256(%j)", (text, hex) => {
    expect(sha256Hex(text)).toBe(hex);
  });

  it("agrees with node:crypto on any text, including every length around a block boundary", () => {
    for (let n = 50; n <= 130; n++) {
      const text = "a".repeat(n);
      expect(sha256Hex(text), `length ${n}`).toBe(createHash("sha256").update(text).digest("hex"));
      expect(md5Hex(text), `length ${n}`).toBe(createHash("md5").update(text).digest("hex"));
    }
    fc.assert(
      fc.property(fc.string({ unit: "binary", maxLength: 300 }), (text) => {
        expect(sha256Hex(text)).toBe(createHash("sha256").update(text, "utf8").digest("hex"));
        expect(md5Hex(text)).toBe(createHash("md5").update(text, "utf8").digest("hex"));
      }),
      { numRuns: 500 },
    );
  });
});

describe("hash (FNV-1a 64)", () => {
  it.each([
    ["", "cbf29ce484222325"],
    ["a", "af63dc4c8601ec8c"],
    ["foobar", "85944171f73967e8"],
  ])("fnv1a64(%j) = %s", (text, hex) => {
    expect(fnv1a64Hex(text)).toBe(hex);
  });

  it("keeps the low 53 bits as a non-negative safe integer", () => {
    const full = BigInt(`0x${fnv1a64Hex("foobar")}`);
    expect(stableHash53("foobar")).toBe(Number(full & ((1n << 53n) - 1n)));
    expect(Number.isSafeInteger(stableHash53("x".repeat(10_000)))).toBe(true);
  });

  it("hashes the UTF-8 bytes, matching TextEncoder for surrogate pairs and lone surrogates", () => {
    const bytesHash = (bytes: Uint8Array) => {
      let h = 0xcbf29ce484222325n;
      for (const b of bytes) h = ((h ^ BigInt(b)) * 0x100000001b3n) & 0xffffffffffffffffn;
      return h.toString(16).padStart(16, "0");
    };
    for (const text of ["héllo", "😀", "a\uD800b", "日本"]) {
      expect(fnv1a64Hex(text), text).toBe(bytesHash(new TextEncoder().encode(text)));
    }
  });
});

describe("hash functions in expressions", () => {
  it("hash the text form of any value", () => {
    expect(run("md5('abc')")).toBe("900150983cd24fb0d6963f7d28e17f72");
    expect(run("sha256(country)", { country: "abc" })).toBe(
      "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad",
    );
    expect(run("hash(amount)", { amount: 1 })).toBe(run("hash('1')"));
    expect(run("md5(ts)", { ts: 0 })).toBe(md5Hex("1970-01-01T00:00:00.000Z"));
    expect(run("hash(user) % 16", { user: "alice" }, { schema: { open: true, fields: [] } })).toBe(
      stableHash53("alice") % 16,
    );
    expect(run("hash(NULL)")).toBe(null);
  });
});
