import type { RecordSchema } from "@sluice/pipeline/record-schema";
import { typeName } from "@sluice/pipeline/record-schema";

// Records as a table whose columns come from the inferred schema (name and type in the header), followed by any
// field the records carry that the schema does not list (typed from the values, marked as not in the schema).

export interface Column {
  name: string;
  type: string;
  /** Listed by the schema, or only found in the records. */
  inSchema: boolean;
  timestamp: boolean;
}

function valueType(value: unknown): string {
  if (value === null || value === undefined) return "null";
  if (Array.isArray(value)) return "array";
  if (typeof value === "number") return Number.isInteger(value) ? "int" : "float";
  if (typeof value === "object") return "object";
  return typeof value;
}

export function columnsOf(schema: RecordSchema | undefined, records: readonly Record<string, unknown>[]): Column[] {
  const columns: Column[] = (schema?.fields ?? []).map((f) => ({
    name: f.name,
    type: `${typeName(f.type)}${f.nullable ? "?" : ""}`,
    inSchema: true,
    timestamp: f.type.kind === "timestamp",
  }));
  const known = new Set(columns.map((c) => c.name));
  for (const record of records) {
    for (const [key, value] of Object.entries(record)) {
      if (known.has(key)) continue;
      known.add(key);
      columns.push({ name: key, type: valueType(value), inSchema: false, timestamp: false });
    }
  }
  return columns;
}

function Cell({ value, column }: { value: unknown; column: Column }) {
  if (value === undefined) return <td className="cell-absent">—</td>;
  if (value === null) return <td className="cell-null">NULL</td>;
  if (column.timestamp && typeof value === "number") {
    const date = new Date(value);
    const text = Number.isNaN(date.getTime()) ? String(value) : date.toISOString().replace("T", " ").replace("Z", "");
    return (
      <td className="cell-time" title={`${value} (epoch ms)`}>
        {text}
      </td>
    );
  }
  if (typeof value === "object") {
    const text = JSON.stringify(value);
    return (
      <td className="cell-json" title={text}>
        {text}
      </td>
    );
  }
  if (typeof value === "number") return <td className="cell-number">{String(value)}</td>;
  if (typeof value === "boolean") return <td className="cell-bool">{String(value)}</td>;
  return <td title={String(value).length > 40 ? String(value) : undefined}>{String(value)}</td>;
}

export function RecordTable({
  records,
  schema,
  caption,
}: {
  records: readonly Record<string, unknown>[];
  schema: RecordSchema | undefined;
  caption: string;
}) {
  const columns = columnsOf(schema, records);
  return (
    <div className="record-scroll">
      <table className="record-table">
        <caption className="visually-hidden">{caption}</caption>
        <thead>
          <tr>
            <th scope="col" className="record-index">
              #
            </th>
            {columns.map((c) => (
              <th
                key={c.name}
                scope="col"
                title={c.inSchema ? `${c.name}: ${c.type}` : `${c.name}: not in the inferred schema`}
              >
                <span className="col-name">{c.name}</span>
                <span className={c.inSchema ? "col-type" : "col-type col-type-extra"}>{c.type}</span>
              </th>
            ))}
          </tr>
        </thead>
        <tbody>
          {records.map((record, i) => (
            // biome-ignore lint/suspicious/noArrayIndexKey: records have no identity; the row number is what we show
            <tr key={i}>
              <td className="record-index">{i + 1}</td>
              {columns.map((c) => (
                <Cell key={c.name} value={record[c.name]} column={c} />
              ))}
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}
