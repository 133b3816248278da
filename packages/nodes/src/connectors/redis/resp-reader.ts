// RESP2 replies off a socket, without a client library in the way: `RespReader` cuts the byte stream into whole
// replies (reading only the headers, jumping over bulk contents), and `parseReply` decodes one. The Redis Streams
// source decodes its XREAD replies with `readStreamReply` (stream-entries.ts) instead, straight from the bytes.
// Server-only.

const CR = 13;
const LF = 10;
const MINUS = 45;

/** An error reply (`-ERR …`, `-WRONGPASS …`): the message is the server's text. */
export class RespError extends Error {
  override name = "RespError";
}

/** What the server sent that is not RESP2 (or a header beyond what a reply can hold). */
export class RespProtocolError extends Error {
  override name = "RespProtocolError";
}

export type RespValue = string | number | null | Buffer | RespError | RespValue[];

// Where RespReader is within a header line.
const TYPE = 0; // the type byte comes next
const NUMBER = 1; // in the length or count of $ or *
const LINE = 2; // skipping to the end of a +, - or : line
const BULK = 3; // skipping bulk contents and their CRLF

/**
 * Cuts a stream of bytes into whole RESP2 replies, handing each to `onReply` as one Buffer (a view of the chunk
 * when the reply lies within it, else the pieces joined). Chunks may split a reply anywhere, even inside a header.
 */
export class RespReader {
  private state = TYPE;
  private kind = 0;
  private negative = false;
  private number = 0;
  private digits = 0;
  private skip = 0;
  /** Elements still expected by each array being read, outermost first. */
  private readonly open: number[] = [];
  /** The start of the reply being read, from earlier chunks. */
  private pieces: Buffer[] = [];
  private piecesLength = 0;

  constructor(private readonly onReply: (reply: Buffer) => void) {}

  /** Forgets a partly read reply (after the connection is lost). */
  reset(): void {
    this.state = TYPE;
    this.open.length = 0;
    this.pieces = [];
    this.piecesLength = 0;
    this.skip = 0;
  }

  push(chunk: Buffer): void {
    const n = chunk.length;
    let start = 0;
    let i = 0;
    while (i < n) {
      switch (this.state) {
        case BULK: {
          const take = Math.min(this.skip, n - i);
          i += take;
          this.skip -= take;
          if (this.skip > 0) continue;
          this.state = TYPE;
          break;
        }
        case LINE: {
          const nl = chunk.indexOf(LF, i);
          if (nl < 0) {
            i = n;
            continue;
          }
          i = nl + 1;
          this.state = TYPE;
          break;
        }
        case TYPE: {
          const b = chunk[i++]!;
          if (b === 36 /* $ */ || b === 42 /* * */) {
            this.kind = b;
            this.state = NUMBER;
            this.negative = false;
            this.number = 0;
            this.digits = 0;
          } else if (b === 43 /* + */ || b === MINUS || b === 58 /* : */) {
            this.state = LINE;
          } else {
            throw new RespProtocolError(`unexpected byte ${b} where a RESP2 reply starts`);
          }
          continue;
        }
        default: {
          // NUMBER: digits (or "-1") then CRLF.
          const b = chunk[i++]!;
          if (b >= 48 && b <= 57) {
            this.number = this.number * 10 + (b - 48);
            if (++this.digits > 15) throw new RespProtocolError("a RESP2 length with more than 15 digits");
            continue;
          }
          if (b === MINUS && this.digits === 0 && !this.negative) {
            this.negative = true;
            continue;
          }
          if (b === CR) continue;
          if (b !== LF || this.digits === 0) throw new RespProtocolError(`unexpected byte ${b} in a RESP2 length`);
          const count = this.negative ? -this.number : this.number;
          if (this.kind === 42) {
            this.state = TYPE;
            if (count > 0) {
              this.open.push(count);
              continue;
            }
          } else if (count >= 0) {
            this.state = BULK;
            this.skip = count + 2;
            continue;
          } else this.state = TYPE;
          break;
        }
      }
      // An element ended at i: close the arrays it completes; with none left open, a reply is whole.
      const open = this.open;
      while (open.length > 0) {
        const last = open.length - 1;
        if (--open[last]! > 0) break;
        open.pop();
      }
      if (open.length === 0) {
        this.emit(chunk, start, i);
        start = i;
      }
    }
    if (start < n) {
      this.pieces.push(chunk.subarray(start, n));
      this.piecesLength += n - start;
    }
  }

  private emit(chunk: Buffer, start: number, end: number): void {
    let reply: Buffer;
    if (this.pieces.length === 0) reply = chunk.subarray(start, end);
    else {
      this.pieces.push(chunk.subarray(start, end));
      reply = Buffer.concat(this.pieces, this.piecesLength + end - start);
      this.pieces = [];
      this.piecesLength = 0;
    }
    this.onReply(reply);
  }
}

/** Reads the number after a type byte at `at`, up to its CRLF: [value, offset after the CRLF]. */
export function readNumber(buf: Buffer, at: number): [number, number] {
  let i = at + 1;
  let negative = false;
  if (buf[i] === MINUS) {
    negative = true;
    i++;
  }
  let value = 0;
  for (let b = buf[i]!; b !== CR; b = buf[++i]!) {
    if (b < 48 || b > 57) throw new RespProtocolError(`unexpected byte ${b} in a RESP2 number`);
    value = value * 10 + (b - 48);
  }
  return [negative ? -value : value, i + 2];
}

/** Decodes the reply at `at` of `buf` (a whole one, as RespReader hands them): [value, offset after it]. */
export function parseValue(buf: Buffer, at: number): [RespValue, number] {
  const type = buf[at];
  switch (type) {
    case 43 /* + */:
    case MINUS: {
      const end = buf.indexOf(CR, at);
      const text = buf.toString("utf8", at + 1, end);
      return [type === MINUS ? new RespError(text) : text, end + 2];
    }
    case 58 /* : */:
      return readNumber(buf, at);
    case 36 /* $ */:
      {
        const [length, from] = readNumber(buf, at);
        if (length < 0) return [null, from];
        return [buf.subarray(from, from + length), from + length + 2];
      }
    case 42 /* * */:
      {
        const [count, from] = readNumber(buf, at);
        if (count < 0) return [null, from];
        const items: RespValue[] = new Array(count);
        let i = from;
        for (let k = 0; k < count; k++) [items[k], i] = parseValue(buf, i);
        return [items, i];
      }
    default:
      throw new RespProtocolError(`unexpected byte ${String(type)} where a RESP2 value starts`);
  }
}

/** One whole reply decoded: bulk strings as Buffers, nil as null, an error reply as a RespError (not thrown). */
export function parseReply(reply: Buffer): RespValue {
  return parseValue(reply, 0)[0];
}

/** The error a reply is, if it is one (without decoding anything else). */
export function replyError(reply: Buffer): RespError | undefined {
  return reply[0] === MINUS ? (parseReply(reply) as RespError) : undefined;
}
