import { type FileHandle, open } from "node:fs/promises";

// Reads a text file record by record from a byte offset: a record ends at a line feed outside quotes (CSV may
// quote line breaks; JSON Lines has none), so a position is always the first byte of a record and a read after a
// restart starts exactly there. Lines are counted for error messages. A cursor may stop at an end offset: it takes
// the records that start before it (the last may run past it), which is how a file split into byte ranges is read.

const CHUNK = 1 << 20;
const LF = 10;
/** A quoted CSV value may span lines, but not this much: past it an unclosed quote ends at the next line feed. */
const MAX_RECORD_BYTES = 16 << 20;

export interface TextRecord {
  text: string;
  /** Line number (1-based) where the record starts. */
  line: number;
  /** Byte offset where the record starts. */
  at: number;
}

export class TextCursor {
  private handle: FileHandle | undefined;
  private buf: Buffer = Buffer.alloc(0);
  /** File offset of buf[0]. */
  private bufStart: number;
  private eof = false;

  constructor(
    private readonly file: string,
    /** Byte offset of the next record. */
    public pos: number,
    /** Line number of the next record. */
    public line: number,
    /** The quote byte for CSV, or -1 when quotes do not hide line feeds (JSON Lines). */
    private readonly quote: number,
    /** No record starting at or after this byte offset is taken. */
    private readonly end = Number.POSITIVE_INFINITY,
  ) {
    this.bufStart = pos;
  }

  get done(): boolean {
    return this.pos >= this.end || (this.eof && this.pos >= this.bufStart + this.buf.length);
  }

  /** Up to `max` records (blank lines are skipped but counted). */
  async take(max: number): Promise<TextRecord[]> {
    const out: TextRecord[] = [];
    while (out.length < max && this.pos < this.end) {
      const next = this.scan();
      if (next) {
        if (next.text.trim() !== "") out.push(next);
        continue;
      }
      if (this.eof) {
        const rest = this.buf.subarray(this.pos - this.bufStart);
        const lf = this.quote >= 0 ? rest.indexOf(LF) : -1;
        if (lf >= 0) {
          // A quote opened here is never closed before the end of the file: rather than one record swallowing every
          // line after it, this line alone is the (malformed) record, and reading goes on at the next line.
          const text = rest.toString("utf8", this.pos === 0 && this.hasBom() ? 3 : 0, lf + 1);
          out.push({ text, line: this.line, at: this.pos });
          this.pos += lf + 1;
          this.line++;
          continue;
        }
        if (rest.length > 0) {
          const text = rest.toString("utf8", this.pos === 0 && this.hasBom() ? 3 : 0);
          const at = this.pos;
          this.pos += rest.length;
          if (text.trim() !== "") out.push({ text, line: this.line, at });
        }
        break;
      }
      await this.fill();
    }
    return out;
  }

  private scan(): TextRecord | undefined {
    const start = this.pos - this.bufStart;
    const buf = this.buf;
    let end = -1;
    let lines = 1;
    if (this.quote < 0 || buf.length - start > MAX_RECORD_BYTES) {
      end = buf.indexOf(LF, start);
    } else {
      const q = this.quote;
      let quoted = false;
      for (let j = start; j < buf.length; j++) {
        const c = buf[j]!;
        if (c === q) quoted = !quoted;
        else if (c === LF) {
          if (!quoted) {
            end = j;
            break;
          }
          lines++;
        }
      }
    }
    if (end < 0) return undefined;
    let from = start;
    // A UTF-8 byte-order mark at the very start of the file is not part of the first record.
    if (this.pos === 0 && this.hasBom()) from = 3;
    const record: TextRecord = { text: buf.toString("utf8", from, end + 1), line: this.line, at: this.pos };
    this.pos = this.bufStart + end + 1;
    this.line += lines;
    return record;
  }

  private hasBom(): boolean {
    return this.bufStart === 0 && this.buf[0] === 0xef && this.buf[1] === 0xbb && this.buf[2] === 0xbf;
  }

  private async fill(): Promise<void> {
    this.handle ??= await open(this.file, "r");
    const keep = this.buf.subarray(this.pos - this.bufStart);
    const chunk = Buffer.allocUnsafe(Math.max(CHUNK, keep.length));
    const { bytesRead } = await this.handle.read(chunk, 0, chunk.length, this.pos + keep.length);
    if (bytesRead === 0) this.eof = true;
    this.buf = keep.length > 0 ? Buffer.concat([keep, chunk.subarray(0, bytesRead)]) : chunk.subarray(0, bytesRead);
    this.bufStart = this.pos;
  }

  async close(): Promise<void> {
    await this.handle?.close();
    this.handle = undefined;
  }
}

/**
 * The first line start at or after `at` (> 0): `at` itself when the byte before it is a line feed, else the byte after
 * the next line feed; the file's size when no line starts there.
 */
export async function lineStartFrom(file: string, at: number): Promise<number> {
  const handle = await open(file, "r");
  try {
    const chunk = Buffer.allocUnsafe(1 << 16);
    // Looking from the byte before `at` decides a range start that falls exactly on a line start.
    for (let pos = at - 1; ; ) {
      const { bytesRead } = await handle.read(chunk, 0, chunk.length, pos);
      if (bytesRead === 0) return pos;
      const lf = chunk.subarray(0, bytesRead).indexOf(LF);
      if (lf >= 0) return pos + lf + 1;
      pos += bytesRead;
    }
  } finally {
    await handle.close();
  }
}

/** Whether the file holds the byte anywhere (read in large chunks; `indexOf` of one byte is a memchr). */
export async function fileHoldsByte(file: string, byte: number): Promise<boolean> {
  const handle = await open(file, "r");
  try {
    const chunk = Buffer.allocUnsafe(CHUNK * 4);
    for (let pos = 0; ; ) {
      const { bytesRead } = await handle.read(chunk, 0, chunk.length, pos);
      if (bytesRead === 0) return false;
      if (chunk.subarray(0, bytesRead).indexOf(byte) >= 0) return true;
      pos += bytesRead;
    }
  } finally {
    await handle.close();
  }
}
