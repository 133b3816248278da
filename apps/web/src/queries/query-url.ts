import type { QuerySource } from "@sluice/api/queries/query-router.types";

// The query page's address holds what to query and the SQL (`/query?source=<connectionId|files>&sql=<text>`), so a
// query can be linked to, survives a reload, and a sink node on the canvas can open the page on the table it writes.
// A saved query is linked to by its id (`/query?saved=<id>`); source and SQL beside it are edits not saved yet.

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
}

type SearchParams = Record<string, string | string[] | undefined>;

function first(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value[0] : value;
}

/** What the address asks for, from a page's `searchParams`. */
export function readQueryUrl(params: SearchParams): QueryUrlState {
  const source = first(params.source)?.trim();
  const saved = first(params.saved)?.trim();
  return { source: source ? source : null, sql: first(params.sql) ?? "", saved: saved ? saved : null };
}

/**
 * The page's address for a saved query, a source and SQL (any may be absent); the SQL is left out when it would make
 * the address too long.
 */
export function queryHref(state: Omit<QueryUrlState, "saved"> & { saved?: string | null }): string {
  const params = new URLSearchParams();
  if (state.saved) params.set("saved", state.saved);
  if (state.source) params.set("source", state.source);
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
