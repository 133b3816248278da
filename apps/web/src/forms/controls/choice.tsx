"use client";

import type { LeafControlProps } from "../scope";
import { formatText } from "../values";

/** One of a fixed set of values (`enum`, a union of constants): a select whose blank entry names the default. */
export function ChoiceControl({ spec, id, value, describedBy, invalid, onChange }: LeafControlProps) {
  const c = spec.control;
  if (c.kind !== "enum") return null;
  const blank =
    c.defaultValue !== undefined ? `Default (${formatText(c.defaultValue)})` : spec.required ? "Choose…" : "None";
  return (
    <select
      id={id}
      className="input"
      value={value === undefined ? "" : JSON.stringify(value)}
      onChange={(e) => onChange(e.target.value === "" ? undefined : (JSON.parse(e.target.value) as unknown))}
      aria-describedby={describedBy}
      aria-invalid={invalid ? true : undefined}
    >
      <option value="">{blank}</option>
      {c.options.map((o) => (
        <option key={JSON.stringify(o)} value={JSON.stringify(o)}>
          {String(o)}
        </option>
      ))}
    </select>
  );
}
