"use client";

import type { LeafControlProps } from "../scope";

/** A checkbox; unset shows the default. */
export function BooleanControl({ spec, id, value, describedBy, invalid, onChange }: LeafControlProps) {
  return (
    <input
      id={id}
      type="checkbox"
      className="checkbox"
      checked={typeof value === "boolean" ? value : spec.control.defaultValue === true}
      onChange={(e) => onChange(e.target.checked)}
      aria-describedby={describedBy}
      aria-invalid={invalid ? true : undefined}
    />
  );
}
