import { OFFSET_LAG_UNITS } from "@sluice/pipeline/control/node-figures";
import { emptyBucket, type FigureBucket } from "./figure-buckets";

// One bucket's figures of every node and shuffle edge of a run, packed into bytes for RunFigureBucket.figures: a
// row per bucket rather than per node keeps the per-row cost (tuple header, run id, primary-key entry) off each
// node, and variable-length integers keep small counts small. Layout (all integers unsigned LEB128 varints):
//
//   version (2; 1 is still read)
//   node count, then per node: id (byte length, UTF-8), in, out, err, latency pair count, (bucket, count) pairs,
//     a presence byte (1 watermark, 2 watermark lag, 4 state keys, 8 input lag, 16 offset lag), then those
//     present, in that order; the watermark as a zigzag offset from the bucket's start in ms, since it sits near
//     it; the offset lag as its value then its unit (index in OFFSET_LAG_UNITS)
//   edge count, then per edge: id, sent, backpressured seconds, a presence byte (1 backlog), backlog if present
//
// Integers go up to 2^53 (arithmetic, not 32-bit shifts); gauges are rounded to whole numbers. Version 2 added the
// offset lag; a version 1 bucket never sets its bit, so both decode alike. The version changed all the same, so
// that a process of the version before refuses a new bucket rather than misreading it.

const VERSION = 2;
const READABLE_VERSIONS: readonly number[] = [1, 2];

class Writer {
  private bytes: number[] = [];
  uint(n: number): void {
    let v = Math.max(0, Math.round(n));
    while (v >= 0x80) {
      this.bytes.push((v % 0x80) | 0x80);
      v = Math.floor(v / 0x80);
    }
    this.bytes.push(v);
  }
  int(n: number): void {
    const v = Math.round(n);
    this.uint(v >= 0 ? v * 2 : -v * 2 - 1);
  }
  text(s: string): void {
    const b = Buffer.from(s, "utf8");
    this.uint(b.length);
    for (const x of b) this.bytes.push(x);
  }
  byte(n: number): void {
    this.bytes.push(n);
  }
  done(): Buffer {
    return Buffer.from(this.bytes);
  }
}

class Reader {
  private at = 0;
  constructor(private readonly bytes: Uint8Array) {}
  uint(): number {
    let v = 0;
    let scale = 1;
    for (;;) {
      const b = this.bytes[this.at++];
      if (b === undefined) throw new Error("a history bucket ends in the middle of a number");
      v += (b & 0x7f) * scale;
      if (b < 0x80) return v;
      scale *= 0x80;
    }
  }
  int(): number {
    const z = this.uint();
    return z % 2 === 0 ? z / 2 : -(z + 1) / 2;
  }
  text(): string {
    const n = this.uint();
    const s = Buffer.from(this.bytes.subarray(this.at, this.at + n)).toString("utf8");
    this.at += n;
    return s;
  }
  byte(): number {
    const b = this.bytes[this.at++];
    if (b === undefined) throw new Error("a history bucket ends early");
    return b;
  }
}

export function encodeBucket(bucket: FigureBucket): Buffer {
  const w = new Writer();
  const startMs = bucket.start * 1000;
  w.uint(VERSION);
  w.uint(bucket.nodes.size);
  for (const [id, n] of bucket.nodes) {
    w.text(id);
    w.uint(n.recordsIn);
    w.uint(n.recordsOut);
    w.uint(n.errors);
    const pairs = Object.entries(n.latency).filter(([, c]) => c > 0);
    w.uint(pairs.length);
    for (const [b, c] of pairs) {
      w.uint(Number(b));
      w.uint(c);
    }
    const offsetLag = n.offsetLagUnit === null ? null : n.maxOffsetLag;
    const gauges = [n.watermark, n.maxWatermarkLagMs, n.maxStateKeys, n.maxInputLag, offsetLag];
    w.byte(gauges.reduce<number>((mask, g, i) => (g === null ? mask : mask | (1 << i)), 0));
    if (n.watermark !== null) w.int(n.watermark - startMs);
    for (const g of gauges.slice(1, 4)) if (g !== null) w.uint(g);
    if (offsetLag !== null) {
      w.uint(offsetLag);
      w.uint(OFFSET_LAG_UNITS.indexOf(n.offsetLagUnit!));
    }
  }
  w.uint(bucket.edges.size);
  for (const [id, e] of bucket.edges) {
    w.text(id);
    w.uint(e.sent);
    w.uint(e.backpressuredSeconds);
    w.byte(e.maxBacklog === null ? 0 : 1);
    if (e.maxBacklog !== null) w.uint(e.maxBacklog);
  }
  return w.done();
}

export function decodeBucket(start: number, bytes: Uint8Array): FigureBucket {
  const r = new Reader(bytes);
  const version = r.uint();
  if (!READABLE_VERSIONS.includes(version)) {
    throw new Error(`a history bucket is in format ${version}, which this version cannot read`);
  }
  const bucket = emptyBucket(start);
  const startMs = start * 1000;
  for (let count = r.uint(); count > 0; count--) {
    const id = r.text();
    const recordsIn = r.uint();
    const recordsOut = r.uint();
    const errors = r.uint();
    const latency: Record<number, number> = {};
    for (let pairs = r.uint(); pairs > 0; pairs--) {
      const b = r.uint();
      latency[b] = r.uint();
    }
    const mask = r.byte();
    const has = (bit: number) => (mask & (1 << bit)) !== 0;
    const watermark = has(0) ? startMs + r.int() : null;
    const maxWatermarkLagMs = has(1) ? r.uint() : null;
    const maxStateKeys = has(2) ? r.uint() : null;
    const maxInputLag = has(3) ? r.uint() : null;
    const offsetLag = has(4) ? r.uint() : null;
    const offsetLagUnit = offsetLag === null ? null : (OFFSET_LAG_UNITS[r.uint()] ?? null);
    bucket.nodes.set(id, {
      recordsIn,
      recordsOut,
      errors,
      latency,
      watermark,
      maxWatermarkLagMs,
      maxStateKeys,
      maxInputLag,
      maxOffsetLag: offsetLagUnit === null ? null : offsetLag,
      offsetLagUnit,
    });
  }
  for (let count = r.uint(); count > 0; count--) {
    const id = r.text();
    const sent = r.uint();
    const backpressuredSeconds = r.uint();
    const maxBacklog = r.byte() === 1 ? r.uint() : null;
    bucket.edges.set(id, { sent, maxBacklog, backpressuredSeconds });
  }
  return bucket;
}
