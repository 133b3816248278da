import type { DataRecord, RecordSchema } from "@sluice/pipeline/record-schema";
import type { SchemaElement } from "hyparquet";
import { ByteWriter, ParquetWriter } from "hyparquet-writer";
import type { JsonValue } from "../../runtime-contract";

// Turning batches of records into the bytes of a part file: a header when the file starts, the batch, a footer when
// it is completed. Parquet's writer is rebuilt from the committed row-group metadata after a restart, so a part can
// be continued by another worker. Server-only.

export interface PartEncoder {
  /** Bytes that open a new file (CSV header, Parquet magic). */
  start(): Buffer;
  encode(records: readonly DataRecord[]): Buffer;
  /** Bytes that complete the file (Parquet footer). */
  finish(): Buffer;
  /** What must be committed to continue the file elsewhere: Parquet's row groups from index `from` on. */
  rowGroups(from: number): JsonValue[];
}

export interface EncoderOptions {
  columns: readonly string[];
  schema: RecordSchema;
  timestamps: "epoch-ms" | "iso";
  delimiter: string;
  header: boolean;
}

function timestampFields(o: EncoderOptions): Set<string> {
  return new Set(o.schema.fields.filter((f) => f.type.kind === "timestamp").map((f) => f.name));
}

function isoTime(v: unknown): unknown {
  return typeof v === "number" && Number.isFinite(v) ? new Date(v).toISOString() : v;
}

export function jsonLinesEncoder(o: EncoderOptions, useColumns: boolean): PartEncoder {
  const times = o.timestamps === "iso" ? timestampFields(o) : new Set<string>();
  const project = (r: DataRecord): DataRecord => {
    if (!useColumns && times.size === 0) return r;
    const out: DataRecord = {};
    if (useColumns) for (const col of o.columns) out[col] = times.has(col) ? isoTime(r[col]) : (r[col] ?? null);
    else for (const key in r) out[key] = times.has(key) ? isoTime(r[key]) : r[key];
    return out;
  };
  return {
    start: () => Buffer.alloc(0),
    encode(records) {
      let text = "";
      for (const r of records) text += `${JSON.stringify(project(r))}\n`;
      return Buffer.from(text, "utf8");
    },
    finish: () => Buffer.alloc(0),
    rowGroups: () => [],
  };
}

function csvCell(v: unknown, delimiter: string): string {
  if (v === null || v === undefined) return "";
  const text = typeof v === "string" ? v : typeof v === "object" ? JSON.stringify(v) : String(v);
  if (text === "") return '""';
  if (text.includes(delimiter) || text.includes('"') || text.includes("\n") || text.includes("\r")) {
    return `"${text.replace(/"/g, '""')}"`;
  }
  return text;
}

export function csvEncoder(o: EncoderOptions): PartEncoder {
  const times = o.timestamps === "iso" ? timestampFields(o) : new Set<string>();
  const d = o.delimiter;
  return {
    start: () => Buffer.from(o.header ? `${o.columns.map((c) => csvCell(c, d)).join(d)}\n` : "", "utf8"),
    encode(records) {
      let text = "";
      for (const r of records) {
        let line = "";
        for (let i = 0; i < o.columns.length; i++) {
          const col = o.columns[i]!;
          const v = r[col];
          line += (i > 0 ? d : "") + csvCell(times.has(col) ? isoTime(v) : v, d);
        }
        text += `${line}\n`;
      }
      return Buffer.from(text, "utf8");
    },
    finish: () => Buffer.alloc(0),
    rowGroups: () => [],
  };
}

// --- Parquet ---------------------------------------------------------------------------------------------------

type ParquetKind = "STRING" | "INT64" | "DOUBLE" | "BOOLEAN" | "TIMESTAMP" | "JSON";

function parquetKind(schema: RecordSchema, column: string): ParquetKind {
  const kind = schema.fields.find((f) => f.name === column)?.type.kind;
  switch (kind) {
    case "string":
      return "STRING";
    case "int":
      return "INT64";
    case "float":
      return "DOUBLE";
    case "boolean":
      return "BOOLEAN";
    case "timestamp":
      return "TIMESTAMP";
    default:
      return "JSON";
  }
}

function element(name: string, kind: ParquetKind): SchemaElement {
  const repetition_type = "OPTIONAL" as const;
  switch (kind) {
    case "STRING":
      return { name, type: "BYTE_ARRAY", converted_type: "UTF8", repetition_type };
    case "JSON":
      return { name, type: "BYTE_ARRAY", converted_type: "JSON", repetition_type };
    case "TIMESTAMP":
      return { name, type: "INT64", converted_type: "TIMESTAMP_MILLIS", repetition_type };
    default:
      return { name, type: kind, repetition_type };
  }
}

/** A value for a column of `kind`; NULL when it cannot be one (Parquet columns are typed). */
function parquetValue(v: unknown, kind: ParquetKind): unknown {
  if (v === null || v === undefined) return null;
  switch (kind) {
    case "STRING":
      return typeof v === "string" ? v : typeof v === "object" ? JSON.stringify(v) : String(v);
    case "INT64":
      if (typeof v === "number" && Number.isSafeInteger(v)) return BigInt(v);
      if (typeof v === "bigint") return v;
      if (typeof v === "string" && /^-?\d+$/.test(v)) return BigInt(v);
      return null;
    case "TIMESTAMP":
      return typeof v === "number" && Number.isFinite(v) ? BigInt(Math.trunc(v)) : null;
    case "DOUBLE":
      return typeof v === "number"
        ? v
        : typeof v === "string" && v.trim() !== "" && !Number.isNaN(Number(v))
          ? Number(v)
          : null;
    case "BOOLEAN":
      return typeof v === "boolean" ? v : null;
    case "JSON":
      return v;
  }
}

/** JSON with bigints and byte arrays tagged, for row-group metadata kept in the node's state. */
function encodeMeta(v: unknown): JsonValue {
  if (typeof v === "bigint") return { $b: v.toString() };
  if (v instanceof Uint8Array) return { $u: Buffer.from(v).toString("base64") };
  if (Array.isArray(v)) return v.map(encodeMeta);
  if (v !== null && typeof v === "object") {
    const out: Record<string, JsonValue> = {};
    for (const [k, x] of Object.entries(v)) if (x !== undefined) out[k] = encodeMeta(x);
    return out;
  }
  return v as JsonValue;
}

function decodeMeta(v: JsonValue): unknown {
  if (Array.isArray(v)) return v.map(decodeMeta);
  if (v !== null && typeof v === "object") {
    if (typeof v.$b === "string" && Object.keys(v).length === 1) return BigInt(v.$b);
    if (typeof v.$u === "string" && Object.keys(v).length === 1) return new Uint8Array(Buffer.from(v.$u, "base64"));
    const out: Record<string, unknown> = {};
    for (const [k, x] of Object.entries(v)) out[k] = decodeMeta(x);
    return out;
  }
  return v;
}

export function parquetEncoder(o: EncoderOptions, restore?: { bytes: number; rowGroups: JsonValue[] }): PartEncoder {
  const kinds = o.columns.map((c) => parquetKind(o.schema, c));
  const schema: SchemaElement[] = [
    { name: "root", num_children: o.columns.length },
    ...o.columns.map((c, i) => element(c, kinds[i]!)),
  ];
  const bytes = new ByteWriter();
  const writer = new ParquetWriter({ writer: bytes, schema, codec: "SNAPPY", createdBy: "sluice" });
  if (restore) {
    // The magic was written when the file started; continue after the committed bytes.
    bytes.index = 0;
    bytes.offset = restore.bytes;
    writer.row_groups = restore.rowGroups.map((g) => decodeMeta(g)) as typeof writer.row_groups;
    writer.num_rows = writer.row_groups.reduce((n, g) => n + g.num_rows, 0n);
  }
  const take = (): Buffer => {
    const out = Buffer.from(bytes.getBytes());
    bytes.index = 0;
    return out;
  };
  return {
    start: take,
    encode(records) {
      const columnData = o.columns.map((name, i) => ({
        name,
        data: records.map((r) => parquetValue(r[name], kinds[i]!)),
        offsetIndex: false,
      }));
      void writer.write({ columnData, rowGroupSize: Math.max(1, records.length) });
      return take();
    },
    finish() {
      writer.pendingIndexes = [];
      void writer.finish();
      return take();
    },
    rowGroups: (from) => writer.row_groups.slice(from).map(encodeMeta),
  };
}
