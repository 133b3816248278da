import { describe, expect, it } from "vitest";
import { BatchBudget, estimateBytes } from "./batch-budget";

describe("BatchBudget", () => {
  it("starts small with a source of unknown record size, then sizes reads by what it saw", () => {
    const budget = new BatchBudget(1 << 20);
    expect(budget.recordsFor("s", 1000, 1, undefined)).toBe(16);
    budget.observe("s", [{ text: "x".repeat(100_000) }, { text: "y".repeat(100_000) }]);
    expect(budget.recordsFor("s", 1000, 1, undefined)).toBe(10);
    // Sources of a stage share the budget.
    expect(budget.recordsFor("s", 1000, 2, undefined)).toBe(5);
    // Never fewer than one record, however large.
    budget.observe("s", [{ text: "z".repeat(5_000_000) }]);
    expect(budget.recordsFor("s", 1000, 1, undefined)).toBe(1);
  });

  it("takes a source's own word until it has seen records, and never asks for more than the record count", () => {
    const budget = new BatchBudget(1 << 20);
    expect(budget.recordsFor("g", 1000, 1, 200_000)).toBe(5);
    expect(budget.recordsFor("g", 1000, 1, 50)).toBe(1000);
    budget.observe("g", [{ id: 1 }]);
    expect(budget.recordsFor("g", 300, 1, 200_000)).toBe(300);
  });

  it("reads fewer shuffle entries per upstream when entries are large", () => {
    const budget = new BatchBudget(1 << 20);
    expect(budget.entriesFor(40, 4)).toBe(4);
    // 100 records of about 1 KiB each: about 100 KiB an entry, so 1 MiB over 4 upstreams is 2 entries each.
    budget.observeEntry(Array.from({ length: 100 }, () => ({ text: "x".repeat(1000) })));
    expect(budget.entriesFor(40, 4)).toBe(2);
    expect(budget.entriesFor(40, 1)).toBe(10);
    budget.observeEntry([{ text: "x".repeat(2_000_000) }]);
    expect(budget.entriesFor(40, 1)).toBe(1);
  });

  it("estimates nested values without walking past the cap", () => {
    expect(estimateBytes({ a: "abc", b: [1, 2], c: null, d: true }, 1000)).toBe(
      2 + (1 + 4 + 5) + (1 + 4 + 2 + 2 + 16) + (1 + 4 + 4) + (1 + 4 + 5),
    );
    let deep: unknown = "leaf";
    for (let i = 0; i < 100_000; i++) deep = [deep];
    expect(estimateBytes(deep, 1 << 30)).toBeGreaterThan(100_000);
    expect(estimateBytes({ big: "x".repeat(10_000), more: "y".repeat(10_000) }, 100)).toBeLessThan(20_000);
  });
});
