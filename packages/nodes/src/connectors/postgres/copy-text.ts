// Rows in the text format of PostgreSQL's COPY: tab-separated, one row per line, \N for NULL, and backslash,
// tab, newline and carriage return escaped in values. Pure.

const SPECIAL = /[\\\t\n\r]/;

function copyEscape(value: string): string {
  if (!SPECIAL.test(value)) return value;
  let out = "";
  for (let i = 0; i < value.length; i++) {
    const ch = value[i];
    if (ch === "\\") out += "\\\\";
    else if (ch === "\t") out += "\\t";
    else if (ch === "\n") out += "\\n";
    else if (ch === "\r") out += "\\r";
    else out += ch;
  }
  return out;
}

/** One row as a COPY text line (with its newline). */
export function copyLine(values: readonly (string | null)[]): string {
  let line = "";
  for (let i = 0; i < values.length; i++) {
    if (i > 0) line += "\t";
    const v = values[i];
    line += v === null || v === undefined ? "\\N" : copyEscape(v);
  }
  return `${line}\n`;
}
