"use client";

import { FieldRow } from "../field-row";
import type { FieldSpec } from "../schema";
import type { GroupBodyProps } from "../scope";
import { isRecord } from "../values";

function withKey(object: Record<string, unknown>, key: string, value: unknown): Record<string, unknown> {
  const next = { ...object };
  if (value === undefined) delete next[key];
  else next[key] = value;
  return next;
}

/** An object's fields, each in its own row. */
export function ObjectControl({ fields, path, value, onChange, hidden }: GroupBodyProps & { fields: FieldSpec[] }) {
  const object = isRecord(value) ? value : {};
  return (
    <div className="cfg-fields">
      {fields
        .filter((f) => !hidden?.has(f.name))
        .map((f) => (
          <FieldRow
            key={f.name}
            spec={f}
            path={[...path, f.name]}
            value={object[f.name]}
            onChange={(v) => onChange(withKey(object, f.name, v))}
          />
        ))}
    </div>
  );
}
