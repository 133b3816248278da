import type { DataRecord } from "@sluice/pipeline/record-schema";
import { copyWithout, ownValue, RecordError, setField } from "../record-fields";
import type { TransformRuntime } from "../runtime-contract";
import { type DeclaredField, declaredFields, type ParseConfig } from "./parse.def";
import { convertValue, parseCsvRecord, parseJsonText, TextParseError } from "./parse-text";

function describe(value: unknown): string {
  if (Array.isArray(value)) return "an array";
  return value !== null && typeof value === "object" ? "an object" : `${typeof value} ${String(value)}`;
}

/** Reads the declared fields from a JSON object or CSV cells into `out`, converted to their types. */
function fillDeclared(
  out: DataRecord,
  declared: readonly DeclaredField[],
  values: (i: number, name: string) => unknown,
  fromText: boolean,
  sourceField: string,
): void {
  for (let i = 0; i < declared.length; i++) {
    const d = declared[i]!;
    let value: unknown;
    try {
      value = convertValue(values(i, d.name), d.type, fromText);
    } catch (err) {
      throw new RecordError(`${sourceField}.${d.name}`, err instanceof Error ? err.message : String(err), {
        cause: err,
      });
    }
    if (value === null && !d.nullable) throw new RecordError(`${sourceField}.${d.name}`, "is NULL or missing");
    setField(out, d.name, value);
  }
}

export const parseRuntime: TransformRuntime<ParseConfig> = {
  kind: "transform",
  type: "transform.parse",
  create(ctx) {
    const c = ctx.config;
    const declared = declaredFields(c);
    const source = c.field;
    const target = c.target;
    const sourceOnly = new Set([source]);
    const isCsv = c.format === "csv";
    const columns = declared?.length ?? 0;

    /** The parsed fields as an object, or the whole parsed value when nothing is declared. */
    const parse = (text: string): unknown => {
      if (isCsv) {
        const cells = parseCsvRecord(text, c.delimiter, c.quote);
        if (cells.length !== columns) {
          throw new TextParseError(`expected ${columns} column${columns === 1 ? "" : "s"} but found ${cells.length}`);
        }
        const out: DataRecord = {};
        fillDeclared(out, declared!, (i) => cells[i], true, source);
        return out;
      }
      const value = parseJsonText(text);
      if (!declared && target !== undefined) return value;
      if (value === null || typeof value !== "object" || Array.isArray(value)) {
        throw new TextParseError(`expected a JSON object but found ${describe(value)}`);
      }
      if (!declared) return value;
      const object = value as Record<string, unknown>;
      const out: DataRecord = {};
      fillDeclared(out, declared, (_, name) => ownValue(object, name), false, source);
      return out;
    };

    /** What a NULL or missing text gives. */
    const nothing = (): unknown => {
      if (!declared) return null;
      const out: DataRecord = {};
      fillDeclared(out, declared, () => null, false, source);
      return out;
    };

    return {
      process(record, emit) {
        const text = ownValue(record, source);
        let parsed: unknown;
        if (text === null || text === undefined) parsed = nothing();
        else if (typeof text !== "string") throw new RecordError(source, `expected text but found ${describe(text)}`);
        else {
          try {
            parsed = parse(text);
          } catch (err) {
            if (err instanceof RecordError) throw err;
            throw new RecordError(source, err instanceof Error ? err.message : String(err), { cause: err });
          }
        }
        const out: DataRecord = c.keepSource || target === source ? { ...record } : copyWithout(record, sourceOnly);
        if (target !== undefined) out[target] = parsed;
        else if (parsed !== null)
          for (const key in parsed as DataRecord) setField(out, key, (parsed as DataRecord)[key]);
        emit(out);
      },
    };
  },
};
