import { describe, expect, it } from "vitest";
import { planChanges } from "./change-apply";

const ins = (after: Record<string, unknown>) => ({ op: "insert", before: null, after });
const upd = (after: Record<string, unknown>, before: Record<string, unknown> | null = null) => ({
  op: "update",
  before,
  after,
});
const del = (before: Record<string, unknown>) => ({ op: "delete", before, after: null });

/** Applies changes one by one to a map: what the reduced plan must be equivalent to. */
function applySequentially(records: Record<string, unknown>[], table: Map<number, Record<string, unknown>>) {
  for (const r of records) {
    if (r.op === "truncate") table.clear();
    else if (r.op === "delete") table.delete((r.before as { id: number }).id);
    else {
      const after = r.after as Record<string, unknown> & { id: number };
      const before = r.before as { id: number } | null;
      if (before && before.id !== after.id) table.delete(before.id);
      table.set(after.id, r.op === "update" ? { ...table.get(after.id), ...after } : after);
    }
  }
}

function applyPlan(records: Record<string, unknown>[], table: Map<number, Record<string, unknown>>) {
  const plan = planChanges(records, ["id"]);
  if (plan.truncate) table.clear();
  for (const a of plan.actions) {
    const id = a.row.id as number;
    if (a.kind === "delete") table.delete(id);
    else table.set(id, { ...table.get(id), ...a.row });
  }
  return plan;
}

describe("reducing change records to one action per key", () => {
  it("ends where applying every change in order ends, including key changes, TOAST gaps and truncates", () => {
    const start = () =>
      new Map<number, Record<string, unknown>>([
        [1, { id: 1, v: "a", big: "B1" }],
        [2, { id: 2, v: "b", big: "B2" }],
      ]);
    const batches: Record<string, unknown>[][] = [
      [ins({ id: 3, v: "c", big: "B3" }), upd({ id: 3, v: "c2" }), upd({ id: 1, v: "a2" })],
      [upd({ id: 5, v: "moved", big: "X" }, { id: 2 }), del({ id: 1 }), ins({ id: 1, v: "again", big: "Y" })],
      [ins({ id: 7, v: "x" }), { op: "truncate", before: null, after: null }, ins({ id: 8, v: "y" }), del({ id: 8 })],
      [del({ id: 9 }), upd({ id: 2, v: "b3" }), upd({ id: 2, v: "b4" })],
    ];
    for (const batch of batches) {
      const expected = start();
      applySequentially(batch, expected);
      const actual = start();
      const plan = applyPlan(batch, actual);
      expect(plan.invalid).toEqual([]);
      expect([...actual.entries()].sort()).toEqual([...expected.entries()].sort());
    }
  });

  it("keeps the later change's record as the one responsible, and lists unusable records", () => {
    const plan = planChanges(
      [ins({ id: 1 }), upd({ id: 1, v: 2 }), { op: "merge" }, del({ name: "x" }), ins({ v: 1 }), { op: "update" }],
      ["id"],
    );
    expect(plan.actions).toEqual([{ kind: "upsert", row: { id: 1, v: 2 }, index: 1 }]);
    expect(plan.invalid.map((i) => i.index)).toEqual([2, 3, 4, 5]);
    expect(plan.invalid[1]!.error).toMatch(/REPLICA IDENTITY FULL/);
  });
});
