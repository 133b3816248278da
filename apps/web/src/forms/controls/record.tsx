"use client";

import { useRef, useState } from "react";
import { UiIcon } from "../../components/ui-icons";
import { FieldRow } from "../field-row";
import { commitRows, type RecordRow, rowProblems, rowsFromRecord } from "../record-rows";
import { type Control, initialValue } from "../schema";
import { type GroupBodyProps, useFormScope } from "../scope";
import { capitalize, isLeaf, moveItem, sameJson } from "../values";
import { ItemButtons, nounOf, usePendingFocus } from "./item-tools";

/** A map of name → value: a name input and the value's control per row; names are checked before they count. */
export function RecordControl({
  valueControl,
  path,
  value,
  onChange,
  label,
  required,
}: GroupBodyProps & { valueControl: Control }) {
  const scope = useFormScope();
  const noun = nounOf(label);
  const ids = useRef(0);
  const nextId = () => ++ids.current;
  const [state, setState] = useState(() => ({ rows: rowsFromRecord(value, nextId), seen: value }));
  const focus = usePendingFocus();
  let rows = state.rows;
  if (!sameJson(state.seen, value)) {
    // Changed elsewhere (undo, the JSON editor): start again from the stored object.
    rows = rowsFromRecord(value, nextId, state.rows);
    setState({ rows, seen: value });
  }
  const problems = rowProblems(rows, noun);
  const update = (next: RecordRow[]) => {
    const result = commitRows(next, rowProblems(next, noun));
    const stored = Object.keys(result.value).length === 0 && !required ? undefined : result.value;
    setState({ rows: result.rows, seen: stored });
    if (!sameJson(stored, value)) onChange(stored);
  };
  const patch = (id: number, change: Partial<RecordRow>) =>
    update(rows.map((r) => (r.id === id ? { ...r, ...change } : r)));
  const add = () => {
    const id = nextId();
    focus.request({ item: id, target: "first" });
    update([...rows, { id, key: "", value: initialValue(valueControl), accepted: null }]);
  };
  const remove = (i: number) => {
    const neighbour = rows[i + 1] ?? rows[i - 1];
    focus.request(neighbour === undefined ? { item: null, target: "add" } : { item: neighbour.id, target: "remove" });
    update(rows.filter((_, j) => j !== i));
  };
  const move = (i: number, by: -1 | 1) => {
    const row = rows[i];
    if (row) focus.request({ item: row.id, target: by < 0 ? "up" : "down" });
    update(moveItem(rows, i, i + by));
  };
  const leaf = isLeaf(valueControl);
  const base = scope.idFor(path);
  return (
    <div className="cfg-list">
      {rows.length > 0 ? (
        <ol className="cfg-items" ref={focus.list}>
          {rows.map((row, i) => {
            const name = `${noun} ${i + 1}`;
            const which = row.key.trim() ? `${name} (${row.key})` : name;
            const problem = problems[i] ?? null;
            const problemId = problem ? `${base}~name-${row.id}-error` : undefined;
            return (
              <li key={row.id} data-item={row.id} className="cfg-item">
                <div className="cfg-item-head">
                  <input
                    id={`${base}~name-${row.id}`}
                    type="text"
                    className="input cfg-key"
                    aria-label={`${capitalize(name)} name`}
                    placeholder="name"
                    value={row.key}
                    autoComplete="off"
                    spellCheck={false}
                    aria-invalid={problem ? true : undefined}
                    aria-describedby={problemId}
                    onChange={(e) => patch(row.id, { key: e.target.value })}
                  />
                  <ItemButtons
                    which={which}
                    index={i}
                    count={rows.length}
                    canRemove
                    onMove={(by) => move(i, by)}
                    onRemove={() => remove(i)}
                  />
                </div>
                {problem ? (
                  <p id={problemId} className="field-error">
                    {problem}
                  </p>
                ) : null}
                <FieldRow
                  spec={{ name: row.key, required: true, control: valueControl }}
                  path={[...path, row.accepted ?? `~${row.id}`]}
                  value={row.value}
                  onChange={(v) => patch(row.id, { value: v })}
                  label={leaf ? `${capitalize(name)} value` : capitalize(name)}
                  hideLabel
                />
              </li>
            );
          })}
        </ol>
      ) : (
        <p className="cfg-empty">None yet.</p>
      )}
      <button type="button" className="button button-small cfg-add" ref={focus.add} onClick={add}>
        <UiIcon name="plus" size={14} />
        Add {noun}
      </button>
    </div>
  );
}
