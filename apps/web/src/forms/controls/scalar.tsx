"use client";

import { DraftInput, type ParseResult } from "../draft-input";
import type { ScalarType } from "../schema";
import type { LeafControlProps } from "../scope";
import { formatText } from "../values";
import { NUMBER_RE } from "./number";

/** A value of one of several scalar types (`string | number`): the text is read as the first type it fits. */
export function parseScalar(required: boolean, accepts: readonly ScalarType[]) {
  return (text: string): ParseResult => {
    const t = text.trim();
    if (t === "") return { ok: true, value: required && accepts.includes("string") ? "" : undefined };
    if ((accepts.includes("number") || accepts.includes("integer")) && NUMBER_RE.test(t)) {
      const n = Number(t);
      if (accepts.includes("number") || Number.isInteger(n)) return { ok: true, value: n };
    }
    if (accepts.includes("boolean") && (t === "true" || t === "false")) return { ok: true, value: t === "true" };
    if (accepts.includes("string")) return { ok: true, value: text };
    const names = accepts.map((a) => (a === "integer" ? "a whole number" : `a ${a}`));
    return { ok: false, error: `Enter ${names.join(" or ")}.` };
  };
}

export function ScalarControl({ spec, id, value, describedBy, invalid, onChange }: LeafControlProps) {
  const c = spec.control;
  if (c.kind !== "scalar") return null;
  return (
    <DraftInput
      id={id}
      value={value}
      format={formatText}
      parse={parseScalar(spec.required, c.accepts)}
      onCommit={onChange}
      placeholder={c.placeholder}
      describedBy={describedBy}
      invalid={invalid}
    />
  );
}
