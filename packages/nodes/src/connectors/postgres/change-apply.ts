import type { DataRecord } from "@sluice/pipeline/record-schema";
import type { ChangeRecord } from "./change-record";

// What a batch of change records does to a table with key columns `key`, reduced to one final action per key: the
// table ends as if every change had been applied one by one, in order. A key's last change decides — a delete
// removes the row; an insert or update writes the row (an update's missing columns come from an earlier change
// of the same key in the batch, or are left as they are in the table). An update that changes the key deletes
// the old key. A truncate drops everything before it. Applying the result twice changes nothing more: idempotent.
// Pure.

export interface KeyedAction {
  kind: "upsert" | "delete";
  /** upsert: the row to write (possibly without some columns); delete: the key columns. */
  row: Record<string, unknown>;
  /** The record (index in the batch) whose change decided this action, for error reports. */
  index: number;
}

export interface ChangePlan {
  /** Delete every row first: the batch holds a truncate. */
  truncate: boolean;
  actions: KeyedAction[];
  /** Records that are not usable change records, with why. */
  invalid: { index: number; error: string }[];
}

function isRow(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === "object" && !Array.isArray(value);
}

function keyOf(
  row: Record<string, unknown>,
  key: readonly string[],
): { text: string; values: Record<string, unknown> } | string {
  const values: Record<string, unknown> = {};
  for (const k of key) {
    const v = Object.hasOwn(row, k) ? row[k] : undefined;
    if (v === undefined || v === null) return `has no value for key column "${k}"`;
    values[k] = v;
  }
  return { text: JSON.stringify(key.map((k) => values[k])), values };
}

export function planChanges(records: readonly DataRecord[], key: readonly string[]): ChangePlan {
  const byKey = new Map<string, KeyedAction>();
  const invalid: ChangePlan["invalid"] = [];
  let truncate = false;
  for (let index = 0; index < records.length; index++) {
    const r = records[index]! as Partial<ChangeRecord>;
    const op = r.op;
    if (op === "truncate") {
      truncate = true;
      byKey.clear();
      continue;
    }
    if (op === "insert" || op === "update") {
      if (!isRow(r.after)) {
        invalid.push({ index, error: `an ${op} change needs the new row in "after"` });
        continue;
      }
      const k = keyOf(r.after, key);
      if (typeof k === "string") {
        invalid.push({ index, error: `the new row ${k}` });
        continue;
      }
      if (op === "update" && isRow(r.before)) {
        const old = keyOf(r.before, key);
        if (typeof old !== "string" && old.text !== k.text) {
          byKey.delete(old.text);
          byKey.set(old.text, { kind: "delete", row: old.values, index });
        }
      }
      const prev = byKey.get(k.text);
      const row = op === "update" && prev?.kind === "upsert" ? { ...prev.row, ...r.after } : r.after;
      byKey.delete(k.text);
      byKey.set(k.text, { kind: "upsert", row, index });
      continue;
    }
    if (op === "delete") {
      const old = isRow(r.before) ? keyOf(r.before, key) : 'has no old key in "before"';
      if (typeof old === "string") {
        invalid.push({
          index,
          error: `a delete change ${old} (the source table's replica identity must include the key; REPLICA IDENTITY FULL gives the whole row)`,
        });
        continue;
      }
      byKey.delete(old.text);
      byKey.set(old.text, { kind: "delete", row: old.values, index });
      continue;
    }
    invalid.push({
      index,
      error: `not a change record: op is ${JSON.stringify(op ?? null)}, not insert, update, delete or truncate`,
    });
  }
  return { truncate, actions: [...byKey.values()], invalid };
}
