import type { z } from "zod";
import type { JsonSchema } from "./config-schema";

// Turns a zod issue into a sentence about the user's pipeline that names the field by the label its form shows.
// Messages a declaration wrote itself are kept (after the label); zod's own wording never reaches a user: a parse
// with `parseOptions` marks every message zod would have made up, and `zodIssueSentences` writes its own instead.
// (A validation issue's own sentence, with its place in an expression, is issues.ts's `issueSentence`.)

const ZOD_DEFAULT = "\u0000zod-default";

/** Pass to safeParse: the messages zod would invent are marked, so `zodIssueSentences` can tell them from authored ones. */
export const parseOptions = { error: () => ZOD_DEFAULT } as const;

export type IssuePath = (string | number)[];

/**
 * What sentences about the pipeline file's own parts call them: its top-level fields are no form's fields, so
 * "Spec: required." would name nothing a person has seen.
 */
export const DEFINITION_SUBJECTS = {
  pipeline: "The pipeline",
  apiVersion: "The pipeline's format version (apiVersion)",
  kind: "The pipeline's kind",
  metadata: "The pipeline's details",
  spec: "The pipeline's nodes and edges",
} as const;

export interface IssueSentence {
  path: IssuePath;
  message: string;
}

const ACRONYMS = new Set(["api", "id", "ids", "url", "json", "sql", "tls", "http"]);

/** "routingKey" → "Routing key", "out_of_orderness" → "Out of orderness", "apiVersion" → "API version". */
export function humanize(name: string): string {
  const words = name
    .replace(/([a-z0-9])([A-Z])/g, "$1 $2")
    .replace(/[_-]+/g, " ")
    .trim()
    .toLowerCase()
    .split(/\s+/)
    .map((w) => (ACRONYMS.has(w) ? (w === "ids" ? "IDs" : w.toUpperCase()) : w))
    .join(" ");
  return words.length > 0 ? capitalize(words) : name;
}

function capitalize(text: string): string {
  return text.length > 0 ? text[0]!.toUpperCase() + text.slice(1) : text;
}

/** The message ends as a sentence does; an authored message may start lower-case after the label. */
function sentence(label: string, text: string): string {
  const body = /^[A-Z][a-z]/.test(text) ? text[0]!.toLowerCase() + text.slice(1) : text;
  const stop = /[.!?]$/.test(body) ? "" : ".";
  return `${capitalize(label)}: ${body}${stop}`;
}

const isObject = (v: unknown): v is JsonSchema => typeof v === "object" && v !== null && !Array.isArray(v);

/** `$ref` into `$defs`, as z.toJSONSchema writes for a reused schema. */
function resolve(schema: JsonSchema, root: JsonSchema): JsonSchema {
  const ref = schema.$ref;
  if (typeof ref !== "string" || !ref.startsWith("#/")) return schema;
  let target: unknown = root;
  for (const part of ref.slice(2).split("/")) target = isObject(target) ? target[part] : undefined;
  return isObject(target) ? { ...target, ...schema, $ref: undefined } : schema;
}

function labelOf(schema: JsonSchema | undefined, fallback: string): string {
  if (schema && typeof schema.label === "string") return schema.label;
  if (schema && typeof schema.title === "string") return schema.title;
  return fallback;
}

/** The schema one step down `key`, looking through unions for the member that has it. */
function child(schema: JsonSchema, key: string | number, root: JsonSchema): JsonSchema | undefined {
  const s = resolve(schema, root);
  if (typeof key === "number") {
    if (isObject(s.items)) return resolve(s.items, root);
    if (Array.isArray(s.prefixItems) && isObject(s.prefixItems[key])) return resolve(s.prefixItems[key], root);
  } else {
    if (isObject(s.properties) && isObject(s.properties[key])) return resolve(s.properties[key], root);
    if (isObject(s.additionalProperties)) return resolve(s.additionalProperties, root);
  }
  for (const member of [...(s.anyOf ?? []), ...(s.oneOf ?? [])]) {
    if (!isObject(member)) continue;
    const found = child(member, key, root);
    if (found) return found;
  }
  return undefined;
}

/** Where a path points, as the form names it: "Routes › item 2 › Condition". Empty path: the subject itself. */
export function fieldLabel(
  path: readonly (PropertyKey | number)[],
  root: JsonSchema,
  subject: string,
  topLabels: Readonly<Record<string, string>> = {},
): string {
  const parts: string[] = [];
  let schema: JsonSchema | undefined = root;
  let inMap = false;
  for (const key of path) {
    const k = typeof key === "symbol" ? String(key.description) : key;
    const next: JsonSchema | undefined = schema ? child(schema, k, root) : undefined;
    const named = schema && isObject(resolve(schema, root).properties?.[k as string]);
    if (typeof k === "number") parts.push(`item ${k + 1}`);
    else if (parts.length === 0 && Object.hasOwn(topLabels, k)) parts.push(topLabels[k]!);
    else if (named || !inMap) parts.push(labelOf(next, humanize(k)));
    else parts.push(`“${k}”`);
    inMap = next !== undefined && isObject(next.additionalProperties) && !isObject(next.properties);
    schema = next;
  }
  return parts.length > 0 ? parts.join(" › ") : subject;
}

function valueAt(value: unknown, path: readonly PropertyKey[]): unknown {
  let v = value;
  for (const key of path) {
    if (v === null || typeof v !== "object") return undefined;
    v = (v as Record<PropertyKey, unknown>)[key];
  }
  return v;
}

const isEmpty = (v: unknown) => v === undefined || v === null || (typeof v === "string" && v.trim() === "");

const EXPECTED: Record<string, string> = {
  string: "must be text",
  number: "must be a number",
  int: "must be a whole number",
  bigint: "must be a whole number",
  boolean: "must be true or false",
  array: "must be a list",
  tuple: "must be a list",
  object: "must be a group of settings",
  record: "must be a list of names and values",
  map: "must be a list of names and values",
  date: "must be a date",
  null: "must be empty",
};

const quote = (v: unknown) => (typeof v === "string" ? `“${v}”` : String(v));

function list(values: readonly unknown[], conjunction = "or"): string {
  const q = values.map(quote);
  return q.length <= 1 ? (q[0] ?? "") : `${q.slice(0, -1).join(", ")} ${conjunction} ${q.at(-1)}`;
}

function countOf(n: number | bigint, one: string, many: string): string {
  return `${n} ${Number(n) === 1 ? one : many}`;
}

/** What zod found wrong, in our words (no label yet). */
function whatIsWrong(issue: z.core.$ZodIssue, value: unknown): string {
  switch (issue.code) {
    case "invalid_type":
      if (value === undefined || value === null) {
        return issue.expected === "array" || issue.expected === "record" ? "add at least one" : "required";
      }
      return EXPECTED[issue.expected] ?? `must be ${issue.expected}`;
    case "too_small": {
      const min = issue.minimum;
      const more = issue.inclusive === false;
      if (issue.origin === "string") {
        if (isEmpty(value)) return "required";
        return more
          ? `must be longer than ${countOf(min, "character", "characters")}`
          : `must be at least ${countOf(min, "character", "characters")} long`;
      }
      if (issue.origin === "array" || issue.origin === "set") {
        if (Number(min) <= 1) return "add at least one";
        return `add at least ${min}`;
      }
      if (issue.origin === "object" || issue.origin === "record") return "add at least one entry";
      return more ? `must be more than ${min}` : `must be at least ${min}`;
    }
    case "too_big": {
      const max = issue.maximum;
      const less = issue.inclusive === false;
      if (issue.origin === "string") return `must be at most ${countOf(max, "character", "characters")} long`;
      if (issue.origin === "array" || issue.origin === "set")
        return `can have at most ${countOf(max, "item", "items")}`;
      if (issue.origin === "object" || issue.origin === "record")
        return `can have at most ${countOf(max, "entry", "entries")}`;
      return less ? `must be less than ${max}` : `must be at most ${max}`;
    }
    case "invalid_format":
      if (isEmpty(value)) return "required";
      return issue.format === "regex" ? "is not written the way it should be" : `must be a valid ${issue.format}`;
    case "not_multiple_of":
      return `must be a multiple of ${issue.divisor}`;
    case "unrecognized_keys":
      return issue.keys.length === 1
        ? `${quote(issue.keys[0])} is not a known setting; remove it`
        : `${list(issue.keys, "and")} are not known settings; remove them`;
    case "invalid_union":
      if (value === undefined || value === null || value === "") return "required";
      // A tagged union names its kinds; an untagged one can only say the value fits none of its forms.
      if ("options" in issue && issue.options && issue.options.length > 0)
        return `choose one of ${list(issue.options)}`;
      return "is not one of the forms it accepts";
    case "invalid_key":
      return "has a name that is not allowed";
    case "invalid_element":
      return "has a value that is not allowed";
    case "invalid_value":
      if (isEmpty(value)) return "required";
      return issue.values.length === 1 ? `must be ${quote(issue.values[0])}` : `choose one of ${list(issue.values)}`;
    default:
      return isEmpty(value) ? "required" : "is not valid";
  }
}

/**
 * Each issue as a sentence naming its field: "Key: required.", "Routes › item 1 › Condition: write a condition.".
 * `value` is what was parsed (to tell a missing field from a wrong one); `subject` names the whole (the node type's
 * title) for issues about it rather than one field, `topLabels` what to call top-level fields a form does not show.
 * Only the first issue of each field is kept: a field that is missing is not also "too short".
 */
export function zodIssueSentences(
  issues: readonly z.core.$ZodIssue[],
  root: JsonSchema,
  value: unknown,
  subject: string,
  topLabels: Readonly<Record<string, string>> = {},
): IssueSentence[] {
  const seen = new Set<string>();
  const out: IssueSentence[] = [];
  for (const issue of issues) {
    const path: IssuePath = issue.path.map((p) => (typeof p === "number" ? p : String(p)));
    const key = JSON.stringify(path);
    if (seen.has(key)) continue;
    seen.add(key);
    const text = issue.message === ZOD_DEFAULT ? whatIsWrong(issue, valueAt(value, issue.path)) : issue.message;
    out.push({ path, message: sentence(fieldLabel(issue.path, root, subject, topLabels), text) });
  }
  return out;
}
