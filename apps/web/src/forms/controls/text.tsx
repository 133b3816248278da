"use client";

import type { LeafControlProps } from "../scope";
import { formatText } from "../values";

/** Plain text: one line, several (`widget: "textarea"`) or code (`widget: "code"`). Empty and optional = unset. */
export function TextControl({
  spec,
  id,
  value,
  describedBy,
  invalid,
  onChange,
  multiline = false,
  monospace = false,
}: LeafControlProps & { multiline?: boolean; monospace?: boolean }) {
  const c = spec.control;
  const text = formatText(value);
  const commit = (t: string) => onChange(t === "" && !spec.required ? undefined : t);
  const aria = { "aria-describedby": describedBy, "aria-invalid": invalid ? true : undefined };
  return multiline ? (
    <textarea
      id={id}
      className={monospace ? "input input-code" : "input"}
      rows={monospace ? 3 : 4}
      value={text}
      placeholder={c.placeholder}
      spellCheck={!monospace}
      onChange={(e) => commit(e.target.value)}
      {...aria}
    />
  ) : (
    <input
      id={id}
      type="text"
      className={monospace ? "input input-code" : "input"}
      value={text}
      placeholder={c.placeholder}
      autoComplete="off"
      spellCheck={monospace ? false : undefined}
      onChange={(e) => commit(e.target.value)}
      {...aria}
    />
  );
}
