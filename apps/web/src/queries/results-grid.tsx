"use client";

import { useVirtualizer } from "@tanstack/react-virtual";
import { type CSSProperties, memo, useMemo, useRef } from "react";
import { cellText, columnWidths } from "./result-format";

/** Fixed heights (queries.css says the same): the virtualiser places rows by arithmetic, without measuring. */
const ROW_HEIGHT = 30;
const HEAD_HEIGHT = 46;
const OVERSCAN_ROWS = 12;

interface ResultColumn {
  name: string;
  type: string;
  kind: string;
}

interface ResultsGridProps {
  columns: readonly ResultColumn[];
  rows: readonly (readonly unknown[])[];
}

const ResultRow = memo(function ResultRow({
  row,
  index,
  columns,
  top,
}: {
  row: readonly unknown[];
  index: number;
  columns: readonly ResultColumn[];
  top: number;
}) {
  return (
    <tr
      className="result-row"
      data-testid="result-row"
      aria-rowindex={index + 2}
      style={{ transform: `translateY(${top}px)` }}
    >
      {columns.map((column, i) => {
        const cell = cellText(row[i]);
        const classes = ["result-cell"];
        if (column.kind === "number") classes.push("is-number");
        if (cell.isNull) classes.push("is-null");
        return (
          <td key={column.name + String(i)} className={classes.join(" ")} title={cell.title}>
            {cell.text}
          </td>
        );
      })}
    </tr>
  );
});

/**
 * A query's rows in a table that renders only the rows in view (and a few either side), so a 100,000-row result
 * scrolls as smoothly as a 10-row one. The header stays on top; each column shows its name and engine type.
 */
export function ResultsGrid({ columns, rows }: ResultsGridProps) {
  const scroller = useRef<HTMLDivElement>(null);
  const widths = useMemo(() => columnWidths(columns, rows), [columns, rows]);
  const template = widths.map((w) => `${w}px`).join(" ");
  const virtualizer = useVirtualizer({
    count: rows.length,
    getScrollElement: () => scroller.current,
    estimateSize: () => ROW_HEIGHT,
    overscan: OVERSCAN_ROWS,
    // The body starts below the header inside the same scroller.
    scrollMargin: HEAD_HEIGHT,
    // React 19 warns about flushSync during render; rows are cheap to render on the next frame.
    useFlushSync: false,
  });

  return (
    <div className="result-scroll" ref={scroller}>
      <table
        className="result-grid"
        aria-label="Results"
        aria-rowcount={rows.length + 1}
        aria-colcount={columns.length}
        style={{ "--result-columns": template } as CSSProperties}
      >
        <thead className="result-head">
          <tr className="result-head-row" aria-rowindex={1}>
            {columns.map((column, i) => (
              <th
                key={column.name + String(i)}
                scope="col"
                className={column.kind === "number" ? "result-th is-number" : "result-th"}
                title={`${column.name}: ${column.type}`}
              >
                <span className="result-col-name">{column.name}</span>
                <span className="result-col-type">{column.type}</span>
              </th>
            ))}
          </tr>
        </thead>
        <tbody className="result-body" style={{ height: virtualizer.getTotalSize() }}>
          {virtualizer.getVirtualItems().map((item) => (
            <ResultRow
              key={item.key}
              row={rows[item.index] ?? []}
              index={item.index}
              columns={columns}
              top={item.start - HEAD_HEIGHT}
            />
          ))}
        </tbody>
      </table>
      {rows.length === 0 ? <p className="result-none muted">No rows.</p> : null}
    </div>
  );
}
