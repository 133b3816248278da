import { valueParser } from "./pg-types";

// Decoding the messages of PostgreSQL's built-in logical decoding plugin, pgoutput (protocol version 1): transaction
// begin and commit, relation (table) descriptions, and row inserts, updates, deletes and truncates. Values arrive as
// text and are converted by the column's type (pg-types.ts). Pure: bytes in, messages out; the relation cache is the
// only state. See https://www.postgresql.org/docs/current/protocol-logicalrep-message-formats.html

/** Microseconds between the Unix epoch and PostgreSQL's (2000-01-01). */
const PG_EPOCH_MS = 946_684_800_000;

export interface RelationColumn {
  name: string;
  typeOid: number;
  /** Part of the replica identity (the key sent for updates and deletes). */
  key: boolean;
  parse: (text: string) => unknown;
}

export interface Relation {
  oid: number;
  schema: string;
  name: string;
  /** d default (primary key), n nothing, f full, i index. */
  replicaIdentity: string;
  columns: RelationColumn[];
}

export type Row = Record<string, unknown>;

export type PgoutputMessage =
  | { tag: "begin"; finalLsn: bigint; commitTime: number; xid: number }
  | { tag: "commit"; commitLsn: bigint; endLsn: bigint; commitTime: number }
  | { tag: "relation"; relation: Relation }
  | { tag: "insert"; relation: Relation; after: Row }
  | { tag: "update"; relation: Relation; before: Row | null; after: Row }
  | { tag: "delete"; relation: Relation; before: Row | null }
  | { tag: "truncate"; relations: Relation[] }
  | { tag: "ignored"; kind: string };

class Reader {
  offset = 0;
  constructor(private readonly buf: Buffer) {}
  u8(): number {
    return this.buf.readUInt8(this.offset++);
  }
  i16(): number {
    const v = this.buf.readInt16BE(this.offset);
    this.offset += 2;
    return v;
  }
  i32(): number {
    const v = this.buf.readInt32BE(this.offset);
    this.offset += 4;
    return v;
  }
  u32(): number {
    const v = this.buf.readUInt32BE(this.offset);
    this.offset += 4;
    return v;
  }
  u64(): bigint {
    const v = this.buf.readBigUInt64BE(this.offset);
    this.offset += 8;
    return v;
  }
  i64(): bigint {
    const v = this.buf.readBigInt64BE(this.offset);
    this.offset += 8;
    return v;
  }
  /** A NUL-terminated string. */
  cstring(): string {
    const end = this.buf.indexOf(0, this.offset);
    if (end < 0) throw new Error("pgoutput: unterminated string");
    const s = this.buf.toString("utf8", this.offset, end);
    this.offset = end + 1;
    return s;
  }
  bytes(n: number): Buffer {
    const b = this.buf.subarray(this.offset, this.offset + n);
    this.offset += n;
    return b;
  }
}

/** A pgoutput timestamp (µs since 2000-01-01) as epoch ms. */
function pgTimestampMs(micros: bigint): number {
  return Number(micros / 1000n) + PG_EPOCH_MS;
}

export class PgoutputDecoder {
  private readonly relations = new Map<number, Relation>();

  decode(data: Buffer): PgoutputMessage {
    const r = new Reader(data);
    const tag = String.fromCharCode(r.u8());
    switch (tag) {
      case "B":
        return { tag: "begin", finalLsn: r.u64(), commitTime: pgTimestampMs(r.i64()), xid: r.u32() };
      case "C": {
        r.u8(); // flags, unused
        return { tag: "commit", commitLsn: r.u64(), endLsn: r.u64(), commitTime: pgTimestampMs(r.i64()) };
      }
      case "R":
        return { tag: "relation", relation: this.relation(r) };
      case "I": {
        const relation = this.lookup(r.u32());
        r.u8(); // 'N'
        return { tag: "insert", relation, after: this.tuple(r, relation, undefined, false) };
      }
      case "U": {
        const relation = this.lookup(r.u32());
        let kind = String.fromCharCode(r.u8());
        let before: Row | null = null;
        if (kind === "K" || kind === "O") {
          before = this.tuple(r, relation, undefined, kind === "K");
          kind = String.fromCharCode(r.u8());
        }
        if (kind !== "N") throw new Error(`pgoutput: unexpected update part "${kind}"`);
        return { tag: "update", relation, before, after: this.tuple(r, relation, before ?? undefined, false) };
      }
      case "D": {
        const relation = this.lookup(r.u32());
        const kind = String.fromCharCode(r.u8());
        return { tag: "delete", relation, before: this.tuple(r, relation, undefined, kind === "K") };
      }
      case "T": {
        const n = r.u32();
        r.u8(); // options: cascade, restart identity
        const relations: Relation[] = [];
        for (let i = 0; i < n; i++) relations.push(this.lookup(r.u32()));
        return { tag: "truncate", relations };
      }
      case "Y":
        return { tag: "ignored", kind: "type" };
      case "O":
        return { tag: "ignored", kind: "origin" };
      case "M":
        return { tag: "ignored", kind: "message" };
      default:
        throw new Error(`pgoutput: unknown message "${tag}"`);
    }
  }

  private relation(r: Reader): Relation {
    const oid = r.u32();
    const schema = r.cstring() || "pg_catalog";
    const name = r.cstring();
    const replicaIdentity = String.fromCharCode(r.u8());
    const n = r.i16();
    const columns: RelationColumn[] = [];
    for (let i = 0; i < n; i++) {
      const flags = r.u8();
      const column = r.cstring();
      const typeOid = r.u32();
      r.i32(); // type modifier
      columns.push({ name: column, typeOid, key: (flags & 1) === 1, parse: valueParser(typeOid) });
    }
    const relation = { oid, schema, name, replicaIdentity, columns };
    this.relations.set(oid, relation);
    return relation;
  }

  private lookup(oid: number): Relation {
    const relation = this.relations.get(oid);
    if (!relation) throw new Error(`pgoutput: a change for relation ${oid} came before its description`);
    return relation;
  }

  /**
   * One row. A key-only tuple keeps just the key columns. An unchanged TOASTed value ('u') is taken from the old
   * row when there is one, and otherwise left out: the column kept its value.
   */
  private tuple(r: Reader, relation: Relation, old: Row | undefined, keyOnly: boolean): Row {
    const n = r.i16();
    const row: Row = {};
    for (let i = 0; i < n; i++) {
      const column = relation.columns[i];
      const kind = String.fromCharCode(r.u8());
      let value: unknown;
      let present = true;
      if (kind === "n") value = null;
      else if (kind === "u") {
        present = old !== undefined && column !== undefined && Object.hasOwn(old, column.name);
        value = present ? old![column!.name] : undefined;
      } else if (kind === "t" || kind === "b") {
        const bytes = r.bytes(r.i32());
        value = kind === "t" && column ? column.parse(bytes.toString("utf8")) : `\\x${bytes.toString("hex")}`;
      } else throw new Error(`pgoutput: unknown value kind "${kind}"`);
      if (!column || !present) continue;
      if (keyOnly && !column.key) continue;
      row[column.name] = value;
    }
    return row;
  }
}
