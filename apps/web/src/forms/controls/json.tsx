"use client";

import { DraftInput } from "../draft-input";
import { formatJson, parseJsonText } from "../values";

/** Any value as JSON text: what the form cannot break down, or a group the user chose to edit whole. */
export function JsonControl({
  id,
  value,
  required,
  wantObject = false,
  placeholder,
  describedBy,
  invalid,
  onChange,
  rows,
}: {
  id: string;
  value: unknown;
  required: boolean;
  /** The whole config: it must stay an object. */
  wantObject?: boolean;
  placeholder?: string | undefined;
  describedBy?: string | undefined;
  invalid: boolean;
  onChange: (value: unknown) => void;
  rows?: number;
}) {
  return (
    <DraftInput
      id={id}
      value={value}
      format={formatJson}
      parse={(text) => parseJsonText(text, required, wantObject)}
      onCommit={onChange}
      multiline
      rows={rows ?? Math.min(14, Math.max(4, formatJson(value).split("\n").length + 1))}
      className="input input-code"
      placeholder={placeholder}
      describedBy={describedBy}
      invalid={invalid}
    />
  );
}
