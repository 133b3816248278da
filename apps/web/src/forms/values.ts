import { type ConfigPathPart, type Control, type FieldSpec, initialValue, memberOf, type UnionMember } from "./schema";

// Pure value logic behind the nested config controls (controls/): element ids and issue keys from config
// paths, whether a value has the shape a control can show, and what survives when the user switches a union
// member or a one-key option.

export type ConfigPath = readonly ConfigPathPart[];

export const isRecord = (v: unknown): v is Record<string, unknown> =>
  typeof v === "object" && v !== null && !Array.isArray(v);

/** A path as one readable token without whitespace (`fields[2].expr`), for element ids and issue lookup. */
export function pathKey(path: ConfigPath): string {
  let key = "";
  for (const part of path) {
    if (typeof part === "number") key += `[${part}]`;
    else key += `${key === "" ? "" : "."}${encodeURIComponent(part).replace(/\./g, "%2E")}`;
  }
  return key;
}

export function sameJson(a: unknown, b: unknown): boolean {
  return Object.is(a, b) || JSON.stringify(a) === JSON.stringify(b);
}

/** Kinds that hold other controls and get their own group in the form. */
export function isContainer(control: Control): boolean {
  return (
    control.kind === "object" ||
    control.kind === "one-key" ||
    control.kind === "union" ||
    control.kind === "array" ||
    control.kind === "record"
  );
}

/**
 * Whether `value` can be shown by `control` without losing anything: containers check their shape all the way
 * down; leaves take what they are given (they show it as text), unless `strict`, when the leaf's type must match.
 */
export function fits(control: Control, value: unknown, strict = false): boolean {
  if (value === undefined) return true;
  switch (control.kind) {
    case "object":
      return (
        isRecord(value) &&
        Object.keys(value).every((k) => control.fields.some((f) => f.name === k)) &&
        control.fields.every((f) => fits(f.control, value[f.name], strict))
      );
    case "one-key": {
      if (!isRecord(value)) return false;
      const keys = Object.keys(value);
      if (keys.length === 0) return true;
      const option = keys.length === 1 ? control.options.find((o) => o.name === keys[0]) : undefined;
      return option !== undefined && fits(option.control, value[option.name], strict);
    }
    case "union": {
      const member = control.members[memberOf(control.members, value)];
      if (member?.tag && !(isRecord(value) && value[member.tag.name] === member.tag.value)) return false;
      return member !== undefined && fits(member.control, value, strict);
    }
    case "array":
      return Array.isArray(value) && value.every((item) => fits(control.item, item, strict));
    case "record":
      return isRecord(value) && Object.values(value).every((v) => fits(control.value, v, strict));
    case "json":
      return true;
    default:
      return !strict || leafAccepts(control, value);
  }
}

function leafAccepts(control: Control, value: unknown): boolean {
  switch (control.kind) {
    case "text":
    case "expression":
    case "connection":
      return typeof value === "string";
    case "number":
      return typeof value === "number" && (!control.integer || Number.isInteger(value));
    case "boolean":
      return typeof value === "boolean";
    case "enum":
      return control.options.some((o) => o === value);
    case "scalar":
      return control.accepts.some((t) =>
        t === "integer" ? typeof value === "number" && Number.isInteger(value) : typeof value === t,
      );
    case "list":
      return Array.isArray(value) && value.every((v) => typeof v === "string");
    default:
      return true;
  }
}

export const isLeaf = (control: Control) => !isContainer(control) && control.kind !== "json";
const blank = (v: unknown) => v === undefined || v === "" || (Array.isArray(v) && v.length === 0);

/**
 * The value `control` starts with when the user switches to it from `value` (shown by `from`): what fits is kept,
 * a scalar moves into a matching field of an object (`"country"` → `{ name: "", expr: "country" }`), an object
 * gives up its matching field to a scalar, a scalar becomes a one-item list and back.
 */
function carryOver(value: unknown, from: Control | undefined, to: Control): unknown {
  if (blank(value)) return initialValue(to);
  if (fits(to, value, true) && (isLeaf(to) || from === undefined || from.kind === to.kind)) return value;
  switch (to.kind) {
    case "object": {
      const next = initialValue(to) as Record<string, unknown>;
      if (isRecord(value)) {
        for (const f of to.fields) {
          if (f.name in value && fits(f.control, value[f.name], true)) next[f.name] = value[f.name];
        }
        return next;
      }
      const target = pickField(to.fields, value, from);
      if (target) next[target.name] = value;
      return next;
    }
    case "list":
    case "array": {
      const item: Control | undefined = to.kind === "array" ? to.item : undefined;
      if (Array.isArray(value)) return value.filter((v) => (item ? fits(item, v, true) : typeof v === "string"));
      const ok = item ? fits(item, value, true) : typeof value === "string";
      return ok ? [value] : initialValue(to);
    }
    default: {
      if (!isLeaf(to)) return initialValue(to);
      if (isRecord(value)) {
        const fields = from?.kind === "object" ? from.fields : [];
        const preferred = fields.find((f) => f.control.kind === to.kind && fits(to, value[f.name], true));
        if (preferred) return value[preferred.name];
        const any = Object.values(value).find((v) => !blank(v) && fits(to, v, true));
        return any ?? initialValue(to);
      }
      if (Array.isArray(value)) {
        const first = value.find((v) => fits(to, v, true));
        return first ?? initialValue(to);
      }
      return initialValue(to);
    }
  }
}

/** The field of an object a scalar moves into: one of the same kind as where it came from, required ones first. */
function pickField(fields: readonly FieldSpec[], value: unknown, from: Control | undefined): FieldSpec | undefined {
  const candidates = fields.filter(
    (f) => isLeaf(f.control) && f.control.kind !== "enum" && fits(f.control, value, true),
  );
  const ordered = [...candidates.filter((f) => f.required), ...candidates.filter((f) => !f.required)];
  return ordered.find((f) => f.control.kind === from?.kind) ?? ordered[0];
}

/** The value after choosing union member `to`, keeping what fits and setting a tagged member's tag. */
export function switchMember(members: readonly UnionMember[], value: unknown, to: number): unknown {
  const target = members[to];
  if (!target) return value;
  const from = members[memberOf(members, value)];
  let next = carryOver(value, from?.control, target.control);
  if (target.tag) {
    const { name, value: tag } = target.tag;
    next = { ...(isRecord(next) ? next : {}), [name]: tag };
  }
  return next;
}

/** The one-key object after choosing option `to` (undefined: none), keeping what fits of the old option's value. */
export function switchOneKey(options: readonly FieldSpec[], value: unknown, to: string | undefined): unknown {
  if (to === undefined) return undefined;
  const target = options.find((o) => o.name === to);
  if (!target) return value;
  const current = isRecord(value) ? Object.keys(value)[0] : undefined;
  if (current === to) return value;
  const from = options.find((o) => o.name === current);
  const old = current !== undefined && isRecord(value) ? value[current] : undefined;
  return { [to]: carryOver(old, from?.control, target.control) };
}

/** The option a one-key value has chosen, or undefined. */
export function oneKeyChoice(options: readonly FieldSpec[], value: unknown): string | undefined {
  if (!isRecord(value)) return undefined;
  const keys = Object.keys(value);
  return keys.length === 1 && options.some((o) => o.name === keys[0]) ? keys[0] : undefined;
}

/**
 * What one item of a list or map is called, from the field's label: "Computed fields" → "computed field",
 * "Group by" → "group by item".
 */
export function itemNoun(label: string): string {
  const lower = /^[A-Z][a-z]/.test(label) ? label[0]!.toLowerCase() + label.slice(1) : label;
  if (/[^s]s$/.test(lower) && lower.length > 3) return lower.slice(0, -1);
  return `${lower} item`;
}

export const capitalize = (s: string) => (s.length > 0 ? s[0]!.toUpperCase() + s.slice(1) : s);

/** A few words that tell an item apart from its siblings, for button names: "total", "country". */
export function itemSummary(value: unknown, max = 24): string | undefined {
  let text: string | undefined;
  if (typeof value === "string" || typeof value === "number" || typeof value === "boolean") text = String(value);
  else if (isRecord(value)) {
    for (const key of ["name", "as", "from", "expr", "kind"]) {
      const v = value[key];
      if (typeof v === "string" && v.trim() !== "") {
        text = v;
        break;
      }
    }
  }
  text = text?.trim();
  if (!text) return undefined;
  return text.length > max ? `${text.slice(0, max - 1)}…` : text;
}

/** `list` with the item at `from` moved to `to`; never mutates. */
export function moveItem<T>(list: readonly T[], from: number, to: number): T[] {
  const next = [...list];
  if (from < 0 || from >= next.length || to < 0 || to >= next.length) return next;
  const [item] = next.splice(from, 1);
  next.splice(to, 0, item as T);
  return next;
}

export const formatJson = (v: unknown) => (v === undefined ? "" : JSON.stringify(v, null, 2));

export type JsonParse = { ok: true; value: unknown } | { ok: false; error: string };

export function parseJsonText(text: string, required: boolean, wantObject = false): JsonParse {
  if (text.trim() === "")
    return required ? { ok: false, error: "Enter a JSON value." } : { ok: true, value: undefined };
  try {
    const value: unknown = JSON.parse(text);
    if (wantObject && !isRecord(value)) return { ok: false, error: "The configuration must be a JSON object: { … }." };
    return { ok: true, value };
  } catch (err) {
    return { ok: false, error: `Not valid JSON: ${err instanceof Error ? err.message : String(err)}` };
  }
}

/** A leaf value as the text of its input. */
export const formatText = (v: unknown) =>
  v === undefined || v === null ? "" : typeof v === "string" ? v : JSON.stringify(v);
