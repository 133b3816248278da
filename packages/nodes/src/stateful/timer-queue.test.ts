import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { TimerQueue } from "./timer-queue";

describe("TimerQueue", () => {
  it("hands out due timers by time, then key, whatever order they were set in", () => {
    const q = new TimerQueue();
    q.add(20, "b");
    q.add(10, "z");
    q.add(20, "a");
    q.add(30, "c");
    q.add(10, "z");
    expect(q.size).toBe(4);
    const fired: string[] = [];
    q.drain(20, (time, key) => fired.push(`${time}:${key}`));
    expect(fired).toEqual(["10:z", "20:a", "20:b"]);
    expect(q.peek()).toBe(30);
    expect(q.takeDue(30, true)).toBeUndefined();
    expect(q.takeDue(30)).toEqual({ time: 30, keys: ["c"] });
    expect(q.size).toBe(0);
  });

  it("forgets deleted timers, also when a time is set again later", () => {
    const q = new TimerQueue();
    q.add(5, "a");
    q.delete(5, "a");
    expect(q.peek()).toBeUndefined();
    q.add(5, "b");
    q.delete(5, "nothing");
    expect(q.has(5, "b")).toBe(true);
    expect(q.takeDue(5)).toEqual({ time: 5, keys: ["b"] });
    expect(q.takeDue(Number.POSITIVE_INFINITY)).toBeUndefined();
  });

  it("stays correct when timers keep moving (stale times are compacted away)", () => {
    const q = new TimerQueue();
    for (let i = 5000; i > 0; i--) {
      q.add(i, "session");
      if (i % 7 !== 0) q.delete(i, "session");
    }
    const fired: number[] = [];
    q.drain(Number.POSITIVE_INFINITY, (time) => fired.push(time));
    expect(fired).toEqual(Array.from({ length: 714 }, (_, i) => (i + 1) * 7));
  });

  it("sees timers added while draining", () => {
    const q = new TimerQueue();
    q.add(1, "a");
    const fired: number[] = [];
    q.drain(10, (time) => {
      fired.push(time);
      if (time < 8) q.add(time + 3, "a");
    });
    expect(fired).toEqual([1, 4, 7, 10]);
  });

  it("behaves like a sorted list under any mix of adds and deletes, including many moved timers", () => {
    const op = fc.oneof(
      fc.record({ add: fc.integer({ min: 0, max: 3000 }), key: fc.integer({ min: 0, max: 5 }) }),
      fc.record({ del: fc.integer({ min: 0, max: 3000 }), key: fc.integer({ min: 0, max: 5 }) }),
      fc.record({ take: fc.integer({ min: 0, max: 3000 }) }),
    );
    fc.assert(
      fc.property(fc.array(op, { maxLength: 3000 }), (ops) => {
        const q = new TimerQueue();
        const model = new Set<string>();
        for (const o of ops) {
          if ("add" in o) {
            q.add(o.add, String(o.key));
            model.add(`${o.add}/${o.key}`);
          } else if ("del" in o) {
            q.delete(o.del, String(o.key));
            model.delete(`${o.del}/${o.key}`);
          } else {
            const got: string[] = [];
            q.drain(o.take, (time, key) => got.push(`${time}/${key}`));
            const want = [...model]
              .map((m) => m.split("/").map(Number) as [number, number])
              .filter(([time]) => time <= o.take)
              .sort((a, b) => a[0] - b[0] || String(a[1]).localeCompare(String(b[1])))
              .map(([time, key]) => `${time}/${key}`);
            for (const w of want) model.delete(w);
            expect(got).toEqual(want);
          }
          expect(q.size).toBe(model.size);
        }
      }),
      { numRuns: 50 },
    );
  });
});
