"use client";

import "uplot/dist/uPlot.min.css";
import { useEffect, useRef, useState } from "react";
import type uPlot from "uplot";
import { type ChartColumns, pointCount } from "./chart-data";

// One time-series chart: uPlot, loaded on first use so pages without charts never carry it. Drag across the plot
// to zoom into a span, "Reset zoom" to see all of it again; the legend shows the values under the cursor.

const COLORS = ["#4f46e5", "#0d9488", "#d97706", "#dc2626", "#2563eb", "#9333ea", "#64748b", "#059669"];
const HEIGHT = 200;

export interface TimeChartProps {
  title: string;
  /** One label per y column of `data`. */
  labels: readonly string[];
  data: ChartColumns;
  /** "time": x is epoch seconds; "elapsed": x is seconds since a run started (when runs are compared). */
  x?: "time" | "elapsed";
  /** What the values are, for the y axis, e.g. "records/s". */
  unit: string;
}

function elapsedLabel(sec: number): string {
  const sign = sec < 0 ? "-" : "";
  const s = Math.abs(Math.round(sec));
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const rest = s % 60;
  return h > 0
    ? `${sign}${h}:${String(m).padStart(2, "0")}:${String(rest).padStart(2, "0")}`
    : `${sign}${m}:${String(rest).padStart(2, "0")}`;
}

function optionsFor(props: TimeChartProps, width: number, onZoom: () => void): uPlot.Options {
  const elapsed = props.x === "elapsed";
  return {
    width,
    height: HEIGHT,
    scales: { x: { time: !elapsed } },
    cursor: { drag: { x: true, y: false, setScale: true } },
    legend: { live: true },
    axes: [elapsed ? { values: (_u, splits) => splits.map(elapsedLabel) } : {}, { label: props.unit, size: 60 }],
    series: [
      {
        label: elapsed ? "since start" : "time",
        value: elapsed ? (_u, v) => (v == null ? "—" : elapsedLabel(v)) : undefined,
      },
      ...props.labels.map((label, i) => ({
        label,
        stroke: COLORS[i % COLORS.length],
        width: 1.5,
        spanGaps: false,
        value: (_u: uPlot, v: number | null) => (v == null ? "—" : Number(v.toPrecision(4)).toLocaleString()),
      })),
    ],
    hooks: { setSelect: [(u) => (u.select.width > 0 ? onZoom() : undefined)] },
  };
}

export function TimeChart(props: TimeChartProps) {
  const box = useRef<HTMLDivElement>(null);
  const chart = useRef<uPlot | null>(null);
  const [zoomed, setZoomed] = useState(false);
  const zoomedRef = useRef(false);
  zoomedRef.current = zoomed;
  const { data, labels, unit, x } = props;
  const shape = `${x ?? "time"}|${unit}|${labels.join("\u0000")}`;
  const dataRef = useRef(data);
  dataRef.current = data;

  // (Re)built when the lines change; data alone is set on the chart as it is.
  // biome-ignore lint/correctness/useExhaustiveDependencies: shape stands for labels, unit and x
  useEffect(() => {
    const el = box.current;
    if (!el) return;
    let cancelled = false;
    let observer: ResizeObserver | null = null;
    void import("uplot").then(({ default: UPlot }) => {
      if (cancelled) return;
      const opts = optionsFor({ ...props, data: dataRef.current }, el.clientWidth || 600, () => setZoomed(true));
      const u = new UPlot(opts, dataRef.current, el);
      chart.current = u;
      observer = new ResizeObserver(() => u.setSize({ width: el.clientWidth, height: HEIGHT }));
      observer.observe(el);
    });
    return () => {
      cancelled = true;
      observer?.disconnect();
      chart.current?.destroy();
      chart.current = null;
      setZoomed(false);
    };
  }, [shape]);

  useEffect(() => {
    // A zoomed chart keeps its span while new points arrive.
    chart.current?.setData(data, !zoomedRef.current);
  }, [data]);

  const points = pointCount(data);
  return (
    <figure className="time-chart">
      <figcaption className="time-chart-head">
        <span className="time-chart-title">{props.title}</span>
        <span className="muted time-chart-points" data-testid="chart-points">
          points: {points}
        </span>
        {zoomed ? (
          <button
            type="button"
            className="button button-small button-ghost"
            onClick={() => {
              setZoomed(false);
              chart.current?.setData(dataRef.current, true);
            }}
          >
            Reset zoom
          </button>
        ) : null}
      </figcaption>
      {points === 0 ? <p className="muted time-chart-empty">No figures in this range.</p> : null}
      <div ref={box} className="time-chart-plot" />
    </figure>
  );
}
