import { type DataType, t } from "@sluice/pipeline/record-schema";

// PostgreSQL values as Sluice values, and back. Reading: the text form of a value (what queries return and what
// logical replication sends) becomes a Sluice value by the column's type: integers and floats are numbers, booleans
// booleans, json/jsonb parsed JSON, timestamps epoch milliseconds (a timestamp without time zone is read as UTC),
// arrays JS arrays; everything else (text, uuid, numeric beyond a float, enums, intervals, bytea as `\x…` hex) stays
// text. Writing: a Sluice value becomes the text PostgreSQL parses for the target column's type. Sessions run with
// DateStyle=ISO and TimeZone=UTC (see pg-client.ts), which is what the timestamp parsing below relies on.

export const OID = {
  bool: 16,
  bytea: 17,
  char: 18,
  name: 19,
  int8: 20,
  int2: 21,
  int4: 23,
  text: 25,
  oid: 26,
  json: 114,
  float4: 700,
  float8: 701,
  bpchar: 1042,
  varchar: 1043,
  date: 1082,
  time: 1083,
  timestamp: 1114,
  timestamptz: 1184,
  interval: 1186,
  numeric: 1700,
  uuid: 2950,
  jsonb: 3802,
} as const;

type Scalar = "int" | "bigint" | "float" | "bool" | "json" | "timestamp" | "date" | "text";

const SCALAR_BY_OID = new Map<number, Scalar>([
  [OID.int2, "int"],
  [OID.int4, "int"],
  [OID.oid, "int"],
  [OID.int8, "bigint"],
  [OID.float4, "float"],
  [OID.float8, "float"],
  [OID.numeric, "float"],
  [OID.bool, "bool"],
  [OID.json, "json"],
  [OID.jsonb, "json"],
  [OID.timestamp, "timestamp"],
  [OID.timestamptz, "timestamp"],
  [OID.date, "date"],
]);

/** Array type OID → element type OID, for the built-in array types. */
const ARRAY_ELEMENT = new Map<number, number>([
  [1000, OID.bool],
  [1001, OID.bytea],
  [1005, OID.int2],
  [1007, OID.int4],
  [1016, OID.int8],
  [1009, OID.text],
  [1015, OID.varchar],
  [1014, OID.bpchar],
  [1021, OID.float4],
  [1022, OID.float8],
  [1231, OID.numeric],
  [1115, OID.timestamp],
  [1185, OID.timestamptz],
  [1182, OID.date],
  [2951, OID.uuid],
  [199, OID.json],
  [3807, OID.jsonb],
]);

/** The Sluice type of a column of type `oid` (unknown and user-defined types are text). */
export function sluiceType(oid: number): DataType {
  const element = ARRAY_ELEMENT.get(oid);
  if (element !== undefined) return t.array(sluiceType(element));
  switch (SCALAR_BY_OID.get(oid)) {
    case "int":
    case "bigint":
      return t.int;
    case "float":
      return t.float;
    case "bool":
      return t.boolean;
    case "json":
      return t.json;
    case "timestamp":
    case "date":
      return t.timestamp;
    default:
      return t.string;
  }
}

/** Epoch ms stand-ins for ±infinity: the extremes a JS Date can hold. */
const INFINITY_MS = 8.64e15;

const TIMESTAMP =
  /^(\d{4,})-(\d\d)-(\d\d)(?:[ T](\d\d):(\d\d):(\d\d)(?:\.(\d{1,9}))?)?(?:([+-])(\d\d)(?::?(\d\d)(?::?(\d\d))?)?)?( BC)?$/;

/** An ISO timestamp, timestamptz or date as PostgreSQL prints it, to epoch ms (µs are cut); undefined if malformed. */
export function parseTimestampText(text: string): number | undefined {
  if (text === "infinity") return INFINITY_MS;
  if (text === "-infinity") return -INFINITY_MS;
  const m = TIMESTAMP.exec(text);
  if (!m) return undefined;
  let year = Number(m[1]);
  if (m[12]) year = 1 - year; // 1 BC is year 0
  const ms = m[7] ? Number(m[7].slice(0, 3).padEnd(3, "0")) : 0;
  const date = new Date(0);
  date.setUTCFullYear(year, Number(m[2]) - 1, Number(m[3]));
  date.setUTCHours(Number(m[4] ?? 0), Number(m[5] ?? 0), Number(m[6] ?? 0), ms);
  let at = date.getTime();
  if (m[8]) {
    const offset = (Number(m[9]) * 3600 + Number(m[10] ?? 0) * 60 + Number(m[11] ?? 0)) * 1000;
    at -= m[8] === "+" ? offset : -offset;
  }
  return at;
}

/** Integers beyond 2^53 stay text: a JS number would silently change them. */
function parseBigint(text: string): number | string {
  const n = Number(text);
  return Number.isSafeInteger(n) ? n : text;
}

function scalarParser(oid: number): (text: string) => unknown {
  switch (SCALAR_BY_OID.get(oid)) {
    case "int":
      return Number;
    case "bigint":
      return parseBigint;
    case "float":
      return Number;
    case "bool":
      return (text) => text === "t" || text === "true";
    case "json":
      return (text) => JSON.parse(text);
    case "timestamp":
    case "date":
      return (text) => parseTimestampText(text) ?? text;
    default:
      return (text) => text;
  }
}

/** Parses a PostgreSQL array literal (`{1,2,NULL}`, `{"a b","c\"d"}`, nested `{{1,2},{3,4}}`). */
export function parseArrayLiteral(text: string, element: (text: string) => unknown): unknown[] {
  let i = 0;
  // An optional dimension decoration: [1:3]={…}
  if (text[0] === "[") {
    const eq = text.indexOf("=");
    if (eq > 0) i = eq + 1;
  }
  const parse = (): unknown[] => {
    if (text[i] !== "{") throw new Error(`malformed array literal: ${text.slice(0, 80)}`);
    i++;
    const out: unknown[] = [];
    if (text[i] === "}") {
      i++;
      return out;
    }
    for (;;) {
      if (text[i] === "{") out.push(parse());
      else if (text[i] === '"') {
        i++;
        let value = "";
        while (i < text.length && text[i] !== '"') {
          if (text[i] === "\\") i++;
          value += text[i];
          i++;
        }
        i++;
        out.push(element(value));
      } else {
        const start = i;
        while (i < text.length && text[i] !== "," && text[i] !== "}") i++;
        const raw = text.slice(start, i).trim();
        out.push(raw === "NULL" ? null : element(raw));
      }
      if (text[i] === ",") {
        i++;
        continue;
      }
      if (text[i] === "}") {
        i++;
        return out;
      }
      throw new Error(`malformed array literal: ${text.slice(0, 80)}`);
    }
  };
  return parse();
}

const parsers = new Map<number, (text: string) => unknown>();

/** Text → Sluice value for a column of type `oid`. */
export function valueParser(oid: number): (text: string) => unknown {
  let parser = parsers.get(oid);
  if (!parser) {
    const element = ARRAY_ELEMENT.get(oid);
    if (element !== undefined) {
      const parseElement = scalarParser(element);
      parser = (text) => parseArrayLiteral(text, parseElement);
    } else {
      parser = scalarParser(oid);
    }
    parsers.set(oid, parser);
  }
  return parser;
}

/** node-postgres custom types: every value a query returns is converted as above. */
export const sluiceTypes = {
  getTypeParser: (oid: number, format?: string) =>
    format === "binary" ? (value: unknown) => value : (valueParser(oid) as (text: string) => unknown),
};

// ---------------------------------------------------------------------------------------------------------------
// Writing

/** What a writer needs to know of a target column: pg_type.typcategory of it and, for arrays, of its element. */
export interface ColumnType {
  name: string;
  /** `format_type()`, e.g. `timestamp with time zone`, `integer[]`. */
  type: string;
  /** pg_type.typcategory: A array, B boolean, D date/time, N numeric, S string, U user (json, jsonb, …), … */
  category: string;
  elementCategory?: string | undefined;
  /** json or jsonb (category U holds other types too). */
  json: boolean;
  elementJson?: boolean | undefined;
}

class ValueConversionError extends Error {
  override name = "ValueConversionError";
}

function timestampText(value: unknown, column: string): string {
  if (typeof value === "number") {
    if (!Number.isFinite(value) || Math.abs(value) > INFINITY_MS) {
      throw new ValueConversionError(`column "${column}": ${value} is not a timestamp (epoch milliseconds)`);
    }
    return new Date(value).toISOString();
  }
  if (typeof value === "string") return value;
  throw new ValueConversionError(`column "${column}": expected a timestamp, got ${describe(value)}`);
}

function describe(value: unknown): string {
  const text = JSON.stringify(value) ?? String(value);
  return `${Array.isArray(value) ? "an array" : typeof value} ${text.length > 60 ? `${text.slice(0, 60)}…` : text}`;
}

function plainText(value: unknown): string {
  if (typeof value === "string") return value;
  if (typeof value === "number" || typeof value === "bigint") return String(value);
  if (typeof value === "boolean") return value ? "true" : "false";
  return JSON.stringify(value);
}

function arrayElementText(value: unknown, category: string | undefined, json: boolean, column: string): string {
  if (json) return JSON.stringify(value);
  if (category === "D") return timestampText(value, column);
  return plainText(value);
}

/** `{a,"b c",NULL}`: every element quoted unless NULL, so no element text can break the literal. */
function arrayLiteral(values: readonly unknown[], element: (v: unknown) => string): string {
  const parts = values.map((v) => {
    if (v === null || v === undefined) return "NULL";
    if (Array.isArray(v)) return arrayLiteral(v, element);
    return `"${element(v).replaceAll("\\", "\\\\").replaceAll('"', '\\"')}"`;
  });
  return `{${parts.join(",")}}`;
}

/** Sluice value → the text PostgreSQL parses for `column` (null for SQL NULL). Throws ValueConversionError. */
export function columnWriter(column: ColumnType): (value: unknown) => string | null {
  const name = column.name;
  if (column.json) return (v) => (v === null || v === undefined ? null : JSON.stringify(v));
  switch (column.category) {
    case "D":
      return (v) => (v === null || v === undefined ? null : timestampText(v, name));
    case "B":
      return (v) => {
        if (v === null || v === undefined) return null;
        if (typeof v === "boolean") return v ? "t" : "f";
        return plainText(v);
      };
    case "A": {
      const element = (e: unknown) => arrayElementText(e, column.elementCategory, column.elementJson ?? false, name);
      return (v) => {
        if (v === null || v === undefined) return null;
        if (Array.isArray(v)) return arrayLiteral(v, element);
        if (typeof v === "string") return v;
        throw new ValueConversionError(`column "${name}" (${column.type}): expected an array, got ${describe(v)}`);
      };
    }
    default:
      return (v) => (v === null || v === undefined ? null : plainText(v));
  }
}

/** The column type a field of Sluice type `type` gets when a sink creates its table. */
export function pgTypeFor(type: DataType): string {
  switch (type.kind) {
    case "string":
      return "text";
    case "int":
      return "bigint";
    case "float":
      return "double precision";
    case "boolean":
      return "boolean";
    case "timestamp":
      return "timestamptz";
    case "null":
      return "text";
    default:
      return "jsonb";
  }
}
