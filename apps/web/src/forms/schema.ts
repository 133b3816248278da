// Turns a config's JSON Schema (a node type's, through `configJsonSchema`, the pipeline's settings, or a connection
// type's from the API) into a tree of form controls, drawn by schema-form.tsx, so every node and connection type
// gets its form from its one declaration. UI hints (label, help, widget, advanced, placeholder, examples, secret,
// connectionType, discover) ride along from `.meta()`. Nested objects, unions (with a kind selector), lists of
// objects and maps get their own controls; anything the form cannot break down gets a JSON editor, so every field
// stays editable.

export type JsonSchema = Record<string, unknown>;
export type Scalar = string | number | boolean;
export type ScalarType = "string" | "number" | "integer" | "boolean";
export type ConfigPathPart = string | number;

interface Common {
  label: string;
  help?: string;
  placeholder?: string;
  defaultValue?: unknown;
  widget?: string;
  advanced: boolean;
  /** Filled from connection discovery: the name of the object read or written, or its fields (see discovery-config). */
  discover?: DiscoverHint;
}

export type DiscoverHint = "object" | "fields";

export type Control =
  | (Common & { kind: "text"; multiline: boolean; monospace: boolean; secret: boolean })
  | (Common & { kind: "expression"; mode: "predicate" | "expression" | "aggregate" })
  | (Common & { kind: "connection"; connectionType?: string })
  | (Common & { kind: "number"; integer: boolean; min?: number; max?: number })
  | (Common & { kind: "boolean" })
  | (Common & { kind: "enum"; options: Scalar[] })
  | (Common & { kind: "scalar"; accepts: ScalarType[] })
  | (Common & { kind: "list" })
  | (Common & { kind: "object"; fields: FieldSpec[] })
  | (Common & { kind: "one-key"; options: FieldSpec[] })
  | (Common & { kind: "union"; members: UnionMember[] })
  | (Common & { kind: "array"; item: Control; minItems?: number; maxItems?: number })
  | (Common & { kind: "record"; value: Control })
  | (Common & { kind: "json" });

export interface FieldSpec {
  name: string;
  required: boolean;
  control: Control;
}

export interface UnionMember {
  label: string;
  control: Control;
  /** The schema type the member takes, for matching values. */
  accepts: "string" | "number" | "boolean" | "object" | "array" | "any";
  /** Discriminating property of an object member: `{ kind: "int", … }`. */
  tag?: { name: string; value: Scalar };
  /** Required property names of an object member. */
  keys?: string[];
}

export interface ConfigForm {
  fields: FieldSpec[];
  /** The config is not an object with named fields: edit it whole as JSON. */
  whole: boolean;
}

const forms = new WeakMap<JsonSchema, ConfigForm>();

/** The form for a config's JSON Schema, cached per schema object. */
export function configForm(schema: JsonSchema): ConfigForm {
  let form = forms.get(schema);
  if (!form) {
    form = buildForm(schema);
    forms.set(schema, form);
  }
  return form;
}

const isObject = (v: unknown): v is JsonSchema => typeof v === "object" && v !== null && !Array.isArray(v);
const isScalar = (v: unknown): v is Scalar => typeof v === "string" || typeof v === "number" || typeof v === "boolean";
const SCALAR_TYPES = new Set<string>(["string", "number", "integer", "boolean"]);
const MAX_DEPTH = 8;

function resolve(schema: JsonSchema, root: JsonSchema, depth = 0): JsonSchema {
  if (depth > 20) return schema;
  const ref = schema.$ref;
  if (typeof ref === "string" && ref.startsWith("#/")) {
    let target: unknown = root;
    for (const part of ref.slice(2).split("/"))
      target = isObject(target) ? target[part.replace(/~1/g, "/").replace(/~0/g, "~")] : undefined;
    if (isObject(target)) {
      const { $ref: _, ...rest } = schema;
      return resolve({ ...target, ...rest }, root, depth + 1);
    }
  }
  const allOf = schema.allOf;
  if (Array.isArray(allOf) && allOf.length === 1 && isObject(allOf[0])) {
    const { allOf: _, ...rest } = schema;
    return resolve({ ...allOf[0], ...rest }, root, depth + 1);
  }
  return schema;
}

/** Strips a `null` member from a union (nullable fields are optional in the form). */
function withoutNull(schema: JsonSchema, root: JsonSchema): JsonSchema {
  for (const key of ["anyOf", "oneOf"] as const) {
    const members = schema[key];
    if (!Array.isArray(members)) continue;
    const rest = members.filter((m) => !(isObject(m) && m.type === "null"));
    if (rest.length === members.length) continue;
    if (rest.length === 1 && isObject(rest[0])) {
      const { [key]: _, ...outer } = schema;
      return { ...resolve(rest[0], root), ...outer };
    }
    return { ...schema, [key]: rest };
  }
  if (Array.isArray(schema.type)) {
    const types = schema.type.filter((t) => t !== "null");
    if (types.length !== schema.type.length) return { ...schema, type: types.length === 1 ? types[0] : types };
  }
  return schema;
}

const clean = (schema: JsonSchema, root: JsonSchema) => withoutNull(resolve(schema, root), root);

/** The scalar type(s) a simple schema accepts, or null when it is not a plain scalar. */
function scalarTypes(schema: JsonSchema): ScalarType[] | null {
  if (schema.const !== undefined) return isScalar(schema.const) ? [typeof schema.const as ScalarType] : null;
  if (Array.isArray(schema.enum))
    return schema.enum.every(isScalar) ? [...new Set(schema.enum.map((v) => typeof v as ScalarType))] : null;
  const type = schema.type;
  if (typeof type === "string") return SCALAR_TYPES.has(type) ? [type as ScalarType] : null;
  if (Array.isArray(type) && type.length > 0 && type.every((t) => typeof t === "string" && SCALAR_TYPES.has(t)))
    return type as ScalarType[];
  return null;
}

function unionMembers(schema: JsonSchema, root: JsonSchema): JsonSchema[] | null {
  const members = schema.anyOf ?? schema.oneOf;
  if (!Array.isArray(members) || !members.every(isObject)) return null;
  return members.map((m) => clean(m, root));
}

function formatDefault(value: unknown): string {
  return typeof value === "string" ? value : JSON.stringify(value);
}

function common(schema: JsonSchema, fallbackLabel: string, json: boolean): Common {
  const widget = typeof schema.widget === "string" ? schema.widget : undefined;
  const c: Common = {
    label:
      typeof schema.label === "string" ? schema.label : typeof schema.title === "string" ? schema.title : fallbackLabel,
    advanced: schema.advanced === true,
  };
  if (widget) c.widget = widget;
  if (schema.discover === "object" || schema.discover === "fields") c.discover = schema.discover;
  if (typeof schema.help === "string") c.help = schema.help;
  else if (typeof schema.description === "string") c.help = schema.description;
  if (schema.default !== undefined) c.defaultValue = schema.default;
  const examples = Array.isArray(schema.examples) ? schema.examples : [];
  if (typeof schema.placeholder === "string") c.placeholder = schema.placeholder;
  else if (schema.default !== undefined && !json && isScalar(schema.default))
    c.placeholder = formatDefault(schema.default);
  else if (examples.length > 0 && isScalar(examples[0])) c.placeholder = `e.g. ${formatDefault(examples[0])}`;
  else if (widget === "duration") c.placeholder = "e.g. 5s, 1m, 250ms";
  return c;
}

function typeOf(schema: JsonSchema): string | undefined {
  return typeof schema.type === "string" ? schema.type : undefined;
}

/** Objects whose value names exactly one of their keys (`{ tumble: 1m }` or `{ hop: {…} }`). */
function isOneKeyObject(schema: JsonSchema, props: Record<string, JsonSchema>, root: JsonSchema): boolean {
  if (schema.maxProperties === 1) return true;
  const names = Object.keys(props);
  const required = Array.isArray(schema.required) ? schema.required : [];
  if (names.length < 2 || required.length > 0 || schema.additionalProperties !== false) return false;
  if (schema.default !== undefined) return false;
  const children = names.map((n) => clean(props[n]!, root));
  // Alternatives, not settings: at least one alternative is itself an object, and none has a default.
  return children.some((c) => typeOf(c) === "object") && children.every((c) => c.default === undefined);
}

function memberLabel(member: JsonSchema, control: Control, index: number): string {
  if (typeof member.label === "string") return member.label;
  if (typeof member.title === "string") return member.title;
  switch (control.kind) {
    case "expression":
      return "Expression";
    case "text":
    case "connection":
      return "Text";
    case "number":
      return "Number";
    case "boolean":
      return "Yes / no";
    case "list":
    case "array":
      return "List";
    case "object": {
      const labels = control.fields.map((f) => f.control.label);
      return labels.length <= 3 ? labels.join(" + ") : `Option ${index + 1}`;
    }
    default:
      return `Option ${index + 1}`;
  }
}

function describeMember(member: JsonSchema, root: JsonSchema, index: number, depth: number): UnionMember {
  const control = controlFor(member, root, `Option ${index + 1}`, depth + 1);
  const type = typeOf(member);
  const scalar = scalarTypes(member);
  const accepts: UnionMember["accepts"] =
    type === "object"
      ? "object"
      : type === "array"
        ? "array"
        : scalar?.length === 1
          ? scalar[0] === "integer"
            ? "number"
            : (scalar[0] as UnionMember["accepts"])
          : "any";
  const result: UnionMember = { label: "", control, accepts };
  if (type === "object" && isObject(member.properties)) {
    result.keys = Array.isArray(member.required)
      ? member.required.filter((r): r is string => typeof r === "string")
      : [];
    for (const [name, raw] of Object.entries(member.properties)) {
      const prop = isObject(raw) ? clean(raw, root) : {};
      if (prop.const !== undefined && isScalar(prop.const)) {
        result.tag = { name, value: prop.const };
        break;
      }
    }
  }
  result.label = result.tag ? String(result.tag.value) : memberLabel(member, control, index);
  return result;
}

function fieldsOf(schema: JsonSchema, root: JsonSchema, depth: number): FieldSpec[] {
  const props = isObject(schema.properties) ? schema.properties : {};
  const required = new Set(
    Array.isArray(schema.required) ? schema.required.filter((r): r is string => typeof r === "string") : [],
  );
  const fields: FieldSpec[] = [];
  for (const [name, raw] of Object.entries(props)) {
    if (!isObject(raw)) continue;
    const child = clean(raw, root);
    fields.push({ name, required: required.has(name), control: controlFor(child, root, name, depth + 1) });
  }
  return fields;
}

function controlFor(schema: JsonSchema, root: JsonSchema, name: string, depth: number): Control {
  const widget = typeof schema.widget === "string" ? schema.widget : undefined;
  const json = (): Control => ({ ...common(schema, name, true), kind: "json" });
  if (depth > MAX_DEPTH) return json();
  const base = common(schema, name, false);
  if (Array.isArray(schema.enum) && schema.enum.length > 0 && schema.enum.every(isScalar)) {
    return { ...base, kind: "enum", options: schema.enum };
  }
  if (schema.const !== undefined && isScalar(schema.const)) return { ...base, kind: "enum", options: [schema.const] };
  const members = unionMembers(schema, root);
  if (members) {
    if (members.every((m) => m.const !== undefined && isScalar(m.const))) {
      return { ...base, kind: "enum", options: members.map((m) => m.const as Scalar) };
    }
    const types = members.map(scalarTypes);
    if (types.every((t) => t !== null)) return { ...base, kind: "scalar", accepts: [...new Set(types.flat())] };
    const described = members.map((m, i) => describeMember(m, root, i, depth));
    if (described.some((m) => m.control.kind === "json" && m.accepts === "any")) return json();
    return { ...base, kind: "union", members: described };
  }
  const type = schema.type;
  if (Array.isArray(type)) {
    const types = scalarTypes(schema);
    return types ? { ...base, kind: "scalar", accepts: types } : json();
  }
  switch (type) {
    case "string": {
      if (widget === "predicate" || widget === "expression" || widget === "aggregate") {
        return { ...base, kind: "expression", mode: widget };
      }
      if (widget === "connection") {
        return {
          ...base,
          kind: "connection",
          ...(typeof schema.connectionType === "string" ? { connectionType: schema.connectionType } : {}),
        };
      }
      const multiline = widget === "code" || widget === "textarea";
      return { ...base, kind: "text", multiline, monospace: widget === "code", secret: schema.secret === true };
    }
    case "integer":
    case "number": {
      const control: Control = { ...base, kind: "number", integer: type === "integer" };
      if (typeof schema.minimum === "number" && Math.abs(schema.minimum) < Number.MAX_SAFE_INTEGER)
        control.min = schema.minimum;
      if (typeof schema.maximum === "number" && Math.abs(schema.maximum) < Number.MAX_SAFE_INTEGER)
        control.max = schema.maximum;
      return control;
    }
    case "boolean":
      return { ...base, kind: "boolean" };
    case "array": {
      const items = isObject(schema.items) ? clean(schema.items, root) : undefined;
      if (!items) return json();
      const plainStrings =
        items.type === "string" &&
        items.enum === undefined &&
        items.const === undefined &&
        items.widget !== "expression" &&
        items.widget !== "predicate";
      if (plainStrings) return { ...base, kind: "list" };
      const item = controlFor(items, root, `${base.label} item`, depth + 1);
      if (item.kind === "json") return json();
      const control: Control = { ...base, kind: "array", item };
      if (typeof schema.minItems === "number") control.minItems = schema.minItems;
      if (typeof schema.maxItems === "number") control.maxItems = schema.maxItems;
      return control;
    }
    case "object": {
      const props = isObject(schema.properties) ? (schema.properties as Record<string, JsonSchema>) : {};
      if (Object.keys(props).length > 0) {
        if (widget === "code") return json();
        const fields = fieldsOf(schema, root, depth);
        if (isOneKeyObject(schema, props, root)) return { ...base, kind: "one-key", options: fields };
        return { ...base, kind: "object", fields };
      }
      const values = isObject(schema.additionalProperties) ? clean(schema.additionalProperties, root) : undefined;
      if (values && Object.keys(values).length > 0 && widget !== "code") {
        const value = controlFor(values, root, "Value", depth + 1);
        if (value.kind !== "json") return { ...base, kind: "record", value };
      }
      return json();
    }
    default:
      return json();
  }
}

function buildForm(root: JsonSchema): ConfigForm {
  const top = resolve(root, root);
  if (top.type !== "object" || !isObject(top.properties)) return { fields: [], whole: true };
  return { fields: fieldsOf(top, root, 0), whole: false };
}

// ---------- values ----------

const isRecord = (v: unknown): v is Record<string, unknown> => typeof v === "object" && v !== null && !Array.isArray(v);

/** The member of a union a value belongs to (the first that fits), or -1. */
export function memberOf(members: readonly UnionMember[], value: unknown): number {
  if (value === undefined) return -1;
  const kind = Array.isArray(value) ? "array" : value === null ? "null" : typeof value;
  const tagged = members.findIndex((m) => m.tag !== undefined && isRecord(value) && value[m.tag.name] === m.tag.value);
  if (tagged >= 0) return tagged;
  const byKeys = members.findIndex(
    (m) =>
      m.accepts === "object" &&
      m.tag === undefined &&
      isRecord(value) &&
      (m.keys ?? []).every((k) => k in value) &&
      m.control.kind === "object" &&
      Object.keys(value).every((k) => (m.control as { fields: FieldSpec[] }).fields.some((f) => f.name === k)),
  );
  if (byKeys >= 0) return byKeys;
  return members.findIndex((m) => m.accepts === kind || m.accepts === "any");
}

/** A starting value for a control: what a new list item or a newly chosen union member holds. */
export function initialValue(control: Control): unknown {
  switch (control.kind) {
    case "text":
    case "expression":
    case "connection":
      return "";
    case "number":
      return typeof control.defaultValue === "number" ? control.defaultValue : (control.min ?? 0);
    case "boolean":
      return typeof control.defaultValue === "boolean" ? control.defaultValue : false;
    case "enum":
      return control.defaultValue ?? control.options[0];
    case "scalar":
      return control.defaultValue ?? "";
    case "list":
    case "array":
      return [];
    case "record":
      return {};
    case "object": {
      const value: Record<string, unknown> = {};
      for (const f of control.fields) if (f.required) value[f.name] = initialValue(f.control);
      return value;
    }
    case "one-key": {
      const first = control.options[0];
      return first ? { [first.name]: initialValue(first.control) } : {};
    }
    case "union": {
      const first = control.members[0];
      if (!first) return undefined;
      const value = initialValue(first.control);
      return first.tag && isRecord(value) ? { ...value, [first.tag.name]: first.tag.value } : value;
    }
    case "json":
      return control.defaultValue;
  }
}

/**
 * How many parts of `path` lead to the control that shows it, given the current value: leaf controls show
 * everything under them, containers what none of their children shows. Null when no control shows the path
 * (the issue goes to the node's own list).
 */
export function claim(fields: readonly FieldSpec[], value: unknown, path: readonly ConfigPathPart[]): number | null {
  if (path.length === 0) return null;
  const [head, ...rest] = path;
  const field = fields.find((f) => f.name === head);
  if (!field) return null;
  const inner = claimControl(field.control, isRecord(value) ? value[field.name] : undefined, rest);
  return inner === null ? null : inner + 1;
}

function claimControl(control: Control, value: unknown, path: readonly ConfigPathPart[]): number | null {
  if (path.length === 0) return 0;
  switch (control.kind) {
    case "object":
      return claim(control.fields, value, path) ?? 0;
    case "one-key":
      return claim(control.options, value, path) ?? 0;
    case "union": {
      const index = memberOf(control.members, value);
      const member = control.members[index];
      return member ? claimControl(member.control, value, path) : 0;
    }
    case "array": {
      const [head, ...rest] = path;
      if (typeof head !== "number") return 0;
      const inner = claimControl(control.item, Array.isArray(value) ? value[head] : undefined, rest);
      return inner === null ? 0 : inner + 1;
    }
    case "record": {
      const [head, ...rest] = path;
      if (typeof head !== "string" || !isRecord(value) || !(head in value)) return 0;
      const inner = claimControl(control.value, value[head], rest);
      return inner === null ? 0 : inner + 1;
    }
    default:
      return 0; // a leaf shows everything under it
  }
}
