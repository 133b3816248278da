import { t } from "../../record-schema";
import { ExprFault } from "../errors";
import { type PathStep, parseJsonPath, walkJsonPath } from "../json-path";
import { toJsonText } from "../values";
import { type ArgInfo, defineFunction, type ScalarFunctionDef } from "./define";

/** JSON text to a value; NULL for text that is not JSON (a bad payload should not fail the whole record). */
function parseJsonText(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return null;
  }
}

function constantPath(args: readonly ArgInfo[]): PathStep[] | undefined {
  const a = args[1];
  if (!a?.constant || typeof a.value !== "string") return undefined;
  const parsed = parseJsonPath(a.value);
  return parsed.ok ? parsed.steps : undefined;
}

export const JSON_FUNCTIONS: readonly ScalarFunctionDef[] = [
  defineFunction({
    name: "json_parse",
    category: "json",
    doc: "The JSON value written in the text; NULL if the text is not valid JSON.",
    params: ["text: string"],
    returns: t.json,
    nullable: "always",
    impl: (s) => parseJsonText(s),
  }),
  defineFunction({
    name: "json_extract",
    category: "json",
    doc: "The value at a JSON path such as '$.a.b[0]' (array positions 0-based) in a JSON value or JSON text; NULL if absent.",
    params: ["value: json", "path: string"],
    returns: t.json,
    nullable: "always",
    check: (args) => {
      const a = args[1];
      if (!a?.constant || typeof a.value !== "string") return undefined;
      const parsed = parseJsonPath(a.value);
      return parsed.ok ? undefined : { index: 1, message: parsed.message };
    },
    prepare: (_ctx, args) => {
      const fixed = constantPath(args);
      return (value, path) => {
        let steps = fixed;
        if (steps === undefined) {
          const parsed = parseJsonPath(path);
          if (!parsed.ok) throw new ExprFault("invalid-argument", parsed.message);
          steps = parsed.steps;
        }
        return walkJsonPath(typeof value === "string" ? parseJsonText(value) : value, steps);
      };
    },
  }),
  defineFunction({
    name: "to_json",
    category: "json",
    doc: "The value written as JSON text (NULL becomes 'null'; timestamps are epoch milliseconds).",
    params: ["value: any"],
    returns: t.string,
    nullable: "never",
    nulls: "pass",
    impl: (v) => toJsonText(v),
  }),
  defineFunction({
    name: "cardinality",
    aliases: ["array_length"],
    category: "array",
    doc: "Number of elements in the array.",
    params: ["values: array"],
    returns: t.int,
    impl: (a) => a.length,
  }),
];
