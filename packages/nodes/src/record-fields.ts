import type { InferIssue } from "@sluice/pipeline/node-definition";
import { type Field, findField, type RecordSchema } from "@sluice/pipeline/record-schema";
import { closestName } from "@sluice/pipeline/suggest";
import { z } from "zod";

// Field names in node configs, and the schema bookkeeping every record-reshaping transform shares. Browser-safe.

/** A field the input records already have: any non-empty name, since JSON sources bring keys like `user-id`. */
export const FieldRef = z.string().min(1, "name a field").max(256, "field names are at most 256 characters");

/**
 * A field a node creates or renames. Names made only of digits are refused: JavaScript orders such object keys
 * first, so the record's field order would no longer match its schema.
 */
export const NewFieldName = FieldRef.regex(/\D/, "a field name cannot be only digits").refine(
  (name) => name !== "__proto__",
  "__proto__ cannot be a field name",
);

/** `record[name]` when the record itself has it, else undefined: `constructor` or `toString` never read a prototype. */
export function ownValue(record: Readonly<Record<string, unknown>>, name: string): unknown {
  return Object.hasOwn(record, name) ? record[name] : undefined;
}

/** An issue when `name` is not a field of a closed schema (an open one may still carry it), with did-you-mean. */
export function unknownFieldIssue(
  schema: RecordSchema,
  name: string,
  path: (string | number)[],
): InferIssue | undefined {
  if (schema.open || findField(schema, name)) return undefined;
  const suggestion = closestName(
    name,
    schema.fields.map((f) => f.name),
  );
  return {
    severity: "error",
    code: "unknown-field",
    message: `"${name}" is not an input field${schema.fields.length > 0 ? `; the input has ${fieldList(schema)}` : ""}`,
    path,
    ...(suggestion !== undefined ? { suggestion } : {}),
  };
}

function fieldList(schema: RecordSchema): string {
  const names = schema.fields.map((f) => f.name);
  const shown = names.slice(0, 12).join(", ");
  return names.length > 12 ? `${shown}, … (${names.length} fields)` : shown;
}

/**
 * An output schema. `eventTime` names the output field that carries the input's event time (default: the same
 * name); it stays the event time if that field is in `fields` with a type that still holds epoch milliseconds.
 */
export function derivedSchema(
  input: RecordSchema,
  fields: readonly Field[],
  open: boolean,
  eventTime: string | null = input.eventTime ?? null,
): RecordSchema {
  const kept = eventTime === null ? undefined : fields.find((f) => f.name === eventTime);
  return kept !== undefined && EVENT_TIME_KINDS.has(kept.type.kind)
    ? { fields, open, eventTime: kept.name }
    : { fields, open };
}

const EVENT_TIME_KINDS = new Set(["timestamp", "int", "float", "any"]);

/** Copies `record` without the fields in `skip`, keeping field order (no `delete`, which slows objects down). */
export function copyWithout(
  record: Readonly<Record<string, unknown>>,
  skip: ReadonlySet<string>,
): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const key in record) {
    if (!skip.has(key)) setField(out, key, record[key]);
  }
  return out;
}

/**
 * `out[key] = value` as a plain data property even for `__proto__`, which JSON input may carry as an ordinary key
 * and which an assignment would turn into a prototype change.
 */
export function setField(out: Record<string, unknown>, key: string, value: unknown): void {
  if (key === "__proto__")
    Object.defineProperty(out, key, { value, enumerable: true, writable: true, configurable: true });
  else out[key] = value;
}

/** An error about one record that names the field at fault; the engine dead-letters the record with it. */
export class RecordError extends Error {
  override name = "RecordError";
  constructor(
    /** The config or record field concerned, e.g. `set.total` or `payload`. */
    readonly field: string,
    message: string,
    options?: ErrorOptions,
  ) {
    super(`${field}: ${message}`, options);
  }
}
