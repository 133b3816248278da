import { z } from "zod";

// A node's config schema as JSON Schema (draft 2020-12), as the inspector form and the reference docs read it.
// Input mode: fields with defaults are optional, transforms show what the user writes.

export interface JsonSchema {
  type?: string | string[];
  title?: string;
  description?: string;
  label?: string;
  help?: string;
  widget?: string;
  advanced?: boolean;
  placeholder?: string;
  examples?: unknown[];
  default?: unknown;
  const?: unknown;
  enum?: unknown[];
  minimum?: number;
  maximum?: number;
  minLength?: number;
  maxLength?: number;
  pattern?: string;
  properties?: Record<string, JsonSchema>;
  required?: string[];
  additionalProperties?: JsonSchema | boolean;
  items?: JsonSchema;
  anyOf?: JsonSchema[];
  oneOf?: JsonSchema[];
  [key: string]: unknown;
}

const cache = new WeakMap<object, JsonSchema>();

/** Of a node type or a connection type: anything declared with a zod config schema. */
export function configJsonSchema(def: { config: z.ZodType }): JsonSchema {
  let schema = cache.get(def);
  if (!schema) {
    schema = z.toJSONSchema(def.config, { io: "input", unrepresentable: "any" }) as JsonSchema;
    cache.set(def, schema);
  }
  return schema;
}

/** A short human type name for a JSON Schema node: `string`, `integer (1–256)`, `one of "a", "b"`, … */
export function describeType(s: JsonSchema): string {
  if (s.const !== undefined) return JSON.stringify(s.const);
  if (s.enum) return `one of ${s.enum.map((v) => JSON.stringify(v)).join(", ")}`;
  const alternatives = s.oneOf ?? s.anyOf;
  if (alternatives) return alternatives.map((a) => a.title ?? describeType(a)).join(" | ");
  const type = Array.isArray(s.type) ? s.type.join(" or ") : (s.type ?? "any");
  if (type === "array" && s.items) return `list of ${describeType(s.items)}`;
  if (type === "object" && s.additionalProperties && typeof s.additionalProperties === "object") {
    return `map of name → ${describeType(s.additionalProperties)}`;
  }
  const range = s.minimum !== undefined || s.maximum !== undefined ? ` (${s.minimum ?? "…"}–${s.maximum ?? "…"})` : "";
  return `${type}${range}`;
}
