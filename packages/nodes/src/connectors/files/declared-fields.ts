import { type Field, field, t } from "@sluice/pipeline/record-schema";
import { z } from "zod";
import { NewFieldName } from "../../record-fields";
import { convertValue, type ParsedType, TextParseError } from "../../transforms/parse-text";

// Fields a connector's records are declared to have, with their types: CSV columns, the keys taken from JSON lines,
// webhook bodies and Parquet rows, the columns read from a table. Declared fields give downstream nodes a closed,
// typed schema; values are converted (and refused) exactly as transform.parse does. Browser-safe.

const DECLARED_TYPES = [
  "string",
  "int",
  "float",
  "boolean",
  "timestamp",
  "json",
] as const satisfies readonly ParsedType[];

export const DeclaredField = z.union([
  NewFieldName.meta({ title: "Name" }),
  z
    .strictObject({
      name: NewFieldName,
      type: z.enum(DECLARED_TYPES).default("string"),
      nullable: z
        .boolean()
        .default(true)
        .meta({ help: "Off: a record whose value is NULL or missing is refused (dead-lettered)." }),
    })
    .meta({ title: "Name and type" }),
]);

export interface Declared {
  name: string;
  type: ParsedType;
  nullable: boolean;
  /** Declared by name only: a JSON value is kept as it came (text is not parsed). */
  bare?: boolean;
}

/** `fields` config: at most 1000 declared fields with distinct names. */
export function declaredFieldList(help: string, examples: unknown[]) {
  return z
    .array(DeclaredField)
    .min(1)
    .max(1000)
    .superRefine((list, ctx) => {
      const seen = new Set<string>();
      list.forEach((d, i) => {
        const name = typeof d === "string" ? d : d.name;
        if (seen.has(name)) ctx.addIssue({ code: "custom", path: [i], message: `"${name}" is declared twice` });
        seen.add(name);
      });
    })
    .meta({ label: "Fields", help, widget: "fields", examples });
}

/** The declared fields, normalised; a bare name gets `bare` as its type. */
export function normaliseDeclared(
  list: readonly z.output<typeof DeclaredField>[] | undefined,
  bare: ParsedType,
): Declared[] | undefined {
  return list?.map((d) => (typeof d === "string" ? { name: d, type: bare, nullable: true, bare: true } : d));
}

export function declaredSchemaFields(declared: readonly Declared[]): Field[] {
  return declared.map((d) => field(d.name, t[d.type], d.nullable));
}

/**
 * Converts one value to its declared type; throws a TextParseError naming the field when it does not fit or when a
 * non-nullable field is NULL. `fromText` for values that are text by nature (CSV cells).
 */
export function convertDeclared(d: Declared, value: unknown, fromText: boolean): unknown {
  let out: unknown;
  try {
    out = convertValue(value, d.type, fromText && d.bare !== true);
  } catch (err) {
    throw new TextParseError(`field "${d.name}": ${err instanceof Error ? err.message : String(err)}`);
  }
  if ((out === null || out === undefined) && !d.nullable) {
    throw new TextParseError(`field "${d.name}" is NULL or missing but is declared not nullable`);
  }
  return out ?? null;
}

/** A record with exactly the declared keys of `source`, converted; throws naming the first field that does not fit. */
export function pickDeclared(
  source: Readonly<Record<string, unknown>>,
  declared: readonly Declared[],
  fromText: boolean,
): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const d of declared) {
    const value = Object.hasOwn(source, d.name) ? source[d.name] : undefined;
    out[d.name] = convertDeclared(d, value, fromText);
  }
  return out;
}
