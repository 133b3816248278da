// A query result as CSV (RFC 4180), built in the browser from the rows already on screen.

/** A field's text: null as an empty field, JSON values as compact JSON, everything else as it reads. */
function fieldText(value: unknown): string {
  if (value === null || value === undefined) return "";
  if (typeof value === "object") return JSON.stringify(value);
  return String(value);
}

/** Quoted when it holds a comma, a double quote or a line break; a double quote inside is doubled. */
function csvField(value: unknown): string {
  const text = fieldText(value);
  return /[",\r\n]/.test(text) ? `"${text.replaceAll('"', '""')}"` : text;
}

/** A header line of column names, then one line per row; lines end with CRLF, as RFC 4180 says. */
export function toCsv(columns: readonly { name: string }[], rows: readonly (readonly unknown[])[]): string {
  const lines = [columns.map((c) => csvField(c.name)).join(",")];
  for (const row of rows) lines.push(columns.map((_, i) => csvField(row[i])).join(","));
  return `${lines.join("\r\n")}\r\n`;
}
