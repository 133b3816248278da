// Hard bounds on what one expression may cost. Checked at compile time (code `limit`) so a hostile or
// accidental expression cannot exhaust memory or the stack of the editor, the API or a worker.
export const EXPR_LIMITS = {
  /** UTF-8 bytes of expression text. */
  maxSourceBytes: 64 * 1024,
  /** Nesting depth of the syntax tree (parentheses, operators, calls). */
  maxDepth: 256,
  /** Syntax-tree nodes. */
  maxNodes: 10_000,
  /** UTF-8 bytes of one string literal or string parameter value. */
  maxStringBytes: 1024 * 1024,
  /** Items in one `IN (...)` list. */
  maxInItems: 10_000,
  /** Characters of a regular expression written in the expression. */
  maxPatternLength: 1_000,
  /** Characters of a regular expression or LIKE pattern that comes from data at run time. */
  maxDataPatternLength: 256,
  /** Characters a single string function (lpad, rpad, repeat, concat of those) may produce. */
  maxStringResult: 1024 * 1024,
} as const;

/** UTF-8 length without allocating (TextEncoder would copy the whole string). */
export function utf8Length(text: string): number {
  let bytes = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c < 0x80) bytes += 1;
    else if (c < 0x800) bytes += 2;
    else if (c >= 0xd800 && c <= 0xdbff && i + 1 < text.length) {
      const d = text.charCodeAt(i + 1);
      if (d >= 0xdc00 && d <= 0xdfff) {
        bytes += 4;
        i++;
      } else bytes += 3;
    } else bytes += 3;
  }
  return bytes;
}
