"use client";

import { DraftInput, type ParseResult } from "../draft-input";
import type { LeafControlProps } from "../scope";
import { formatText } from "../values";

export const NUMBER_RE = /^[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?$/;

/** The number typed, within the schema's bounds; a half-typed one stays in the input with what is wrong. */
export function parseNumber(required: boolean, integer: boolean, min?: number, max?: number) {
  return (text: string): ParseResult => {
    const t = text.trim();
    if (t === "") return required ? { ok: false, error: "Enter a number." } : { ok: true, value: undefined };
    const wrong = integer ? "Enter a whole number." : "Enter a number.";
    if (!NUMBER_RE.test(t)) return { ok: false, error: wrong };
    const n = Number(t);
    if (!Number.isFinite(n)) return { ok: false, error: "Enter a finite number." };
    if (integer && !Number.isInteger(n)) return { ok: false, error: wrong };
    if (min !== undefined && n < min) return { ok: false, error: `Enter ${min} or more.` };
    if (max !== undefined && n > max) return { ok: false, error: `Enter ${max} or less.` };
    return { ok: true, value: n };
  };
}

export function NumberControl({ spec, id, value, describedBy, invalid, onChange }: LeafControlProps) {
  const c = spec.control;
  if (c.kind !== "number") return null;
  return (
    <DraftInput
      id={id}
      value={value}
      format={formatText}
      parse={parseNumber(spec.required, c.integer, c.min, c.max)}
      onCommit={onChange}
      placeholder={c.placeholder}
      describedBy={describedBy}
      invalid={invalid}
      inputMode={c.integer ? "numeric" : "decimal"}
    />
  );
}
