import type { ConfigForm, Control } from "../../forms/schema";

// What a node's config takes from connection discovery, read from the `discover` hints of its declaration
// ("object" on the field naming the table/stream/queue/topic, "fields" on the declared field list), and the pure
// edit that fills them in. Nothing here knows a node type: every source and sink gets it from its `.meta()`.

export interface DiscoveryHints {
  /** The field naming the connection (a "connection" control), and the connection type it takes. */
  connection?: { field: string; connectionType?: string };
  /** The field naming the object; `list` when it holds a list of names (a CDC source's tables). */
  object?: { field: string; list: boolean };
  /** The list declaring the records' fields: `types` are the types it accepts (none: bare names only). */
  fields?: { field: string; types: readonly string[]; required: boolean };
}

/** An object as discovery describes it (`connections.discover`). */
export interface DiscoveredObject {
  kind: string;
  name: string;
  fields?: readonly { name: string; type: string; nullable: boolean }[];
}

export type DeclaredFieldValue = string | { name: string; type: string; nullable: boolean };

const hintsCache = new WeakMap<ConfigForm, DiscoveryHints>();

/** The discovery hints of a node's config form (top-level fields only: sources and sinks name objects there). */
export function discoveryHints(form: ConfigForm): DiscoveryHints {
  const cached = hintsCache.get(form);
  if (cached) return cached;
  const hints: DiscoveryHints = {};
  for (const { name, required, control } of form.fields) {
    if (control.kind === "connection" && !hints.connection) {
      hints.connection = {
        field: name,
        ...(control.connectionType !== undefined ? { connectionType: control.connectionType } : {}),
      };
    }
    if (control.discover === "object" && !hints.object) {
      hints.object = { field: name, list: control.kind === "list" || control.kind === "array" };
    } else if (control.discover === "fields" && !hints.fields) {
      hints.fields = { field: name, types: declaredTypes(control), required };
    }
  }
  hintsCache.set(form, hints);
  return hints;
}

/** Whether the hints let discovery fill in anything. */
export function canApplyDiscovery(hints: DiscoveryHints): boolean {
  return hints.object !== undefined || hints.fields !== undefined;
}

/** The type options of a declared field list's items (`{ name, type, nullable }`), or none for bare names. */
function declaredTypes(control: Control): string[] {
  if (control.kind !== "array") return [];
  const item = control.item;
  const objects: Control[] = item.kind === "union" ? item.members.map((m) => m.control) : [item];
  for (const o of objects) {
    if (o.kind !== "object") continue;
    const type = o.fields.find((f) => f.name === "type")?.control;
    if (type?.kind === "enum") return type.options.map(String);
  }
  return [];
}

/**
 * The declared type for a discovered one: itself when the list takes it; structured values as json; anything else
 * (bytes, numerics kept as text, …) as string.
 */
export function declaredType(discovered: string, types: readonly string[]): string {
  if (types.includes(discovered)) return discovered;
  const structured = ["json", "array", "object", "map", "list", "record", "any"].includes(discovered);
  const fallback = structured ? "json" : "string";
  return types.includes(fallback) ? fallback : (types[0] ?? fallback);
}

/**
 * The config with the object's name in the object field and its fields in the declared field list, as one edit.
 * A field list the object gives no fields for is removed (the schema is open again) unless the node requires it.
 */
export function applyDiscovery(
  config: Readonly<Record<string, unknown>>,
  hints: DiscoveryHints,
  object: DiscoveredObject,
): Record<string, unknown> {
  const next: Record<string, unknown> = { ...config };
  if (hints.object) next[hints.object.field] = hints.object.list ? [object.name] : object.name;
  if (hints.fields) {
    const { field, types, required } = hints.fields;
    const discovered = object.fields ?? [];
    if (discovered.length > 0) {
      next[field] = discovered.map(
        (f): DeclaredFieldValue =>
          types.length === 0 ? f.name : { name: f.name, type: declaredType(f.type, types), nullable: f.nullable },
      );
    } else if (!required) {
      delete next[field];
    }
  }
  return next;
}
