import { describe, expect, it } from "vitest";
import { LruCache } from "./lru-cache";

describe("LRU cache with time to live", () => {
  it("evicts the least recently used and forgets expired entries", () => {
    const cache = new LruCache<number>(2, 1000);
    cache.set("a", 1, 0);
    cache.set("b", 2, 0);
    expect(cache.get("a", 10)).toEqual({ value: 1 });
    cache.set("c", 3, 20);
    expect(cache.get("b", 30)).toBeUndefined();
    expect(cache.get("a", 999)).toEqual({ value: 1 });
    expect(cache.get("a", 1000)).toBeUndefined();
    expect(cache.get("c", 1019)).toEqual({ value: 3 });
    expect(cache.size).toBe(1);
    const off = new LruCache<number>(0, 1000);
    off.set("a", 1, 0);
    expect(off.get("a", 0)).toBeUndefined();
  });
});
