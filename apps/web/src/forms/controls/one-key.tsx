"use client";

import { FieldRow } from "../field-row";
import type { FieldSpec } from "../schema";
import { type GroupBodyProps, useFormScope } from "../scope";
import { isLeaf, isRecord, oneKeyChoice, switchOneKey } from "../values";

/** `{ tumble: 1m }` or `{ hop: { … } }`: a select for the key, then the chosen key's control. */
export function OneKeyControl({
  options,
  path,
  value,
  onChange,
  label,
  required,
}: GroupBodyProps & { options: FieldSpec[] }) {
  const scope = useFormScope();
  const choice = oneKeyChoice(options, value);
  const option = options.find((o) => o.name === choice);
  const inline = option !== undefined && isLeaf(option.control);
  const select = (
    <select
      id={`${scope.idFor(path)}~type`}
      className="input"
      aria-label={`${label} type`}
      value={choice ?? ""}
      onChange={(e) => onChange(switchOneKey(options, value, e.target.value === "" ? undefined : e.target.value))}
    >
      {choice === undefined || !required ? <option value="">{required ? "Choose…" : "None"}</option> : null}
      {options.map((o) => (
        <option key={o.name} value={o.name}>
          {o.control.label}
        </option>
      ))}
    </select>
  );
  const chosen = option ? (
    <FieldRow
      spec={{ ...option, required: true }}
      path={[...path, option.name]}
      value={isRecord(value) ? value[option.name] : undefined}
      onChange={(v) => onChange({ [option.name]: v })}
      label={option.control.label}
      hideLabel
    />
  ) : null;
  return inline ? (
    <div className="cfg-choice-row">
      {select}
      {chosen}
    </div>
  ) : (
    <div className="cfg-choice">
      {select}
      {chosen}
    </div>
  );
}
