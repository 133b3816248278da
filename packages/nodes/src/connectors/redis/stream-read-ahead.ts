import type { RespConnection } from "./resp-connection";
import { readStreamReply, type StreamEntries } from "./stream-entries";

// XREAD one batch ahead: as soon as a batch is handed out, the next XREAD (after the last entry received, not the
// last committed) goes to Redis, which reads it while the engine decodes and processes the batch. The caller's
// positions move only with what it takes, so a batch received and never taken is simply read again by the next
// run from the committed offset. Server-only.

/** Entries [from, to) of one stream's reply. */
export interface EntrySlice {
  entries: StreamEntries;
  from: number;
  to: number;
}

/** How long a reply may take beyond the XREAD's own block before the connection counts as dead. */
const REPLY_GRACE_MS = 15_000;

export class StreamReadAhead {
  private conn: RespConnection | undefined;
  /** Positions after everything received (taken or not). */
  private readonly fetched: Map<string, string>;
  private readonly buffered: EntrySlice[] = [];
  private bufferedCount = 0;
  private inflight: Promise<Buffer> | undefined;
  private closed = false;

  constructor(
    private readonly connect: () => Promise<RespConnection>,
    private readonly keys: readonly string[],
    positions: ReadonlyMap<string, string>,
    private readonly field: Buffer,
    private readonly blockMs: number,
    first?: RespConnection,
  ) {
    this.fetched = new Map(positions);
    this.conn = first;
  }

  /**
   * Up to `max` entries after those taken before, across the streams (none when nothing came before the block ran
   * out). Rejects when the connection is lost or cannot be made (the next call connects again) and on an error reply.
   */
  async take(max: number): Promise<EntrySlice[]> {
    if (this.bufferedCount === 0) {
      if (this.inflight === undefined) {
        const conn = await this.connection();
        this.inflight = this.xread(conn, max);
      }
      const pending = this.inflight;
      this.inflight = undefined;
      this.receive(await pending);
    }
    const out = this.splice(max);
    if (this.bufferedCount === 0 && this.conn !== undefined && !this.conn.closed && !this.closed) {
      this.inflight = this.xread(this.conn, max);
      // Its failure is met by the next take(); no unhandled rejection meanwhile.
      this.inflight.catch(() => {});
    }
    return out;
  }

  close(): void {
    this.closed = true;
    this.inflight = undefined;
    this.conn?.close();
  }

  private async connection(): Promise<RespConnection> {
    if (this.closed) throw new Error("the reader is closed");
    if (this.conn === undefined || this.conn.closed) {
      this.conn = undefined;
      this.conn = await this.connect();
    }
    return this.conn;
  }

  private xread(conn: RespConnection, max: number): Promise<Buffer> {
    const keys = this.keys;
    const args: (string | number)[] = ["XREAD", "COUNT", Math.max(1, Math.ceil(max / keys.length))];
    if (this.blockMs > 0) args.push("BLOCK", this.blockMs);
    args.push("STREAMS", ...keys);
    for (const k of keys) args.push(this.fetched.get(k)!);
    return conn.send(args, this.blockMs + REPLY_GRACE_MS);
  }

  private receive(reply: Buffer): void {
    for (const entries of readStreamReply(reply, this.field)) {
      const n = entries.length;
      if (n === 0) continue;
      this.buffered.push({ entries, from: 0, to: n });
      this.bufferedCount += n;
      this.fetched.set(entries.stream, entries.id(n - 1));
    }
  }

  private splice(max: number): EntrySlice[] {
    const out: EntrySlice[] = [];
    let need = max;
    while (need > 0 && this.buffered.length > 0) {
      const head = this.buffered[0]!;
      const n = head.to - head.from;
      if (n <= need) {
        out.push(this.buffered.shift()!);
        need -= n;
      } else {
        out.push({ entries: head.entries, from: head.from, to: head.from + need });
        head.from += need;
        need = 0;
      }
    }
    this.bufferedCount -= max - need;
    return out;
  }
}
