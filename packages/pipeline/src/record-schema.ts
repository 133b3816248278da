// The shape of records flowing on an edge. Inferred from sources and propagated through transforms;
// the editor uses it for autocomplete and the expression checker for field and type errors.

export type ScalarKind = "string" | "int" | "float" | "boolean" | "timestamp";

export type DataType =
  | { kind: ScalarKind }
  | { kind: "json" }
  | { kind: "any" }
  | { kind: "null" }
  | { kind: "array"; items: DataType }
  | { kind: "object"; fields: readonly Field[] };

export interface Field {
  name: string;
  type: DataType;
  nullable: boolean;
  doc?: string;
}

/**
 * `open` means records may carry fields beyond `fields` (e.g. schemaless JSON input): references to unknown
 * fields then type as `any` instead of failing.
 */
export interface RecordSchema {
  fields: readonly Field[];
  open: boolean;
  /** The field carrying event time (epoch ms), when the records have one; windows default to it. */
  eventTime?: string;
}

export const t = {
  string: { kind: "string" },
  int: { kind: "int" },
  float: { kind: "float" },
  boolean: { kind: "boolean" },
  timestamp: { kind: "timestamp" },
  json: { kind: "json" },
  any: { kind: "any" },
  null: { kind: "null" },
  array: (items: DataType): DataType => ({ kind: "array", items }),
  object: (fields: readonly Field[]): DataType => ({ kind: "object", fields }),
} as const satisfies Record<string, DataType | ((...args: never[]) => DataType)>;

export const emptySchema: RecordSchema = { fields: [], open: false };
export const openSchema: RecordSchema = { fields: [], open: true };

export function field(name: string, type: DataType, nullable = false, doc?: string): Field {
  return doc === undefined ? { name, type, nullable } : { name, type, nullable, doc };
}

export function findField(schema: RecordSchema, name: string): Field | undefined {
  return schema.fields.find((f) => f.name === name);
}

export function isNumeric(type: DataType): boolean {
  return type.kind === "int" || type.kind === "float";
}

export function typeName(type: DataType): string {
  switch (type.kind) {
    case "array":
      return `array<${typeName(type.items)}>`;
    case "object":
      return `object{${type.fields.map((f) => f.name).join(", ")}}`;
    default:
      return type.kind;
  }
}

export function sameType(a: DataType, b: DataType): boolean {
  if (a.kind !== b.kind) return false;
  if (a.kind === "array" && b.kind === "array") return sameType(a.items, b.items);
  if (a.kind === "object" && b.kind === "object") {
    return (
      a.fields.length === b.fields.length &&
      a.fields.every((f, i) => {
        const g = b.fields[i];
        return g !== undefined && g.name === f.name && g.nullable === f.nullable && sameType(f.type, g.type);
      })
    );
  }
  return true;
}

export function sameSchema(a: RecordSchema, b: RecordSchema): boolean {
  return a.open === b.open && sameType(t.object(a.fields), t.object(b.fields));
}

/** Runtime record: a plain object. Timestamps are epoch milliseconds (numbers). */
export type DataRecord = Record<string, unknown>;
