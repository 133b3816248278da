import { checkExpression } from "@sluice/pipeline/expr/compile";
import { parseTimestamp } from "@sluice/pipeline/expr/time";
import {
  type DataRecord,
  type DataType,
  emptySchema,
  type Field,
  field,
  type RecordSchema,
  t,
} from "@sluice/pipeline/record-schema";
import { closestName } from "@sluice/pipeline/suggest";

// The record schema `sluice expr` checks an expression against: given with --schema, or read off the --input
// record's values. Problems come back as one-line reasons, which the command reports as usage errors.

export type SchemaResult = { ok: true; schema: RecordSchema } | { ok: false; message: string };
export type RecordResult = { ok: true; record: DataRecord } | { ok: false; message: string };
type SchemaError = { ok: false; message: string };
type TypeResult = { ok: true; type: DataType } | SchemaError;

/** The type a JSON value suggests: no timestamps (they are numbers or text in JSON), nested data is `json`. */
function valueType(value: unknown): DataType {
  switch (typeof value) {
    case "string":
      return t.string;
    case "number":
      // ints are safe integers in the expression language; anything else is a float
      return Number.isSafeInteger(value) ? t.int : t.float;
    case "boolean":
      return t.boolean;
    default:
      return value === null ? t.any : t.json;
  }
}

/** A closed schema with one field per member of the record; a NULL member is a nullable field of any type. */
export function inferRecordSchema(record: DataRecord): RecordSchema {
  return {
    open: false,
    fields: Object.entries(record).map(([name, value]) => field(name, valueType(value), value === null)),
  };
}

const TYPE_LIST = "string, int, float, boolean, timestamp, json, any, array<T>";

/**
 * A scalar type name as CAST spells it (`int`, `integer`, `varchar`, `double precision`, ...), read by the
 * expression parser itself so the CLI accepts exactly the names the language does.
 */
function castTargetType(name: string): DataType | undefined {
  if (!/^[A-Za-z]+( +precision)?$/i.test(name)) return undefined;
  const checked = checkExpression(`CAST(NULL AS ${name})`, { schema: emptySchema }, "scalar");
  return checked.errors.length === 0 ? checked.type : undefined;
}

function parseTypeName(text: string, at: string): TypeResult {
  const name = text.trim();
  const array = /^array<(.*)>$/i.exec(name);
  if (array) {
    const items = parseTypeName(array[1] ?? "", at);
    return items.ok ? { ok: true, type: t.array(items.type) } : items;
  }
  if (name.toLowerCase() === "any") return { ok: true, type: t.any };
  const type = castTargetType(name);
  if (type) return { ok: true, type };
  const suggestion = closestName(name.toLowerCase(), ["string", "int", "float", "boolean", "timestamp", "json", "any"]);
  const hint = suggestion ? `; did you mean "${suggestion}"?` : "";
  return { ok: false, message: `${at}: unknown type "${name}"${hint} (types: ${TYPE_LIST})` };
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function parseFields(spec: Record<string, unknown>, at: string): { ok: true; fields: Field[] } | SchemaError {
  const fields: Field[] = [];
  for (const [name, value] of Object.entries(spec)) {
    const where = at ? `${at}.${name}` : name;
    if (isPlainObject(value)) {
      const nested = parseFields(value, where);
      if (!nested.ok) return nested;
      fields.push(field(name, t.object(nested.fields)));
    } else if (typeof value === "string") {
      const nullable = value.trimEnd().endsWith("?");
      const parsed = parseTypeName(nullable ? value.trimEnd().slice(0, -1) : value, `--schema field ${where}`);
      if (!parsed.ok) return parsed;
      fields.push(field(name, parsed.type, nullable));
    } else {
      return {
        ok: false,
        message: `--schema field ${where}: write a type name such as "int" or "string?", or an object of fields`,
      };
    }
  }
  return { ok: true, fields };
}

/**
 * `--schema '{"amount":"float","country":"string?","tags":"array<string>","user":{"name":"string"}}'`: field name to
 * type name (`?` makes it nullable), or to an object of nested fields. The schema is closed.
 */
export function parseSchemaOption(text: string): SchemaResult {
  let spec: unknown;
  try {
    spec = JSON.parse(text);
  } catch (err) {
    return { ok: false, message: `--schema is not valid JSON: ${(err as Error).message}` };
  }
  if (!isPlainObject(spec)) {
    return { ok: false, message: `--schema must be a JSON object of field names to types, e.g. {"amount":"float"}` };
  }
  const parsed = parseFields(spec, "");
  return parsed.ok ? { ok: true, schema: { open: false, fields: parsed.fields } } : parsed;
}

/**
 * Checks a record against a declared schema, so the compiled expression (which trusts static types) only sees
 * values of the declared types. Timestamps may be given as epoch milliseconds or ISO 8601 text (UTC unless it
 * carries an offset); they come back as milliseconds.
 */
export function conformRecord(record: DataRecord, schema: RecordSchema): RecordResult {
  const out: DataRecord = { ...record };
  for (const f of schema.fields) {
    const converted = conformValue(Object.hasOwn(record, f.name) ? record[f.name] : undefined, f, f.name);
    if (!converted.ok) return converted;
    if (converted.value !== undefined) out[f.name] = converted.value;
  }
  return { ok: true, record: out };
}

type ValueResult = { ok: true; value: unknown } | { ok: false; message: string };

function conformValue(value: unknown, f: Pick<Field, "type" | "nullable">, at: string): ValueResult {
  if (value === undefined || value === null) {
    if (f.nullable || f.type.kind === "any" || f.type.kind === "json") return { ok: true, value };
    return {
      ok: false,
      message: `--input field ${at} is ${value === null ? "null" : "missing"}, but --schema says it is not nullable (write "${typeLabel(f.type)}?")`,
    };
  }
  const wrong = (): ValueResult => ({
    ok: false,
    message: `--input field ${at} is ${JSON.stringify(value)}, which is not a ${typeLabel(f.type)} as --schema says`,
  });
  const type = f.type;
  switch (type.kind) {
    case "string":
      return typeof value === "string" ? { ok: true, value } : wrong();
    case "int":
      return Number.isSafeInteger(value) ? { ok: true, value } : wrong();
    case "float":
      return typeof value === "number" ? { ok: true, value } : wrong();
    case "boolean":
      return typeof value === "boolean" ? { ok: true, value } : wrong();
    case "timestamp": {
      if (Number.isSafeInteger(value)) return { ok: true, value };
      const ms = typeof value === "string" ? parseTimestamp(value, "UTC") : undefined;
      return ms === undefined ? wrong() : { ok: true, value: ms };
    }
    case "array": {
      if (!Array.isArray(value)) return wrong();
      const items: unknown[] = [];
      for (const [i, item] of value.entries()) {
        const converted = conformValue(item, { type: type.items, nullable: true }, `${at}[${i + 1}]`);
        if (!converted.ok) return converted;
        items.push(converted.value);
      }
      return { ok: true, value: items };
    }
    case "object": {
      if (!isPlainObject(value)) return wrong();
      const out: Record<string, unknown> = { ...value };
      for (const g of type.fields) {
        const member = Object.hasOwn(value, g.name) ? value[g.name] : undefined;
        const converted = conformValue(member, g, `${at}.${g.name}`);
        if (!converted.ok) return converted;
        if (converted.value !== undefined) out[g.name] = converted.value;
      }
      return { ok: true, value: out };
    }
    default:
      return { ok: true, value };
  }
}

function typeLabel(type: DataType): string {
  return type.kind === "array" ? `array<${typeLabel(type.items)}>` : type.kind;
}
