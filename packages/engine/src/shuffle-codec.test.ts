import { Packr } from "msgpackr";
import { describe, expect, it } from "vitest";
import { decodeEntry, encodeEntry, type ShuffleEntry } from "./shuffle-codec";

const entry = (records: ShuffleEntry["records"]): ShuffleEntry => ({
  watermark: 1_436_918_400_000,
  idle: false,
  end: false,
  stopGeneration: 0,
  records,
});

describe("shuffle entries", () => {
  it("decode to the records they were made of, whatever their shapes", () => {
    const records = [
      { auction: 1, price: 10.5, channel: "Google", nested: { a: [1, "x", null] } },
      { auction: 2, price: 11, channel: "Apple", nested: { a: [] } },
      { other: true, n: null },
      {},
      ...Array.from({ length: 100 }, (_, i) => ({ [`k${i}`]: i, z: "é" })),
    ];
    const back = decodeEntry(encodeEntry(entry(records)));
    expect(back.records).toEqual(records);
    expect(back.watermark).toBe(1_436_918_400_000);
  });

  it("each decode alone, in any order: no structure is shared between entries", () => {
    const a = encodeEntry(entry([{ x: 1, y: "a" }]));
    const b = encodeEntry(entry([{ p: 1 }, { x: 2, y: "b" }]));
    expect(decodeEntry(b).records).toEqual([{ p: 1 }, { x: 2, y: "b" }]);
    expect(decodeEntry(a).records).toEqual([{ x: 1, y: "a" }]);
  });

  it("keep the markers and an unset watermark", () => {
    const back = decodeEntry(
      encodeEntry({ watermark: Number.NEGATIVE_INFINITY, idle: true, end: true, stopGeneration: 3, records: [] }),
    );
    expect(back).toEqual({
      watermark: Number.NEGATIVE_INFINITY,
      idle: true,
      end: true,
      stopGeneration: 3,
      records: [],
    });
  });

  it("written as plain maps by an earlier version, still decode", () => {
    const plain = new Packr({ useRecords: false, moreTypes: false, mapsAsObjects: true });
    const old = plain.pack([5, 0, 1, 0, [{ a: 1 }, { a: 2, b: "x" }]]);
    expect(decodeEntry(old)).toEqual({
      watermark: 5,
      idle: false,
      end: true,
      stopGeneration: 0,
      records: [{ a: 1 }, { a: 2, b: "x" }],
    });
  });
});
