// Commands as RESP2 bytes (arrays of bulk strings), for RespConnection. `BulkWriter` writes bulk strings straight
// into one Buffer — for the sink's scripts of hundreds of payloads, cheaper than joining strings and encoding the
// result. Server-only.

export type CommandArg = string | number | Buffer;

const CR = 13;
const LF = 10;

/** Bulk strings written one after another into a growing Buffer. */
export class BulkWriter {
  private buf: Buffer;
  private at = 0;
  /** Bulk strings written so far. */
  count = 0;

  constructor(capacity = 64 * 1024) {
    this.buf = Buffer.allocUnsafe(capacity);
  }

  bulk(arg: CommandArg): void {
    if (typeof arg === "number") arg = String(arg);
    const length = typeof arg === "string" ? Buffer.byteLength(arg) : arg.length;
    this.reserve(length + 24);
    const buf = this.buf;
    buf[this.at++] = 36; // $
    this.digits(length);
    if (typeof arg === "string") this.at += buf.write(arg, this.at);
    else this.at += arg.copy(buf, this.at);
    buf[this.at++] = CR;
    buf[this.at++] = LF;
    this.count++;
  }

  /** The bytes written (a view: write no more after taking it). */
  bytes(): Buffer {
    return this.buf.subarray(0, this.at);
  }

  private digits(n: number): void {
    const buf = this.buf;
    if (n < 10) buf[this.at++] = 48 + n;
    else this.at += buf.write(String(n), this.at, "latin1");
    buf[this.at++] = CR;
    buf[this.at++] = LF;
  }

  private reserve(extra: number): void {
    if (this.at + extra <= this.buf.length) return;
    const bigger = Buffer.allocUnsafe(Math.max(this.buf.length * 2, this.at + extra));
    this.buf.copy(bigger, 0, 0, this.at);
    this.buf = bigger;
  }
}

/** A command's header (`*<n>`) for `count` bulk strings in all. */
export function commandHeader(count: number): string {
  return `*${count}\r\n`;
}

/** A whole command as RESP2 bytes. Strings are sent as UTF-8. */
export function encodeCommand(args: readonly CommandArg[]): Buffer {
  const w = new BulkWriter(256);
  for (const arg of args) w.bulk(arg);
  return Buffer.concat([Buffer.from(commandHeader(args.length), "latin1"), w.bytes()]);
}
