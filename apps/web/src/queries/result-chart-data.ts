// A query result drawn as a chart: the x column and y columns a user picks, shaped into uPlot's aligned columns.
// Time x values (ISO strings) become epoch seconds and numbers stay numbers, sorted ascending as uPlot needs;
// any other x (a category: a shop, a country) is drawn at 0, 1, 2, … in the result's order, with its text as
// the tick label. Y values that are not numbers (null, text) leave a gap.

export type ChartKind = "line" | "area" | "bar" | "scatter" | "number";

export interface ResultColumn {
  name: string;
  kind: string;
}

export interface ChartPick {
  kind: ChartKind;
  /** Index of the x column. */
  x: number;
  /** Indexes of the y columns. */
  y: readonly number[];
}

/**
 * A pick with its columns by name, as a saved query keeps it: it still fits when the query's columns come back in
 * another order.
 */
export interface NamedChartPick {
  kind: ChartKind;
  x: string;
  y: readonly string[];
}

export interface ChartSeries {
  /** uPlot's aligned data: x first, then one column per y. */
  data: [number[], ...(number | null)[][]];
  labels: string[];
  /** "time": x is epoch seconds; "number": plain numbers; "category": indexes into `categories`. */
  xKind: "time" | "number" | "category";
  categories: string[];
  /** Rows left out because their x could not be read (a null, a time that is not one). */
  skipped: number;
}

/** A cell as a number, when it is one (decimals and big integers come as numeric strings). */
export function numeric(value: unknown): number | null {
  if (typeof value === "number") return Number.isFinite(value) ? value : null;
  if (typeof value === "string" && value.trim() !== "" && /^[-+]?(\d+\.?\d*|\.\d+)(e[-+]?\d+)?$/i.test(value.trim())) {
    return Number(value);
  }
  if (typeof value === "boolean") return value ? 1 : 0;
  return null;
}

/** The columns a chart can put on its y axis: numbers, and booleans as 0/1. */
export function numericColumns(columns: readonly ResultColumn[]): number[] {
  return columns.flatMap((c, i) => (c.kind === "number" || c.kind === "boolean" ? [i] : []));
}

/**
 * A first chart for a result: a time column on x if there is one, else the first non-numeric column, else the
 * first column; every other numeric column on y. Null when there is nothing numeric to draw.
 */
export function suggestChart(columns: readonly ResultColumn[], rowCount: number): ChartPick | null {
  const ys = numericColumns(columns);
  if (ys.length === 0) return null;
  if (rowCount === 1 && columns.length === 1) return { kind: "number", x: 0, y: [0] };
  const time = columns.findIndex((c) => c.kind === "time");
  const category = columns.findIndex((c) => c.kind !== "number" && c.kind !== "boolean");
  const x = time >= 0 ? time : Math.max(category, 0);
  const y = ys.filter((i) => i !== x);
  if (y.length === 0) return null;
  return { kind: time >= 0 ? "line" : category >= 0 ? "bar" : "scatter", x, y };
}

/** A pick as names, for saving. */
export function namePick(columns: readonly ResultColumn[], pick: ChartPick): NamedChartPick | null {
  const x = columns[pick.x]?.name;
  if (x === undefined) return null;
  return { kind: pick.kind, x, y: pick.y.flatMap((i) => columns[i]?.name ?? []) };
}

/**
 * A saved pick on a result: its columns found by name; y columns the result no longer has (or no longer numeric)
 * are left out. Null when the x column is gone, or no y column is left: the caller then starts from a suggestion.
 */
export function indexPick(columns: readonly ResultColumn[], named: NamedChartPick): ChartPick | null {
  const numericOnes = new Set(numericColumns(columns));
  const x = columns.findIndex((c) => c.name === named.x);
  const y = named.y
    .map((name) => columns.findIndex((c) => c.name === name))
    .filter((i) => i >= 0 && numericOnes.has(i))
    .sort((a, b) => a - b);
  if (x < 0 || y.length === 0) return null;
  return { kind: named.kind, x, y: named.kind === "number" ? y.slice(0, 1) : y };
}

export function chartSeries(
  columns: readonly ResultColumn[],
  rows: readonly (readonly unknown[])[],
  pick: Pick<ChartPick, "x" | "y">,
): ChartSeries {
  const xColumn = columns[pick.x];
  const labels = pick.y.map((i) => columns[i]?.name ?? `column ${i + 1}`);
  const xKind: ChartSeries["xKind"] =
    xColumn?.kind === "time" ? "time" : xColumn?.kind === "number" ? "number" : "category";
  let skipped = 0;
  const points: { x: number; row: readonly unknown[] }[] = [];
  const categories: string[] = [];
  for (const row of rows) {
    const raw = row[pick.x];
    let x: number | null;
    if (xKind === "time") {
      const ms = typeof raw === "string" || typeof raw === "number" ? Date.parse(String(raw)) : Number.NaN;
      x = Number.isNaN(ms) ? null : ms / 1000;
    } else if (xKind === "number") {
      x = numeric(raw);
    } else {
      categories.push(raw === null || raw === undefined ? "null" : typeof raw === "string" ? raw : JSON.stringify(raw));
      x = categories.length - 1;
    }
    if (x === null) {
      skipped++;
      continue;
    }
    points.push({ x, row });
  }
  if (xKind !== "category") points.sort((a, b) => a.x - b.x);
  return {
    data: [points.map((p) => p.x), ...pick.y.map((i) => points.map((p) => numeric(p.row[i])))],
    labels,
    xKind,
    categories,
    skipped,
  };
}
