"use client";

import "uplot/dist/uPlot.min.css";
import { useEffect, useId, useMemo, useRef, useState } from "react";
import type uPlot from "uplot";
import {
  type ChartKind,
  type ChartPick,
  type ChartSeries,
  chartSeries,
  numeric,
  numericColumns,
  type ResultColumn,
  suggestChart,
} from "./result-chart-data";

// A query result as a chart, with a picker for the kind, the x column and the y columns: line, area, bar, scatter
// (uPlot, loaded on first use) or a single number. The first pick is the one given (a saved query's) or a guess from
// the column kinds.

const COLORS = ["#4f46e5", "#0d9488", "#d97706", "#dc2626", "#2563eb", "#9333ea", "#64748b", "#059669"];
const HEIGHT = 320;
const KINDS: { value: ChartKind; label: string }[] = [
  { value: "line", label: "Line" },
  { value: "area", label: "Area" },
  { value: "bar", label: "Bar" },
  { value: "scatter", label: "Scatter" },
  { value: "number", label: "Single number" },
];

function formatValue(v: number | null | undefined): string {
  return v == null ? "—" : Number(v.toPrecision(6)).toLocaleString("en-US");
}

function plotOptions(series: ChartSeries, kind: ChartKind, width: number, UPlot: typeof uPlot): uPlot.Options {
  const category = series.xKind === "category";
  const paths = kind === "bar" ? UPlot.paths.bars?.({ size: [0.7, 80] }) : kind === "scatter" ? () => null : undefined;
  return {
    width,
    height: HEIGHT,
    scales: {
      x: { time: series.xKind === "time", ...(category ? { range: (_u, min, max) => [min - 0.5, max + 0.5] } : {}) },
    },
    legend: { live: true },
    axes: [
      category
        ? {
            values: (_u, splits) => splits.map((s) => (Number.isInteger(s) ? (series.categories[s] ?? "") : "")),
            gap: 6,
          }
        : {},
      { size: 70, values: (_u, splits) => splits.map((s) => formatValue(s)) },
    ],
    series: [
      {
        label: category ? "" : series.xKind === "time" ? "time" : "x",
        value: category ? (_u, v) => (v == null ? "—" : (series.categories[v] ?? "")) : undefined,
      },
      ...series.labels.map((label, i) => {
        const color = COLORS[i % COLORS.length]!;
        return {
          label,
          stroke: color,
          width: kind === "scatter" ? 0 : 1.5,
          fill: kind === "area" || kind === "bar" ? `${color}55` : undefined,
          paths,
          points: { show: kind === "scatter" ? true : undefined, size: kind === "scatter" ? 6 : undefined },
          spanGaps: false,
          value: (_u: uPlot, v: number | null) => formatValue(v),
        };
      }),
    ],
  };
}

function Plot({ series, kind }: { series: ChartSeries; kind: ChartKind }) {
  const box = useRef<HTMLDivElement>(null);
  useEffect(() => {
    const el = box.current;
    if (!el) return;
    let cancelled = false;
    let chart: uPlot | null = null;
    let observer: ResizeObserver | null = null;
    void import("uplot").then(({ default: UPlot }) => {
      if (cancelled) return;
      chart = new UPlot(plotOptions(series, kind, el.clientWidth || 700, UPlot), series.data, el);
      observer = new ResizeObserver(() => chart?.setSize({ width: el.clientWidth, height: HEIGHT }));
      observer.observe(el);
    });
    return () => {
      cancelled = true;
      observer?.disconnect();
      chart?.destroy();
    };
  }, [series, kind]);
  return <div ref={box} className="result-chart-plot" data-testid="result-chart-plot" />;
}

interface ResultChartProps {
  columns: readonly ResultColumn[];
  rows: readonly unknown[][];
  /** The pick to start from (a saved query's); a guess from the column kinds when absent or null. */
  initialPick?: ChartPick | null;
  /** Hears of every pick, the first one included, so the page can save it. */
  onPickChange?: (pick: ChartPick | null) => void;
}

export function ResultChart({ columns, rows, initialPick, onPickChange }: ResultChartProps) {
  const ids = { kind: useId(), x: useId() };
  const [pick, setPick] = useState<ChartPick | null>(() => initialPick ?? suggestChart(columns, rows.length));
  const reportPick = useRef(onPickChange);
  reportPick.current = onPickChange;
  useEffect(() => reportPick.current?.(pick), [pick]);
  const ys = numericColumns(columns);
  const series = useMemo(() => (pick ? chartSeries(columns, rows, pick) : null), [columns, rows, pick]);
  if (!pick || !series) {
    return <p className="muted">This result has no numeric column to draw; the table shows it.</p>;
  }
  const toggleY = (i: number) =>
    setPick((p) => p && { ...p, y: p.y.includes(i) ? p.y.filter((y) => y !== i) : [...p.y, i].sort((a, b) => a - b) });
  const single = pick.kind === "number" ? numeric(rows[0]?.[pick.y[0] ?? 0]) : null;
  return (
    <div className="result-chart">
      <div className="result-chart-picker">
        <div className="query-field">
          <label htmlFor={ids.kind}>Chart type</label>
          <select
            id={ids.kind}
            className="input input-small"
            value={pick.kind}
            onChange={(e) => setPick({ ...pick, kind: e.target.value as ChartKind })}
          >
            {KINDS.map((k) => (
              <option key={k.value} value={k.value}>
                {k.label}
              </option>
            ))}
          </select>
        </div>
        {pick.kind === "number" ? null : (
          <div className="query-field">
            <label htmlFor={ids.x}>X axis</label>
            <select
              id={ids.x}
              className="input input-small"
              value={pick.x}
              onChange={(e) => setPick({ ...pick, x: Number(e.target.value) })}
            >
              {columns.map((c, i) => (
                <option key={c.name} value={i}>
                  {c.name}
                </option>
              ))}
            </select>
          </div>
        )}
        <fieldset className="result-chart-ys">
          <legend>{pick.kind === "number" ? "Value" : "Y axis"}</legend>
          {ys.map((i) => (
            <label key={columns[i]!.name} className="result-chart-y">
              <input
                type={pick.kind === "number" ? "radio" : "checkbox"}
                name={`${ids.kind}-y`}
                checked={pick.y.includes(i)}
                onChange={() => (pick.kind === "number" ? setPick({ ...pick, y: [i] }) : toggleY(i))}
              />{" "}
              {columns[i]!.name}
            </label>
          ))}
        </fieldset>
      </div>
      {pick.kind === "number" ? (
        <p className="result-chart-number" data-testid="result-chart-number">
          <span className="result-chart-number-value">{formatValue(single)}</span>
          <span className="muted"> {columns[pick.y[0] ?? 0]?.name}</span>
        </p>
      ) : pick.y.length === 0 ? (
        <p className="muted">Choose a column for the y axis.</p>
      ) : (
        <>
          <Plot series={series} kind={pick.kind} />
          <p className="muted result-chart-note" data-testid="result-chart-note">
            {series.data[0].length.toLocaleString("en-US")} points
            {series.skipped > 0 ? `; ${series.skipped.toLocaleString("en-US")} rows without an x value left out` : ""}
          </p>
        </>
      )}
    </div>
  );
}
