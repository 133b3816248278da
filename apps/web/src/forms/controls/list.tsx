"use client";

import { DraftInput, type ParseResult } from "../draft-input";
import type { LeafControlProps } from "../scope";
import { formatText } from "../values";

// A list of plain strings, typed on one line separated by commas (`user_id, country`).

const formatList = (v: unknown) => (Array.isArray(v) ? v.map(String).join(", ") : formatText(v));

function parseList(required: boolean) {
  return (text: string): ParseResult => {
    const items = text
      .split(",")
      .map((s) => s.trim())
      .filter((s) => s.length > 0);
    return { ok: true, value: items.length === 0 && !required ? undefined : items };
  };
}

export function ListControl({ spec, id, value, describedBy, invalid, onChange }: LeafControlProps) {
  return (
    <DraftInput
      id={id}
      value={value}
      format={formatList}
      parse={parseList(spec.required)}
      onCommit={onChange}
      placeholder={spec.control.placeholder ?? "Comma-separated, e.g. user_id, country"}
      describedBy={describedBy}
      invalid={invalid}
    />
  );
}
