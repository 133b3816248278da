import { linearRegExp } from "@sluice/pipeline/expr/regex";
import { closestName } from "@sluice/pipeline/suggest";
import type { ErrorObject, ValidateFunction } from "ajv";
import Ajv2020 from "ajv/dist/2020.js";
import addFormats from "ajv-formats";

// JSON Schema (draft 2020-12) compilation shared by transform.validate's declaration (design-time checks of the
// schema itself) and its runtime. Browser-safe: ajv is pure JavaScript.

const DRAFT_2020_12 = "https://json-schema.org/draft/2020-12/schema";

/**
 * A fresh ajv per compile: schemas with the same `$id` in two nodes (or two edits of one) would otherwise collide
 * in a shared instance, and a shared cache would grow with every edit. Options never modify the data: no
 * defaults, no coercion, no removal of additional properties.
 */
function newAjv(): Ajv2020 {
  const ajv = new Ajv2020({
    allErrors: true,
    // Unknown keywords are annotations in JSON Schema; unknownKeywords() reports the ones that look like typos.
    strict: true,
    strictSchema: false,
    strictTypes: false,
    strictTuples: false,
    strictRequired: false,
    allowUnionTypes: true,
    logger: false,
    // `pattern` runs on record data: RE2 in linear time, as in expressions, not a backtracking RegExp.
    code: { regExp: linearRegExp },
  });
  addFormats(ajv);
  return ajv;
}

export interface SchemaProblem {
  severity: "error" | "warning";
  message: string;
  /** JSON pointer segments inside the schema, when the problem is at one place. */
  path: (string | number)[];
  suggestion?: string;
}

export type CompiledJsonSchema = { ok: true; validate: ValidateFunction } | { ok: false; problems: SchemaProblem[] };

// Keywords of draft 2020-12 and ajv-formats, for "did you mean" on a misspelt keyword.
// biome-ignore format: a word list
const KEYWORDS = [
  "$schema", "$id", "$ref", "$defs", "$anchor", "$dynamicRef", "$dynamicAnchor", "$comment", "$vocabulary",
  "type", "enum", "const", "multipleOf", "maximum", "exclusiveMaximum", "minimum", "exclusiveMinimum",
  "maxLength", "minLength", "pattern", "maxItems", "minItems", "uniqueItems", "maxContains", "minContains",
  "maxProperties", "minProperties", "required", "dependentRequired", "properties", "patternProperties",
  "additionalProperties", "propertyNames", "items", "prefixItems", "contains", "unevaluatedItems",
  "unevaluatedProperties", "dependentSchemas", "allOf", "anyOf", "oneOf", "not", "if", "then", "else", "format",
  "title", "description", "default", "deprecated", "readOnly", "writeOnly", "examples", "contentEncoding",
  "contentMediaType", "contentSchema", "formatMinimum", "formatMaximum", "formatExclusiveMinimum",
  "formatExclusiveMaximum",
];

function pointerPath(pointer: string): (string | number)[] {
  if (pointer === "" || pointer === "#") return [];
  return pointer
    .replace(/^#/, "")
    .split("/")
    .slice(1)
    .map((s) => s.replace(/~1/g, "/").replace(/~0/g, "~"))
    .map((s) => (/^\d+$/.test(s) ? Number(s) : s));
}

function metaSchemaProblems(errors: readonly ErrorObject[]): SchemaProblem[] {
  // The meta-schema reports one fault several ways (enum, then each anyOf branch); keep the first per place.
  const seen = new Set<string>();
  const problems: SchemaProblem[] = [];
  for (const e of errors) {
    if (seen.has(e.instancePath)) continue;
    seen.add(e.instancePath);
    const allowed = (e.params as { allowedValues?: unknown[] }).allowedValues;
    const where = e.instancePath === "" ? "the schema" : `"${e.instancePath}"`;
    problems.push({
      severity: "error",
      message: `${where} ${e.message ?? "is invalid"}${allowed ? `: ${allowed.map((v) => JSON.stringify(v)).join(", ")}` : ""}`,
      path: pointerPath(e.instancePath),
    });
  }
  return problems;
}

function compileProblem(err: unknown): SchemaProblem {
  const message = err instanceof Error ? err.message : String(err);
  if (/^no schema with key or ref "http:\/\/json-schema\.org\/draft-0\d\/schema#?"$/.test(message)) {
    return {
      severity: "error",
      message: `only JSON Schema draft 2020-12 is supported: remove "$schema" or set it to "${DRAFT_2020_12}" (draft-07 schemas mostly work unchanged)`,
      path: ["$schema"],
    };
  }
  return { severity: "error", message, path: [] };
}

const KNOWN = new Set(KEYWORDS);
// Keywords that only annotate: misspelling one loses nothing, so it is a warning, not an error.
const ANNOTATIONS = new Set([
  "$comment",
  "title",
  "description",
  "default",
  "deprecated",
  "readOnly",
  "writeOnly",
  "examples",
  "contentEncoding",
  "contentMediaType",
  "contentSchema",
]);
const SUBSCHEMA = ["items", "additionalProperties", "contains", "propertyNames", "not", "if", "then", "else"];
const SUBSCHEMA_MAPS = ["properties", "patternProperties", "$defs", "dependentSchemas"];
const SUBSCHEMA_LISTS = ["allOf", "anyOf", "oneOf", "prefixItems"];
const UNEVALUATED = ["unevaluatedItems", "unevaluatedProperties"];

/**
 * Problems ajv lets pass when unknown keywords are allowed. Unknown keywords are legal in JSON Schema (annotations)
 * and ignored, but one close to a validation keyword (`requried`) is almost surely a typo that silently switches a
 * check off: an error. Other unknown keywords are warnings, and `x-` prefixed ones (the usual extension convention)
 * pass quietly. Unknown formats are errors, since ajv would ignore them.
 */
function unknownKeywords(
  schema: unknown,
  isFormat: (name: string) => boolean,
  at: (string | number)[] = [],
  out: SchemaProblem[] = [],
): SchemaProblem[] {
  if (schema === null || typeof schema !== "object" || Array.isArray(schema) || at.length > 64) return out;
  for (const [key, value] of Object.entries(schema)) {
    if (KNOWN.has(key)) {
      if (SUBSCHEMA.includes(key) || UNEVALUATED.includes(key)) unknownKeywords(value, isFormat, [...at, key], out);
      else if (SUBSCHEMA_MAPS.includes(key) && value !== null && typeof value === "object") {
        for (const [name, sub] of Object.entries(value)) unknownKeywords(sub, isFormat, [...at, key, name], out);
      } else if (SUBSCHEMA_LISTS.includes(key) && Array.isArray(value)) {
        value.forEach((sub, i) => {
          unknownKeywords(sub, isFormat, [...at, key, i], out);
        });
      } else if (key === "format" && typeof value === "string" && !isFormat(value)) {
        out.push({ severity: "error", message: `unknown format "${value}"`, path: [...at, key] });
      }
      continue;
    }
    if (key.startsWith("x-")) continue;
    const suggestion = closestName(key, KEYWORDS);
    const message = `"${key}" is not a JSON Schema keyword and is ignored`;
    if (suggestion === undefined) {
      out.push({
        severity: "warning",
        message: `${message} (prefix your own annotations with "x-")`,
        path: [...at, key],
      });
    } else {
      const severity = ANNOTATIONS.has(suggestion) ? "warning" : "error";
      out.push({ severity, message, path: [...at, key], suggestion });
    }
  }
  return out;
}

/** Compiles a JSON Schema, or says why it cannot be compiled. Never throws. */
export function compileJsonSchema(schema: Readonly<Record<string, unknown>>): CompiledJsonSchema {
  return compileWith(newAjv(), schema);
}

function compileWith(ajv: Ajv2020, schema: Readonly<Record<string, unknown>>): CompiledJsonSchema {
  try {
    if (!ajv.validateSchema(schema)) return { ok: false, problems: metaSchemaProblems(ajv.errors ?? []) };
    return { ok: true, validate: ajv.compile(schema) };
  } catch (err) {
    return { ok: false, problems: [compileProblem(err)] };
  }
}

/** Everything wrong or suspicious about a schema, for the editor: what stops it compiling, typos, unknown formats. */
export function checkJsonSchema(schema: Readonly<Record<string, unknown>>): SchemaProblem[] {
  const ajv = newAjv();
  const problems = unknownKeywords(schema, (name) => Object.hasOwn(ajv.formats, name));
  const compiled = compileWith(ajv, schema);
  if (!compiled.ok) problems.push(...compiled.problems);
  return problems;
}

/** One validation failure as the `errors` output reports it. */
export interface RecordViolation {
  /** JSON pointer to the offending value inside the record; "" is the record itself. */
  path: string;
  /** The JSON Schema keyword that failed, e.g. `required`, `type`, `format`. */
  keyword: string;
  message: string;
  [key: string]: string;
}

export function recordViolations(errors: readonly ErrorObject[], max: number): RecordViolation[] {
  const out: RecordViolation[] = [];
  for (const e of errors) {
    if (out.length >= max) break;
    const params = e.params as { missingProperty?: string; additionalProperty?: string };
    let message = e.message ?? "is invalid";
    if (e.keyword === "additionalProperties" && params.additionalProperty !== undefined) {
      message = `must NOT have the additional property '${params.additionalProperty}'`;
    }
    out.push({ path: e.instancePath, keyword: e.keyword, message });
  }
  return out;
}
