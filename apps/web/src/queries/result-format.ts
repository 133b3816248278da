// How the results grid and the run status show a query's answer.

/** Text past this many characters gets the whole value in a title (the cell clips it). */
const TITLE_FROM = 40;
/** A cell renders at most this much; a title at most TITLE_LIMIT. The grid has 100,000 rows to keep light. */
const CELL_LIMIT = 400;
const TITLE_LIMIT = 4000;

export interface CellText {
  text: string;
  /** The whole value, when the cell may clip it. */
  title?: string;
  isNull: boolean;
}

function clip(text: string, limit: number): string {
  return text.length > limit ? `${text.slice(0, limit)}…` : text;
}

/** A value from QueryResult.rows as a cell shows it: null as "null" (dimmed), JSON values as compact JSON. */
export function cellText(value: unknown): CellText {
  if (value === null || value === undefined) return { text: "null", isNull: true };
  const text = typeof value === "object" ? JSON.stringify(value) : String(value);
  if (text.length <= TITLE_FROM) return { text, isNull: false };
  return { text: clip(text, CELL_LIMIT), title: clip(text, TITLE_LIMIT), isNull: false };
}

const CHAR_PX = 7.6;
const CELL_PADDING_PX = 24;
const MIN_WIDTH_PX = 72;
const MAX_WIDTH_PX = 320;
/** Rows looked at to size the columns: enough to be representative, few enough to be instant. */
const SIZING_SAMPLE = 200;

/** Each column's width in pixels, from its name, its type and the values in the first rows. */
export function columnWidths(
  columns: readonly { name: string; type: string }[],
  rows: readonly (readonly unknown[])[],
): number[] {
  return columns.map((column, i) => {
    let chars = Math.max(column.name.length, column.type.length);
    for (const row of rows.slice(0, SIZING_SAMPLE)) chars = Math.max(chars, cellText(row[i]).text.length);
    return Math.round(Math.min(MAX_WIDTH_PX, Math.max(MIN_WIDTH_PX, chars * CHAR_PX + CELL_PADDING_PX)));
  });
}

const count = new Intl.NumberFormat("en-US");

function ms(value: number): string {
  return `${count.format(Math.round(value))} ms`;
}

/** "1,234 rows in 56 ms (engine 12 ms)". */
export function resultSummary(result: { rows: readonly unknown[]; elapsedMs: number; engineMs: number }): string {
  const n = result.rows.length;
  return `${count.format(n)} ${n === 1 ? "row" : "rows"} in ${ms(result.elapsedMs)} (engine ${ms(result.engineMs)})`;
}

/** "only the first 1,000 rows are shown", for a truncated result. */
export function truncationNote(rowCount: number): string {
  return `only the first ${count.format(rowCount)} rows are shown`;
}

/** "0.0 s", "12.3 s": a running query's time so far. */
export function formatElapsed(ms: number): string {
  return `${(Math.max(0, ms) / 1000).toFixed(1)} s`;
}
