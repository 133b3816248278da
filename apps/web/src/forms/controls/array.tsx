"use client";

import { UiIcon } from "../../components/ui-icons";
import { FieldRow } from "../field-row";
import { type Control, initialValue } from "../schema";
import type { GroupBodyProps } from "../scope";
import { type ConfigPath, capitalize, isLeaf, itemSummary, moveItem } from "../values";
import { ItemButtons, nounOf, useItemKeys, usePendingFocus } from "./item-tools";

function ArrayItem({
  name,
  which,
  control,
  path,
  value,
  onChange,
  buttons,
}: {
  name: string;
  which: string;
  control: Control;
  path: ConfigPath;
  value: unknown;
  onChange: (value: unknown) => void;
  buttons: Omit<Parameters<typeof ItemButtons>[0], "which">;
}) {
  const row = (
    <FieldRow
      spec={{ name: String(path.at(-1)), required: true, control }}
      path={path}
      value={value}
      onChange={onChange}
      label={capitalize(name)}
      hideLabel
    />
  );
  // A scalar item sits on one line with its buttons; a group gets a heading line with them.
  if (isLeaf(control)) {
    return (
      <>
        {row}
        <ItemButtons which={which} {...buttons} />
      </>
    );
  }
  return (
    <>
      <div className="cfg-item-head">
        <span className="cfg-item-title">{capitalize(name)}</span>
        <ItemButtons which={which} {...buttons} />
      </div>
      {row}
    </>
  );
}

/** A list of items, each with its control; add, remove and reorder within minItems/maxItems. */
export function ArrayControl({
  item,
  minItems,
  maxItems,
  path,
  value,
  onChange,
  label,
  required,
}: GroupBodyProps & { item: Control; minItems?: number | undefined; maxItems?: number | undefined }) {
  const items = Array.isArray(value) ? value : [];
  const keys = useItemKeys(items.length);
  const focus = usePendingFocus();
  const noun = nounOf(label, item);
  const min = minItems ?? 0;
  const full = maxItems !== undefined && items.length >= maxItems;
  // Emptying an optional list unsets it, whatever its minimum.
  const canRemove = items.length > min || (!required && items.length === 1);
  const commit = (next: unknown[]) => onChange(next.length === 0 && !required ? undefined : next);
  const add = () => {
    const key = keys.next++;
    keys.keys.push(key);
    focus.request({ item: key, target: "first" });
    commit([...items, initialValue(item)]);
  };
  const remove = (i: number) => {
    keys.keys.splice(i, 1);
    const neighbour = keys.keys[i] ?? keys.keys[i - 1];
    focus.request(neighbour === undefined ? { item: null, target: "add" } : { item: neighbour, target: "remove" });
    commit(items.filter((_, j) => j !== i));
  };
  const move = (i: number, by: -1 | 1) => {
    keys.keys = moveItem(keys.keys, i, i + by);
    const key = keys.keys[i + by];
    if (key !== undefined) focus.request({ item: key, target: by < 0 ? "up" : "down" });
    commit(moveItem(items, i, i + by));
  };
  const leaf = isLeaf(item);
  return (
    <div className="cfg-list">
      {items.length > 0 ? (
        <ol className="cfg-items" ref={focus.list}>
          {items.map((v, i) => {
            const name = `${noun} ${i + 1}`;
            const summary = itemSummary(v);
            const key = keys.keys[i] ?? -i - 1;
            return (
              <li key={key} data-item={key} className={leaf ? "cfg-item cfg-item-inline" : "cfg-item"}>
                <ArrayItem
                  name={name}
                  which={summary ? `${name} (${summary})` : name}
                  control={item}
                  path={[...path, i]}
                  value={v}
                  onChange={(next) => commit(items.map((x, j) => (j === i ? next : x)))}
                  buttons={{
                    index: i,
                    count: items.length,
                    canRemove,
                    onMove: (by) => move(i, by),
                    onRemove: () => remove(i),
                  }}
                />
              </li>
            );
          })}
        </ol>
      ) : (
        <p className="cfg-empty">None yet.</p>
      )}
      <button type="button" className="button button-small cfg-add" ref={focus.add} disabled={full} onClick={add}>
        <UiIcon name="plus" size={14} />
        Add {noun}
      </button>
      {full ? <p className="field-hint">At most {maxItems}.</p> : null}
    </div>
  );
}
