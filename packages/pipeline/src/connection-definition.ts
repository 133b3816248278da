import type { z } from "zod";
import { configJsonSchema } from "./config-schema";
import type { AnyNodeDefinition } from "./node-definition";

// One declaration per connection type (PostgreSQL, Redis, NATS, …): its config schema, with secret fields marked
// `.meta({ secret: true })`, drives the connection form, validation, secret handling and the reference docs.
// Browser-safe; what a connection does at run time (test, discovery, clients) lives in the nodes package.

export interface ConnectionTypeDefinition<S extends z.ZodType = z.ZodType> {
  /** Short lower-case id, e.g. "postgres". */
  type: string;
  title: string;
  icon: string;
  summary: string;
  docs: string;
  config: S;
  examples: readonly { title: string; config: Record<string, unknown> }[];
}

export type AnyConnectionTypeDefinition = ConnectionTypeDefinition<z.ZodType>;

export function defineConnectionType<S extends z.ZodType>(
  def: ConnectionTypeDefinition<S>,
): ConnectionTypeDefinition<S> {
  if (!/^[a-z][a-z0-9-]*$/.test(def.type))
    throw new Error(`connection type id "${def.type}" must be lower-case kebab-case`);
  return def;
}

export interface ConnectionCatalog {
  get(type: string): AnyConnectionTypeDefinition | undefined;
  list(): readonly AnyConnectionTypeDefinition[];
}

export function createConnectionCatalog(defs: readonly AnyConnectionTypeDefinition[]): ConnectionCatalog {
  const byType = new Map<string, AnyConnectionTypeDefinition>();
  for (const def of defs) {
    if (byType.has(def.type)) throw new Error(`connection type "${def.type}" is declared twice`);
    byType.set(def.type, def);
  }
  const sorted = [...byType.values()].sort((a, b) => a.title.localeCompare(b.title));
  return { get: (type) => byType.get(type), list: () => sorted };
}

/** The top-level config fields of a connection type that are secret. */
export function secretFields(def: AnyConnectionTypeDefinition): string[] {
  return Object.entries(configJsonSchema(def).properties ?? {})
    .filter(([, f]) => f.secret === true)
    .map(([name]) => name);
}

export interface ConnectionRef {
  name: string;
  /** Connection type the field expects, from its `connectionType` hint. */
  type: string | undefined;
  path: string[];
}

/** The connections a node's config refers to (fields with widget "connection"). */
export function connectionRefs(def: AnyNodeDefinition, config: unknown): ConnectionRef[] {
  const schema = configJsonSchema(def);
  const refs: ConnectionRef[] = [];
  if (config === null || typeof config !== "object") return refs;
  for (const [key, field] of Object.entries(schema.properties ?? {})) {
    if (field.widget !== "connection") continue;
    const value = (config as Record<string, unknown>)[key];
    if (typeof value === "string" && value.length > 0) {
      refs.push({
        name: value,
        type: typeof field.connectionType === "string" ? field.connectionType : undefined,
        path: [key],
      });
    }
  }
  return refs;
}
