import type { SourcePosition } from "@sluice/pipeline/issues";

/**
 * The line of `source` that `position` points into, with a caret line under the span, as compilers print it:
 *
 *     amont > 100
 *     ^^^^^
 *
 * Tabs before the span are kept so the carets line up; a span running past the end of its line is cut there,
 * and an empty span (e.g. at the end of the input) still gets one caret.
 */
export function caretExcerpt(source: string, position: SourcePosition, indent = "  "): string {
  const lines = source.split("\n");
  const text = (lines[position.line - 1] ?? "").replace(/\r$/, "");
  const start = Math.max(0, Math.min(position.column - 1, text.length));
  const width = Math.max(1, Math.min(position.length, text.length - start));
  const pad = text.slice(0, start).replace(/[^\t]/g, " ");
  return `${indent}${text}\n${indent}${pad}${"^".repeat(width)}`;
}
