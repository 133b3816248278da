import { type DataType, type Field, field, type RecordSchema, t } from "@sluice/pipeline/record-schema";

// The record source.postgres-cdc emits for each change, and sink.postgres in mode "cdc" applies. Browser-safe.
//
//   { op: "insert" | "update" | "delete" | "truncate", schema, table,
//     before: row | null, after: row | null, lsn, seq, xid, commit_time }
//
// - insert: after is the new row, before is null.
// - update: after is the new row; a column missing from after kept its value (a large TOASTed value the update did
//   not touch). before is null unless the key changed (then it holds the old key) or the table has REPLICA
//   IDENTITY FULL (then it is the whole old row).
// - delete: before holds the old key (the replica identity: the primary key by default), or the whole old row with
//   REPLICA IDENTITY FULL; after is null.
// - truncate: the table was truncated; before and after are null.
// - lsn is the commit LSN of the transaction ("16/B374D848"), seq the change's 1-based place in it, so (lsn, seq)
//   orders every change; xid the transaction id; commit_time its commit time (epoch ms, the event time).

export type ChangeOp = "insert" | "update" | "delete" | "truncate";

export interface ChangeRecord {
  op: ChangeOp;
  schema: string;
  table: string;
  before: Record<string, unknown> | null;
  after: Record<string, unknown> | null;
  lsn: string;
  seq: number;
  xid: number;
  commit_time: number;
}

export const CHANGE_TIME_FIELD = "commit_time";

/** The schema of change records; `row` is the type of before/after (an object of known columns, or json). */
export function changeSchema(row: DataType): RecordSchema {
  const fields: Field[] = [
    field("op", t.string, false, "insert, update, delete or truncate"),
    field("schema", t.string, false),
    field("table", t.string, false),
    field("before", row, true, "the old key (or row, with REPLICA IDENTITY FULL); null for inserts"),
    field("after", row, true, "the new row; null for deletes"),
    field("lsn", t.string, false, "commit LSN of the transaction"),
    field("seq", t.int, false, "place of the change in its transaction, from 1"),
    field("xid", t.int, false),
    field(CHANGE_TIME_FIELD, t.timestamp, false, "commit time"),
  ];
  return { fields, open: false, eventTime: CHANGE_TIME_FIELD };
}
