import { parseValue, type RespError, RespProtocolError, readNumber } from "./resp-reader";

// An XREAD reply (RESP2) read straight from its bytes: for each entry, where its id, its field-value pairs and the
// payload field's value lie in the reply. Nothing is copied or turned into a string until the source asks for it —
// the payload's text for JSON.parse, the id only for the offset (the last entry), metadata or a dead letter.
// Server-only.

/** Numbers kept per entry in `StreamEntries.at`. */
const STRIDE = 4;

/** The entries of one stream in an XREAD reply. */
export class StreamEntries {
  /** Per entry: id start, id end, offset of its field-value array, payload value start (-1: no such field). */
  readonly at: number[] = [];
  /** Payload value ends, per entry. */
  readonly payloadEnd: number[] = [];

  constructor(
    readonly stream: string,
    readonly reply: Buffer,
  ) {}

  get length(): number {
    return this.payloadEnd.length;
  }

  id(k: number): string {
    return this.reply.toString("latin1", this.at[k * STRIDE]!, this.at[k * STRIDE + 1]!);
  }

  /** The payload field's value as text (UTF-8), or undefined when the entry has no such field. */
  text(k: number): string | undefined {
    const start = this.at[k * STRIDE + 3]!;
    return start < 0 ? undefined : this.reply.toString("utf8", start, this.payloadEnd[k]!);
  }

  /** The payload field's value as bytes (a view of the reply), or undefined when the entry has no such field. */
  bytes(k: number): Buffer | undefined {
    const start = this.at[k * STRIDE + 3]!;
    return start < 0 ? undefined : this.reply.subarray(start, this.payloadEnd[k]!);
  }

  /** The entries in the opposite order (XREVRANGE gives the newest first). */
  reverse(): void {
    const n = this.length;
    for (let lo = 0, hi = n - 1; lo < hi; lo++, hi--) {
      for (let j = 0; j < STRIDE; j++) {
        const t = this.at[lo * STRIDE + j]!;
        this.at[lo * STRIDE + j] = this.at[hi * STRIDE + j]!;
        this.at[hi * STRIDE + j] = t;
      }
      const t = this.payloadEnd[lo]!;
      this.payloadEnd[lo] = this.payloadEnd[hi]!;
      this.payloadEnd[hi] = t;
    }
  }

  /** The entry's field-value pairs as text (an entry without fields, as XREADGROUP may give, has none). */
  pairs(k: number): string[] {
    const [value] = parseValue(this.reply, this.at[k * STRIDE + 2]!);
    if (!Array.isArray(value)) return [];
    return value.map((v) => (Buffer.isBuffer(v) ? v.toString("utf8") : String(v)));
  }
}

function expect(buf: Buffer, at: number, type: number, what: string): void {
  if (buf[at] !== type) {
    throw new RespProtocolError(`XREAD reply: expected ${what} at byte ${at}, found ${String(buf[at])}`);
  }
}

/**
 * The entries of an XREAD/XREADGROUP reply, per stream; `[]` for a nil reply (nothing new before the block ran
 * out). `field` names the payload field. Throws the error when the reply is one.
 */
export function readStreamReply(reply: Buffer, field: Buffer): StreamEntries[] {
  if (reply[0] === 45 /* - */) throw parseValue(reply, 0)[0] as RespError;
  expect(reply, 0, 42, "an array");
  const [streams, first] = readNumber(reply, 0);
  const out: StreamEntries[] = [];
  let i = first;
  for (let s = 0; s < streams; s++) {
    expect(reply, i, 42, "a [stream, entries] pair");
    i = readNumber(reply, i)[1];
    expect(reply, i, 36, "a stream name");
    let length: number;
    [length, i] = readNumber(reply, i);
    const entries = new StreamEntries(reply.toString("utf8", i, i + length), reply);
    i = readEntries(entries, i + length + 2, field);
    out.push(entries);
  }
  return out;
}

/** The entries of an XRANGE or XREVRANGE reply (in the reply's order). */
export function readRangeReply(reply: Buffer, stream: string, field: Buffer): StreamEntries {
  if (reply[0] === 45 /* - */) throw parseValue(reply, 0)[0] as RespError;
  const entries = new StreamEntries(stream, reply);
  readEntries(entries, 0, field);
  return entries;
}

/** Reads the array of [id, fields] at `i` into `entries`; returns the offset after it. */
function readEntries(entries: StreamEntries, from: number, field: Buffer): number {
  const reply = entries.reply;
  const fieldLength = field.length;
  expect(reply, from, 42, "an array of entries");
  let [count, i] = readNumber(reply, from);
  let length: number;
  const at = entries.at;
  const payloadEnd = entries.payloadEnd;
  for (let e = 0; e < count; e++) {
    expect(reply, i, 42, "an [id, fields] pair");
    i = readNumber(reply, i)[1];
    expect(reply, i, 36, "an entry id");
    [length, i] = readNumber(reply, i);
    const idStart = i;
    const idEnd = i + length;
    i = idEnd + 2;
    const pairsAt = i;
    expect(reply, i, 42, "the entry's fields");
    let values: number;
    [values, i] = readNumber(reply, i);
    let payloadStart = -1;
    let payloadStop = -1;
    for (let v = 0; v < values; v++) {
      expect(reply, i, 36, "a field or value");
      [length, i] = readNumber(reply, i);
      // A field name (even element) that is the payload field, not met before: remember where its value lies.
      if (v % 2 === 0 && payloadStart < 0 && length === fieldLength && v + 1 < values) {
        let same = true;
        for (let b = 0; b < length; b++) {
          if (reply[i + b] !== field[b]) {
            same = false;
            break;
          }
        }
        if (same) {
          i += length + 2;
          expect(reply, i, 36, "a value");
          [length, i] = readNumber(reply, i);
          payloadStart = i;
          payloadStop = i + Math.max(0, length);
          if (length >= 0) i += length + 2;
          v++;
          continue;
        }
      }
      if (length >= 0) i += length + 2;
    }
    at.push(idStart, idEnd, pairsAt, payloadStart);
    payloadEnd.push(payloadStop);
  }
  return i;
}
