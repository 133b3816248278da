"use client";

import { useId, useMemo, useState } from "react";
import { filterTables, type SchemaTable } from "./schema-completion";

interface SchemaPanelProps {
  tables: readonly SchemaTable[];
  /** Shown instead of the list: loading, an error, or why the user may not read the schema. */
  status: string | null;
  onPick(table: SchemaTable): void;
}

const KIND_LABEL = { table: "table", view: "view", file: "file" } as const;

/** The source's tables (or files) and their columns, beside the editor; a click on a table writes its name there. */
export function SchemaPanel({ tables, status, onPick }: SchemaPanelProps) {
  const filterId = useId();
  const [filter, setFilter] = useState("");
  const [open, setOpen] = useState<ReadonlySet<string>>(new Set());
  const shown = useMemo(() => filterTables(tables, filter), [tables, filter]);
  const toggle = (name: string) =>
    setOpen((was) => {
      const next = new Set(was);
      if (next.has(name)) next.delete(name);
      else next.add(name);
      return next;
    });

  return (
    <aside className="schema-panel" aria-label="Schema">
      <label htmlFor={filterId} className="visually-hidden">
        Filter tables
      </label>
      <input
        id={filterId}
        className="input input-small"
        type="search"
        placeholder="Filter tables and columns"
        value={filter}
        onChange={(e) => setFilter(e.target.value)}
      />
      {status !== null ? (
        <p className="schema-status muted">{status}</p>
      ) : shown.length === 0 ? (
        <p className="schema-status muted">{tables.length === 0 ? "No tables." : "Nothing matches."}</p>
      ) : (
        <ul className="schema-list">
          {shown.map(({ table, columnMatch }) => {
            const expanded = columnMatch || open.has(table.name);
            return (
              <li key={table.name} className="schema-table">
                <div className="schema-table-row">
                  <button
                    type="button"
                    className="schema-toggle"
                    aria-expanded={expanded}
                    aria-label={`${expanded ? "Hide" : "Show"} columns of ${table.name}`}
                    onClick={() => toggle(table.name)}
                  >
                    {expanded ? "▾" : "▸"}
                  </button>
                  <button
                    type="button"
                    className="schema-table-name"
                    title={`Insert ${table.name} at the cursor`}
                    onClick={() => onPick(table)}
                  >
                    {table.name}
                  </button>
                  <span className="schema-kind">{KIND_LABEL[table.kind]}</span>
                </div>
                {expanded ? (
                  <ul className="schema-columns">
                    {table.columns.map((column) => (
                      <li key={column.name}>
                        <span className="schema-column-name">{column.name}</span>{" "}
                        <span className="schema-column-type">{column.type}</span>
                      </li>
                    ))}
                  </ul>
                ) : null}
              </li>
            );
          })}
        </ul>
      )}
    </aside>
  );
}
