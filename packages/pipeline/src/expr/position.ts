import type { SourcePosition } from "../issues";

/** Half-open range of UTF-16 offsets into the expression text. Cheap to carry on every syntax node. */
export interface Span {
  start: number;
  end: number;
}

export function span(start: number, end: number): Span {
  return { start, end };
}

/** Turns offsets into line/column only when something is reported, so parsing never pays for it. */
export function toPosition(source: string, range: Span): SourcePosition {
  let line = 1;
  let lineStart = 0;
  const stop = Math.min(range.start, source.length);
  for (let i = 0; i < stop; i++) {
    if (source.charCodeAt(i) === 10) {
      line++;
      lineStart = i + 1;
    }
  }
  return {
    offset: range.start,
    line,
    column: range.start - lineStart + 1,
    length: Math.max(0, range.end - range.start),
  };
}
