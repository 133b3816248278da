import { quoteIdent, quoteTable } from "./sql-names";

// The SQL source.postgres sends: rows after a position, in cursor order, optionally up to a bound and within one
// partition's share. Cursor values travel as text both ways (selected as `::text`, compared against text
// parameters that PostgreSQL parses as the column's type), so a position is exact for any cursor type. Pure.

export const CURSOR_TEXT = "__sluice_cursor";
export const TIE_TEXT = "__sluice_tie";

/** A row's place in cursor order, as PostgreSQL prints the values. */
export interface CursorPosition {
  c: string;
  t: string | null;
}

export interface CursorQueryShape {
  table?: string | undefined;
  query?: string | undefined;
  cursor: string;
  tieBreaker?: string | undefined;
  /** Columns to select; all when undefined. */
  columns?: readonly string[] | undefined;
  partitionBy?: string | undefined;
  partition: number;
  partitions: number;
  /** Only rows whose cursor is at least / at most these values (text PostgreSQL parses as the column's type). */
  from?: string | undefined;
  to?: string | undefined;
}

export interface CursorSql {
  text: string;
  values: (string | number)[];
}

function relation(s: CursorQueryShape): string {
  return s.table !== undefined ? quoteTable(s.table) : `(${s.query}\n) AS sluice_q`;
}

/**
 * Partition p of P: the rows whose md5(key) — first 32 bits, NULL as '' — modulo P is p.
 *
 * Wrapped in CASE for the planner's sake. PostgreSQL has no statistics on the hash, so it takes `hash = p` to keep
 * 0.5% of the rows; then a batch limit above 0.5% of the rows still ahead looks out of reach, and it plans a
 * sequential scan of the whole table and a sort for every batch instead of walking the cursor index and stopping at
 * the limit — each batch costs as much as the table, so a read slows as the table grows (issue 17). A CASE it cannot
 * see into counts as half of the rows, which is near enough for any P and keeps the index walk.
 */
function partitionFilter(column: string, partitions: number, partition: number): string {
  const hash = `('x' || left(md5(coalesce((${quoteIdent(column)})::text, '')), 8))::bit(32)::bigint`;
  return `CASE WHEN mod(${hash}, ${partitions}) = ${partition} THEN true ELSE false END`;
}

function baseWhere(s: CursorQueryShape, values: (string | number)[]): string[] {
  const where = [`${quoteIdent(s.cursor)} IS NOT NULL`];
  if (s.from !== undefined) {
    values.push(s.from);
    where.push(`${quoteIdent(s.cursor)} >= $${values.length}`);
  }
  if (s.to !== undefined) {
    values.push(s.to);
    where.push(`${quoteIdent(s.cursor)} <= $${values.length}`);
  }
  if (s.tieBreaker !== undefined) where.push(`${quoteIdent(s.tieBreaker)} IS NOT NULL`);
  if (s.partitionBy !== undefined && s.partitions > 1)
    where.push(partitionFilter(s.partitionBy, s.partitions, s.partition));
  return where;
}

function tuple(s: CursorQueryShape): string {
  return s.tieBreaker !== undefined ? `(${quoteIdent(s.cursor)}, ${quoteIdent(s.tieBreaker)})` : quoteIdent(s.cursor);
}

function param(values: (string | number)[], p: CursorPosition, tie: boolean): string {
  values.push(p.c);
  const c = `$${values.length}`;
  if (!tie) return c;
  values.push(p.t ?? ""); // never NULL: rows with a NULL tie-breaker are not read
  return `(${c}, $${values.length})`;
}

/** Rows after `after` (exclusive) and up to `upTo` (inclusive), in cursor order, at most `limit`. */
export function readSql(
  s: CursorQueryShape,
  after: CursorPosition | null,
  upTo: CursorPosition | null,
  limit: number,
): CursorSql {
  const values: (string | number)[] = [];
  const tie = s.tieBreaker !== undefined;
  const where = baseWhere(s, values);
  if (after) where.push(`${tuple(s)} > ${param(values, after, tie)}`);
  // An upper bound without a tie-breaker value (a settled cursor value) takes every row with that cursor value.
  if (upTo && tie && upTo.t === null) where.push(`${quoteIdent(s.cursor)} <= ${param(values, upTo, false)}`);
  else if (upTo) where.push(`${tuple(s)} <= ${param(values, upTo, tie)}`);
  const select = s.columns ? s.columns.map(quoteIdent).join(", ") : "*";
  const hidden = [`(${quoteIdent(s.cursor)})::text AS ${CURSOR_TEXT}`];
  if (tie) hidden.push(`(${quoteIdent(s.tieBreaker!)})::text AS ${TIE_TEXT}`);
  const order = tie ? `${quoteIdent(s.cursor)}, ${quoteIdent(s.tieBreaker!)}` : quoteIdent(s.cursor);
  values.push(limit);
  return {
    text: `SELECT ${select}, ${hidden.join(", ")} FROM ${relation(s)} WHERE ${where.join(" AND ")} ORDER BY ${order} LIMIT $${values.length}`,
    values,
  };
}

/** Every row whose cursor equals `value` (a group of ties that did not fit a batch), in this partition. */
export function groupSql(s: CursorQueryShape, value: string): CursorSql {
  const select = s.columns ? s.columns.map(quoteIdent).join(", ") : "*";
  const values: (string | number)[] = [];
  const where = baseWhere(s, values);
  values.push(value);
  where.push(`${quoteIdent(s.cursor)} = $${values.length}`);
  return {
    text: `SELECT ${select}, (${quoteIdent(s.cursor)})::text AS ${CURSOR_TEXT} FROM ${relation(s)} WHERE ${where.join(" AND ")}`,
    values,
  };
}

/** The last row in cursor order (the bound of a bounded read), in this partition. */
export function lastSql(s: CursorQueryShape): CursorSql {
  const tie = s.tieBreaker !== undefined;
  const cols = [`(${quoteIdent(s.cursor)})::text AS ${CURSOR_TEXT}`];
  if (tie) cols.push(`(${quoteIdent(s.tieBreaker!)})::text AS ${TIE_TEXT}`);
  const order = tie
    ? `${quoteIdent(s.cursor)} DESC, ${quoteIdent(s.tieBreaker!)} DESC`
    : `${quoteIdent(s.cursor)} DESC`;
  const values: (string | number)[] = [];
  return {
    text: `SELECT ${cols.join(", ")} FROM ${relation(s)} WHERE ${baseWhere(s, values).join(" AND ")} ORDER BY ${order} LIMIT 1`,
    values,
  };
}

/** How many rows up to `upTo` there are in this partition (a bounded read's total, for progress). */
export function countSql(s: CursorQueryShape, upTo: CursorPosition): CursorSql {
  const values: (string | number)[] = [];
  const where = baseWhere(s, values);
  where.push(`${tuple(s)} <= ${param(values, upTo, s.tieBreaker !== undefined)}`);
  return { text: `SELECT count(*)::bigint AS n FROM ${relation(s)} WHERE ${where.join(" AND ")}`, values };
}

/** The highest cursor value now (a sample for the settle-time frontier). */
export function maxSql(s: CursorQueryShape): CursorSql {
  const values: (string | number)[] = [];
  return {
    text: `SELECT (max(${quoteIdent(s.cursor)}))::text AS ${CURSOR_TEXT} FROM ${relation(s)} WHERE ${baseWhere(s, values).join(" AND ")}`,
    values,
  };
}

/** Checks the table or query and every named column exist without reading a row. */
export function probeSql(s: CursorQueryShape): CursorSql {
  return readSql({ ...s, partitions: Math.max(s.partitions, 2) }, null, null, 0);
}
