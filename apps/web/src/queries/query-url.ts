import { PARAMETER_NAME, PARAMETER_TYPES, type ParameterType } from "@sluice/api/queries/query-parameters";
import type { QuerySource } from "@sluice/api/queries/query-router.types";

// The query page's address holds what to query and the SQL (`/query?source=<connectionId|files>&sql=<text>`), so a
// query can be linked to, survives a reload, and a sink node on the canvas can open the page on the table it writes.
// A saved query is linked to by its id (`/query?saved=<id>`); source and SQL beside it are edits not saved yet.
// Parameter values ride along as `p.<name>=<value>` and a parameter's type, when not the one it would be given
// anyway, as `t.<name>=number|text|timestamp`.

/** The `source` value that names the workspace's files rather than a connection. */
export const FILES_SOURCE = "files";

/**
 * Past this many characters the address leaves the SQL out: Node refuses requests whose headers pass 16 KiB, so a
 * reload of a longer address would fail outright.
 */
const MAX_SEARCH_LENGTH = 8000;

export interface QueryUrlState {
  /** A connection id, FILES_SOURCE, or null when the address names none. */
  source: string | null;
  sql: string;
  /** The id of the saved query the page has open, or null. */
  saved: string | null;
  /** Parameter values by name, as typed ("now-1h" for a relative time). */
  params: Record<string, string>;
  /** Parameter types by name, where the address names one. */
  types: Record<string, ParameterType>;
}

type SearchParams = Record<string, string | string[] | undefined>;

function first(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value[0] : value;
}

/** What the address asks for, from a page's `searchParams`. */
export function readQueryUrl(params: SearchParams): QueryUrlState {
  const source = first(params.source)?.trim();
  const saved = first(params.saved)?.trim();
  const values: Record<string, string> = {};
  const types: Record<string, ParameterType> = {};
  for (const [key, raw] of Object.entries(params)) {
    const value = first(raw);
    if (value === undefined) continue;
    const m = /^([pt])\.(.+)$/.exec(key);
    if (!m || !PARAMETER_NAME.test(m[2]!)) continue;
    if (m[1] === "p") values[m[2]!] = value;
    else if ((PARAMETER_TYPES as readonly string[]).includes(value)) types[m[2]!] = value as ParameterType;
  }
  return {
    source: source ? source : null,
    sql: first(params.sql) ?? "",
    saved: saved ? saved : null,
    params: values,
    types,
  };
}

/**
 * The page's address for a saved query, a source and SQL (any may be absent); the SQL is left out when it would make
 * the address too long.
 */
export function queryHref(
  state: Omit<QueryUrlState, "saved" | "params" | "types"> & Partial<Pick<QueryUrlState, "saved" | "params" | "types">>,
): string {
  const params = new URLSearchParams();
  if (state.saved) params.set("saved", state.saved);
  if (state.source) params.set("source", state.source);
  for (const [name, value] of Object.entries(state.params ?? {})) params.set(`p.${name}`, value);
  for (const [name, type] of Object.entries(state.types ?? {})) params.set(`t.${name}`, type);
  if (state.sql) params.set("sql", state.sql);
  let search = params.toString();
  if (search.length > MAX_SEARCH_LENGTH) {
    params.delete("sql");
    search = params.toString();
  }
  return search ? `/query?${search}` : "/query";
}

/** The address's name for a source: its connection id, or FILES_SOURCE. */
export function sourceKey(source: QuerySource): string {
  return source.kind === "files" ? FILES_SOURCE : source.connectionId;
}

/** The source an address's `source` value names. */
export function sourceFromKey(key: string): QuerySource {
  return key === FILES_SOURCE ? { kind: "files" } : { kind: "connection", connectionId: key };
}
