import { describe, expect, it } from "vitest";
import { BulkWriter, encodeCommand } from "./resp-command";
import { parseReply, RespError, RespProtocolError, RespReader } from "./resp-reader";
import { readRangeReply, readStreamReply } from "./stream-entries";

// The RESP2 reader and the XREAD decoder on replies written out byte by byte as Redis sends them: cut at every
// byte boundary, nil replies, error replies, binary payloads.

const bulk = (s: string | Buffer) => {
  const b = typeof s === "string" ? Buffer.from(s) : s;
  return Buffer.concat([Buffer.from(`$${b.length}\r\n`), b, Buffer.from("\r\n")]);
};
const array = (...items: Buffer[]) => Buffer.concat([Buffer.from(`*${items.length}\r\n`), ...items]);
const raw = (s: string) => Buffer.from(s, "latin1");
const NIL_BULK = raw("$-1\r\n");
const NIL_ARRAY = raw("*-1\r\n");

const entry = (id: string, ...pairs: (string | Buffer)[]) => array(bulk(id), array(...pairs.map(bulk)));
const xreadReply = array(
  array(
    bulk("orders"),
    array(
      entry("1700000000000-0", "data", '{"id":1}'),
      entry("1700000000000-1", "other", "x", "data", '{"id":"é€"}'),
      entry("1700000000001-0", "payload", "{}"),
    ),
  ),
  array(bulk("clicks:0"), array(entry("5-7", "data", Buffer.from([0, 13, 10, 255])))),
);

const replies = [
  raw("+OK\r\n"),
  raw("-WRONGPASS invalid username-password pair or user is disabled.\r\n"),
  raw(":-42\r\n"),
  raw(":1234567\r\n"),
  bulk(""),
  bulk("a\r\nb"),
  NIL_BULK,
  NIL_ARRAY,
  raw("*0\r\n"),
  array(array(bulk("x"), NIL_BULK), raw(":1\r\n"), raw("+QUEUED\r\n"), array()),
  xreadReply,
];
const stream = Buffer.concat(replies);

function collect(pieces: readonly Buffer[]): Buffer[] {
  const got: Buffer[] = [];
  const reader = new RespReader((reply) => got.push(Buffer.from(reply)));
  for (const piece of pieces) reader.push(piece);
  return got;
}

describe("RespReader", () => {
  it("cuts replies wherever the chunks split them", () => {
    expect(collect([stream])).toEqual(replies);
    for (let cut = 0; cut <= stream.length; cut++) {
      expect(collect([stream.subarray(0, cut), stream.subarray(cut)])).toEqual(replies);
    }
    expect(collect([...stream].map((b) => Buffer.from([b])))).toEqual(replies);
  });

  it("cuts every reply at every pair of boundaries", () => {
    for (const reply of replies.slice(0, -1)) {
      for (let a = 0; a <= reply.length; a++) {
        for (let b = a; b <= reply.length; b++) {
          expect(collect([reply.subarray(0, a), reply.subarray(a, b), reply.subarray(b)])).toEqual([reply]);
        }
      }
    }
  });

  it("holds back a reply until its last byte, and starts afresh after reset()", () => {
    const got: Buffer[] = [];
    const reader = new RespReader((reply) => got.push(Buffer.from(reply)));
    reader.push(xreadReply.subarray(0, xreadReply.length - 1));
    expect(got).toEqual([]);
    reader.reset();
    reader.push(raw("+OK\r\n"));
    expect(got).toEqual([raw("+OK\r\n")]);
  });

  it("refuses what is not RESP2", () => {
    const reader = new RespReader(() => {});
    expect(() => reader.push(raw("HTTP/1.1 400 Bad Request\r\n"))).toThrow(RespProtocolError);
    expect(() => new RespReader(() => {}).push(raw("$x\r\n"))).toThrow(RespProtocolError);
  });
});

describe("parseReply", () => {
  it("decodes each kind of reply, nil as null and an error reply as a RespError", () => {
    expect(replies.slice(0, -1).map(parseReply)).toEqual([
      "OK",
      new RespError("WRONGPASS invalid username-password pair or user is disabled."),
      -42,
      1234567,
      Buffer.alloc(0),
      Buffer.from("a\r\nb"),
      null,
      null,
      [],
      [[Buffer.from("x"), null], 1, "QUEUED", []],
    ]);
    expect(parseReply(replies[1]!)).toBeInstanceOf(RespError);
  });
});

describe("readStreamReply", () => {
  const data = Buffer.from("data");

  it("finds each entry's id and payload field, per stream", () => {
    const [orders, clicks] = readStreamReply(xreadReply, data);
    expect(orders!.stream).toBe("orders");
    expect(orders!.length).toBe(3);
    expect([0, 1, 2].map((k) => orders!.id(k))).toEqual(["1700000000000-0", "1700000000000-1", "1700000000001-0"]);
    expect([0, 1, 2].map((k) => orders!.text(k))).toEqual(['{"id":1}', '{"id":"é€"}', undefined]);
    expect(orders!.pairs(1)).toEqual(["other", "x", "data", '{"id":"é€"}']);
    expect(orders!.pairs(2)).toEqual(["payload", "{}"]);
    expect(clicks!.stream).toBe("clicks:0");
    expect(clicks!.bytes(0)).toEqual(Buffer.from([0, 13, 10, 255]));
  });

  it("reads a nil reply (the block ran out) as no streams, and throws an error reply", () => {
    expect(readStreamReply(NIL_ARRAY, data)).toEqual([]);
    expect(() => readStreamReply(raw("-NOPERM this user has no permissions to access the key\r\n"), data)).toThrow(
      new RespError("NOPERM this user has no permissions to access the key"),
    );
    expect(() => readStreamReply(raw(":1\r\n"), data)).toThrow(RespProtocolError);
  });

  it("takes an entry without fields (XREADGROUP of a deleted entry) as one without the payload field", () => {
    const reply = array(array(bulk("s"), array(array(bulk("1-1"), NIL_ARRAY), entry("1-2", "data", "{}"))));
    const [s] = readStreamReply(reply, data);
    expect(s!.text(0)).toBeUndefined();
    expect(s!.pairs(0)).toEqual([]);
    expect(s!.text(1)).toBe("{}");
  });

  it("reads XRANGE and XREVRANGE replies, the latter turned oldest first", () => {
    const reply = array(entry("3-0", "data", "c"), entry("2-0", "data", "b"), entry("1-0", "data", "a"));
    const entries = readRangeReply(reply, "s", data);
    entries.reverse();
    expect([0, 1, 2].map((k) => [entries.id(k), entries.text(k)])).toEqual([
      ["1-0", "a"],
      ["2-0", "b"],
      ["3-0", "c"],
    ]);
    expect(readRangeReply(raw("*0\r\n"), "s", data).length).toBe(0);
  });
});

describe("encodeCommand", () => {
  it("writes commands as arrays of bulk strings (UTF-8 text, bytes, numbers), however long", () => {
    const long = "x".repeat(100_000);
    const args = ["XADD", "s", "*", "data", "é€", 42, Buffer.from([0, 13, 10]), long];
    expect(parseReply(encodeCommand(args))).toEqual(args.map((a) => (Buffer.isBuffer(a) ? a : Buffer.from(String(a)))));
    const w = new BulkWriter(8);
    for (let i = 0; i < 1000; i++) w.bulk(`€${i}`);
    expect(w.count).toBe(1000);
    expect(parseReply(Buffer.concat([raw("*1000\r\n"), w.bytes()]))).toEqual(
      Array.from({ length: 1000 }, (_, i) => Buffer.from(`€${i}`)),
    );
  });
});
