import { type DataType, type Field, type RecordSchema, sameType, t } from "./record-schema";

function mergeTypes(a: DataType, b: DataType): DataType {
  if (sameType(a, b)) return a;
  if ((a.kind === "int" && b.kind === "float") || (a.kind === "float" && b.kind === "int")) return t.float;
  if (a.kind === "null") return b;
  if (b.kind === "null") return a;
  return t.json;
}

/**
 * The schema of records arriving on one port from several edges (e.g. a union): every field of any input, nullable
 * when some input lacks it, widened when inputs disagree on its type.
 */
export function mergeSchemas(schemas: readonly RecordSchema[]): RecordSchema {
  if (schemas.length === 1) return schemas[0]!;
  const byName = new Map<string, { field: Field; seen: number }>();
  for (const schema of schemas) {
    for (const f of schema.fields) {
      const prev = byName.get(f.name);
      if (!prev) byName.set(f.name, { field: f, seen: 1 });
      else {
        prev.field = {
          name: f.name,
          type: mergeTypes(prev.field.type, f.type),
          nullable: prev.field.nullable || f.nullable,
        };
        prev.seen++;
      }
    }
  }
  const fields = [...byName.values()].map(({ field, seen }) =>
    seen === schemas.length ? field : { ...field, nullable: true },
  );
  return { fields, open: schemas.some((s) => s.open) };
}
