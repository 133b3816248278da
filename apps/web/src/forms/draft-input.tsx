"use client";

import { type HTMLAttributes, useState } from "react";

export type ParseResult = { ok: true; value: unknown } | { ok: false; error: string };

interface DraftInputProps {
  id: string;
  value: unknown;
  format: (value: unknown) => string;
  parse: (text: string) => ParseResult;
  onCommit: (value: unknown) => void;
  multiline?: boolean;
  rows?: number;
  className?: string;
  placeholder?: string | undefined;
  describedBy?: string | undefined;
  invalid?: boolean;
  inputMode?: HTMLAttributes<HTMLInputElement>["inputMode"];
}

function same(a: unknown, b: unknown): boolean {
  return Object.is(a, b) || JSON.stringify(a) === JSON.stringify(b);
}

/**
 * An input whose text may be unfinished ("1e", "{ \"a\": "): the text is kept locally, and the value is committed
 * whenever the text parses. A parse error is shown under the input; a change of the value from elsewhere (undo,
 * another editor) replaces the text.
 */
export function DraftInput(props: DraftInputProps) {
  const {
    id,
    value,
    format,
    parse,
    onCommit,
    multiline,
    rows,
    className,
    placeholder,
    describedBy,
    invalid,
    inputMode,
  } = props;
  const [draft, setDraft] = useState(() => format(value));
  const [error, setError] = useState<string | null>(null);
  const [seen, setSeen] = useState(value);
  if (!same(seen, value)) {
    setSeen(value);
    const current = parse(draft);
    if (!(current.ok && same(current.value, value))) {
      setDraft(format(value));
      setError(null);
    }
  }
  const change = (text: string) => {
    setDraft(text);
    const result = parse(text);
    if (result.ok) {
      setError(null);
      setSeen(result.value);
      onCommit(result.value);
    } else setError(result.error);
  };
  const errorId = `${id}-parse-error`;
  const common = {
    id,
    className: className ?? "input",
    value: draft,
    placeholder,
    "aria-invalid": invalid || error !== null ? true : undefined,
    // Marks text that is not a value yet, so a form can refuse to submit over it (see `unfinishedInput`).
    "data-unfinished": error !== null ? true : undefined,
    "aria-describedby": [error ? errorId : null, describedBy].filter(Boolean).join(" ") || undefined,
    spellCheck: false,
  };
  return (
    <>
      {multiline ? (
        <textarea {...common} rows={rows ?? 4} onChange={(e) => change(e.target.value)} />
      ) : (
        <input
          {...common}
          type="text"
          inputMode={inputMode}
          autoComplete="off"
          onChange={(e) => change(e.target.value)}
        />
      )}
      {error ? (
        <p id={errorId} className="field-error">
          {error}
        </p>
      ) : null}
    </>
  );
}

/** The first input inside `root` whose text does not parse yet (its last good value is what the form holds). */
export function unfinishedInput(root: HTMLElement | null): HTMLElement | null {
  return root?.querySelector<HTMLElement>("[data-unfinished]") ?? null;
}
