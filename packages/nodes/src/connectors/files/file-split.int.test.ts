import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import type { DataRecord } from "@sluice/pipeline/record-schema";
import { parquetWriteBuffer } from "hyparquet-writer";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { SourceBatch, SourceOffset, SourceReader } from "../../runtime-contract";
import { testContext } from "../../testing/operator-harness";
import { fileSourceDef } from "./file-source.def";
import { fileSourceRuntime, SPLIT_MIN_BYTES } from "./file-source.run";

// One big file read by several partitions: each takes the records that start in its byte range (Parquet: the row
// groups), and together they read every record exactly once.

let root: string;
const never = new AbortController().signal;

beforeAll(async () => {
  root = await mkdtemp(path.join(tmpdir(), "sluice-file-split-"));
});
afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

async function openSource(config: Record<string, unknown>, partition: number, partitions: number, from?: unknown) {
  const ctx = testContext(fileSourceDef, config, { partition, partitions });
  (ctx.services as unknown as { files: { root: string } }).files = { root };
  return fileSourceRuntime.open(ctx as never, (from ?? null) as SourceOffset | null);
}

async function drain(reader: SourceReader, max = 997) {
  const records: DataRecord[] = [];
  const rejected: { record: unknown; error: string }[] = [];
  const batches: SourceBatch[] = [];
  for (let i = 0; i < 100_000; i++) {
    const batch = (await reader.read(max, never)) as SourceBatch;
    batches.push(batch);
    records.push(...batch.records);
    rejected.push(...(batch.rejected ?? []));
    if (batch.end) break;
  }
  await reader.close();
  return { records, rejected, batches, last: batches.at(-1)! };
}

/** A small deterministic generator, so a failure can be reproduced. */
function random(seed: number) {
  let s = seed >>> 0;
  return () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}

const cut = (size: number, p: number, partitions: number) => Math.floor((size * p) / partitions);

/**
 * Lines of varied length whose total is fixed, then nudged so that chosen byte offsets fall exactly on a line start
 * (`shift` 0), on a line's final line feed (-1) or just past a line start (+1). `line(i, pad)` renders line i with
 * `pad` bytes of padding; moving padding from one line to its neighbour moves only the start between them.
 */
function placeLines(count: number, line: (i: number, pad: number) => string, edges: [number, number][], seed: number) {
  const next = random(seed);
  const pads = Array.from({ length: count }, () => Math.floor(next() * 420));
  const text = () => pads.map((p, i) => line(i, p));
  const starts = () => {
    const out: number[] = [];
    let at = 0;
    for (const l of text()) {
      out.push(at);
      at += Buffer.byteLength(l);
    }
    return { out, size: at };
  };
  for (const [offset, shift] of edges) {
    const { out } = starts();
    const want = offset - shift;
    // The line holding `want`, then make the line after it start there: shorten it and lengthen the next one…
    const k = out.findIndex((s, i) => s <= want && (out[i + 1] ?? Number.POSITIVE_INFINITY) > want);
    if (k < 0 || out[k] === want) continue;
    const early = out[k + 1]! - want;
    if (pads[k]! >= early) {
      pads[k] = pads[k]! - early;
      pads[k + 1] = pads[k + 1]! + early;
    } else {
      // …or else lengthen the one before it and shorten it, so that it starts there.
      const late = want - out[k]!;
      if (pads[k]! < late) throw new Error(`cannot place a line start at ${want}`);
      pads[k - 1] = pads[k - 1]! + late;
      pads[k] = pads[k]! - late;
    }
  }
  const { out, size } = starts();
  return { lines: text(), starts: out, size };
}

/** The records of a drain as their line indices, sorted. */
const indices = (records: DataRecord[], key: string) => records.map((r) => Number(r[key])).sort((a, b) => a - b);

describe("source.file splits one big file over the partitions", () => {
  const count = 20_000;
  const bad = 12_345;
  const jsonLine = (i: number, pad: number) =>
    i === bad
      ? `{not json ${"x".repeat(pad)}\n`
      : `${JSON.stringify({ n: i, note: i % 7 === 0 ? "é" : "", pad: "x".repeat(pad) })}\n`;
  let jl: ReturnType<typeof placeLines>;

  beforeAll(async () => {
    // The size the edges are computed from does not change while they are placed: padding only moves.
    const size = placeLines(count, jsonLine, [], 19).size;
    const edges: [number, number][] = [
      [cut(size, 1, 2), 0],
      [cut(size, 1, 4), 0],
      [cut(size, 3, 4), 0],
      [cut(size, 1, 3), -1],
      [cut(size, 2, 3), 1],
    ];
    jl = placeLines(count, jsonLine, edges, 19);
    expect(jl.size).toBe(size);
    expect(jl.size).toBeGreaterThanOrEqual(SPLIT_MIN_BYTES);
    for (const [offset, shift] of edges) expect(jl.starts).toContain(offset - shift);
    await mkdir(path.join(root, "big"), { recursive: true });
    await writeFile(path.join(root, "big/events.jsonl"), jl.lines.join(""));
  });

  it.each([1, 2, 3, 4])("JSON Lines over %i partitions: every record once, by where it starts", async (partitions) => {
    const seen: number[] = [];
    let totals = 0;
    for (let p = 0; p < partitions; p++) {
      const part = await drain(await openSource({ path: "big/*.jsonl" }, p, partitions));
      const lo = cut(jl.size, p, partitions);
      const hi = cut(jl.size, p + 1, partitions);
      const expected = jl.starts.flatMap((s, i) => (s >= lo && s < hi && i !== bad ? [i] : []));
      expect(indices(part.records, "n")).toEqual(expected);
      // Roughly balanced: each share within a tenth of an even one.
      expect(Math.abs(part.records.length - count / partitions)).toBeLessThan(count / partitions / 10);
      expect(part.last.offset).toMatchObject({ split: 1, done: true });
      expect(part.last.progress?.done).toBe(part.last.progress?.total);
      totals += part.last.progress!.total;
      // The malformed line is refused by the partition it starts in; past the first range by byte offset.
      const badAt = jl.starts[bad]!;
      if (badAt >= lo && badAt < hi) {
        expect(part.rejected.map((r) => r.error)).toEqual([
          expect.stringMatching(
            lo === 0 ? `^big/events\\.jsonl line ${bad + 1}: ` : `^big/events\\.jsonl byte ${badAt}: `,
          ),
        ]);
      } else expect(part.rejected).toEqual([]);
      seen.push(...part.records.map((r) => r.n as number));
    }
    expect(totals).toBe(jl.size);
    expect(seen.sort((a, b) => a - b)).toEqual(Array.from({ length: count }, (_, i) => i).filter((i) => i !== bad));
  });

  it("resumes a partition from any committed position inside its range", async () => {
    const config = { path: "big/*.jsonl" };
    const whole = await drain(await openSource(config, 1, 3), 500);
    const reader = await openSource(config, 1, 3);
    const first: DataRecord[] = [];
    let batch: SourceBatch | undefined;
    for (let i = 0; i < 4; i++) {
      batch = (await reader.read(500, never)) as SourceBatch;
      first.push(...batch.records);
    }
    // The lag counts only this partition's share.
    const share = cut(jl.size, 2, 3) - cut(jl.size, 1, 3);
    const lag = (await reader.offsetLag!())!.value;
    await reader.close();
    expect(lag).toBeGreaterThan(0);
    expect(lag).toBeLessThan(share);
    const at = (batch!.offset as { at: number }).at;
    expect(at).toBeGreaterThan(cut(jl.size, 1, 3));
    expect(jl.starts).toContain(at);
    // A worker taking over opens at the committed position: the same lag before it reads, then exactly the rest.
    const resumed = await openSource(config, 1, 3, batch!.offset);
    expect((await resumed.offsetLag!())!.value).toBe(lag);
    const rest = await drain(resumed, 333);
    expect([...first, ...rest.records]).toEqual(whole.records);
    // A position at the file's start (as the step to the next file commits it) means the range is not started.
    const fresh = await drain(await openSource(config, 1, 3, { ...(batch!.offset as object), at: 0, line: 1 }), 500);
    expect(fresh.records).toEqual(whole.records);
  });

  it("keeps the whole-file assignment for a run whose offsets predate the split", async () => {
    const config = { path: "big/*.jsonl" };
    const old = { file: null, at: 0, line: 1, read: 0, finished: 0 };
    const shares = [];
    for (let p = 0; p < 3; p++) shares.push(await drain(await openSource(config, p, 3, old)));
    const owner = shares.findIndex((s) => s.records.length > 0);
    expect(shares.filter((s) => s.records.length > 0)).toHaveLength(1);
    expect(shares[owner]!.records).toHaveLength(count - 1);
    for (const s of shares) expect(s.last.offset).not.toHaveProperty("split");
    // And mid-file: the old owner goes on from its line to the end of the file.
    const mid = { file: "big/events.jsonl", at: jl.starts[100], line: 101, read: 100, finished: 0 };
    const rest = await drain(await openSource(config, owner, 3, mid));
    expect(indices(rest.records, "n")).toEqual(
      Array.from({ length: count - 100 }, (_, i) => i + 100).filter((i) => i !== bad),
    );
    expect(rest.rejected[0]?.error).toMatch(`line ${bad + 1}: `);
  });
});

describe("source.file splits a big CSV file", () => {
  const count = 20_000;
  const header = "id,name,amount\n";
  const csvLine = (i: number, pad: number) =>
    i === 0 ? header : `${i},name ${"y".repeat(pad)},${(i * 0.25).toFixed(2)}\n`;
  let csv: ReturnType<typeof placeLines>;

  beforeAll(async () => {
    const size = placeLines(count + 1, csvLine, [], 7).size;
    csv = placeLines(
      count + 1,
      csvLine,
      [
        [cut(size, 1, 3), 0],
        [cut(size, 1, 2), -1],
        [cut(size, 3, 4), 1],
      ],
      7,
    );
    expect(csv.size).toBeGreaterThanOrEqual(SPLIT_MIN_BYTES);
    await mkdir(path.join(root, "csv"), { recursive: true });
    await writeFile(path.join(root, "csv/big.csv"), csv.lines.join(""));
    // The same rows with one quoted value: a line feed could hide in quotes, so this one is not split.
    const quoted = [...csv.lines];
    quoted[5000] = `5000,"name, quoted",1250.00\n`;
    await writeFile(path.join(root, "csv/quoted.csv"), quoted.join(""));
  });

  it.each([2, 3, 4])("with its header, over %i partitions", async (partitions) => {
    const config = { path: "csv/big.csv", fields: [{ name: "id", type: "int" }, "name", "amount"] };
    const seen: number[] = [];
    for (let p = 0; p < partitions; p++) {
      const part = await drain(await openSource(config, p, partitions), 1500);
      const lo = cut(csv.size, p, partitions);
      const hi = cut(csv.size, p + 1, partitions);
      expect(part.rejected).toEqual([]);
      expect(indices(part.records, "id")).toEqual(
        csv.starts.flatMap((s, i) => (s >= lo && s < hi && i > 0 ? [i] : [])),
      );
      expect(Math.abs(part.records.length - count / partitions)).toBeLessThan(count / partitions / 10);
      expect(part.records[0]).toEqual({
        id: expect.any(Number),
        name: expect.stringMatching(/^name y*$/),
        amount: expect.any(String),
      });
      seen.push(...part.records.map((r) => r.id as number));
    }
    expect(seen.sort((a, b) => a - b)).toEqual(Array.from({ length: count }, (_, i) => i + 1));
  });

  it("refuses a split file once, not once per partition", async () => {
    const errors: string[] = [];
    for (let p = 0; p < 3; p++) {
      const part = await drain(await openSource({ path: "csv/big.csv", fields: ["id", "nope"] }, p, 3));
      expect(part.records).toEqual([]);
      errors.push(...part.rejected.map((r) => r.error));
    }
    expect(errors).toEqual([expect.stringMatching(/the header of csv\/big\.csv lacks the declared column nope/)]);
  });

  it("reads a CSV file holding a quote whole, in one partition", async () => {
    const sizes = [];
    for (let p = 0; p < 3; p++)
      sizes.push((await drain(await openSource({ path: "csv/quoted.csv" }, p, 3))).records.length);
    expect(sizes.sort()).toEqual([0, 0, count]);
  });
});

describe("source.file splits a big Parquet file by row groups", () => {
  const rows = 160_000;

  beforeAll(async () => {
    const next = random(3);
    const alphabet = "abcdefghijklmnopqrstuvwxyz0123456789";
    const label = () => Array.from({ length: 24 }, () => alphabet[Math.floor(next() * alphabet.length)]).join("");
    const buffer = parquetWriteBuffer({
      columnData: [
        { name: "id", data: BigInt64Array.from({ length: rows }, (_, i) => BigInt(i)), type: "INT64" },
        { name: "label", data: Array.from({ length: rows }, label), type: "STRING" },
      ],
      rowGroupSize: 5000,
    });
    expect(buffer.byteLength).toBeGreaterThanOrEqual(SPLIT_MIN_BYTES);
    await mkdir(path.join(root, "pq"), { recursive: true });
    await writeFile(path.join(root, "pq/big.parquet"), Buffer.from(buffer));
  });

  it("gives each partition whole row groups, every row once, and resumes at a row", async () => {
    const config = { path: "pq/big.parquet", fields: [{ name: "id", type: "int" }] };
    const seen: number[] = [];
    const shares: DataRecord[][] = [];
    for (let p = 0; p < 3; p++) {
      const part = await drain(await openSource(config, p, 3), 3000);
      expect(part.records.length).toBeGreaterThan(rows / 3 - 2 * 5000);
      expect(part.records.length % 5000).toBe(0);
      expect(part.last.progress?.done).toBe(part.last.progress?.total);
      shares.push(part.records);
      seen.push(...part.records.map((r) => r.id as number));
    }
    expect(seen.sort((a, b) => a - b)).toEqual(Array.from({ length: rows }, (_, i) => i));
    // Partition 1 stops mid-group and resumes there.
    const reader = await openSource(config, 1, 3);
    const first = (await reader.read(7500, never)) as SourceBatch;
    await reader.close();
    const rest = await drain(await openSource(config, 1, 3, first.offset), 3000);
    expect([...first.records, ...rest.records]).toEqual(shares[1]);
  });
});
