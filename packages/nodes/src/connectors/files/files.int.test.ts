import { mkdir, mkdtemp, readdir, readFile, rm, symlink, utimes, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { type DataRecord, field, type RecordSchema, t } from "@sluice/pipeline/record-schema";
import { parquetReadObjects } from "hyparquet";
import { parquetWriteBuffer } from "hyparquet-writer";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { replayConfig } from "../../replay";
import type { SinkWriter, SourceBatch, SourceOffset, SourceReader } from "../../runtime-contract";
import { takeOver } from "../../stateful/failover-harness";
import { type MemoryStateStore, testContext } from "../../testing/operator-harness";
import { expandGlob } from "./file-glob";
import { fileSinkDef } from "./file-sink.def";
import { fileSinkRuntime } from "./file-sink.run";
import { fileSourceDef } from "./file-source.def";
import { fileSourceRuntime } from "./file-source.run";

// The file source and sink on real files in a temporary files directory.

let root: string;
const never = new AbortController().signal;

beforeAll(async () => {
  root = await mkdtemp(path.join(tmpdir(), "sluice-files-"));
});
afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

function withRoot<C>(ctx: ReturnType<typeof testContext<C>>) {
  (ctx.services as unknown as { files: { root: string } }).files = { root };
  return ctx;
}

async function openSource(
  config: Record<string, unknown>,
  from: SourceOffset | null = null,
  partition = 0,
  partitions = 1,
) {
  const ctx = withRoot(testContext(fileSourceDef, config, { partition, partitions }));
  return fileSourceRuntime.open(ctx as never, from);
}

async function drain(reader: SourceReader, max = 5) {
  const records: DataRecord[] = [];
  const rejected: { record: unknown; error: string }[] = [];
  let last: SourceBatch | undefined;
  for (let i = 0; i < 100_000; i++) {
    last = (await reader.read(max, never)) as SourceBatch;
    records.push(...last.records);
    rejected.push(...(last.rejected ?? []));
    if (last.end) break;
  }
  await reader.close();
  return { records, rejected, last: last! };
}

describe("files directory", () => {
  it("refuses paths that lead outside it, and expands patterns inside it", async () => {
    await mkdir(path.join(root, "g/a/b"), { recursive: true });
    for (const f of ["g/1.csv", "g/2.csv", "g/x.jsonl", "g/a/3.csv", "g/a/b/4.csv", "g/a/5.csv.inprogress"]) {
      await writeFile(path.join(root, f), "x\n");
    }
    expect((await expandGlob(root, "g/*.csv")).map((f) => f.name)).toEqual(["g/1.csv", "g/2.csv"]);
    expect((await expandGlob(root, "g/**/*.csv")).map((f) => f.name)).toEqual([
      "g/1.csv",
      "g/2.csv",
      "g/a/3.csv",
      "g/a/b/4.csv",
    ]);
    await expect(expandGlob(root, "../etc/passwd")).rejects.toThrow(/outside the files directory/);
    await expect(expandGlob(root, "/etc/*")).rejects.toThrow(/outside the files directory/);
    await symlink("/etc", path.join(root, "g/escape"));
    await expect(expandGlob(root, "g/escape/hostname")).rejects.toThrow(/leads outside the files directory/);
    await expect(openSource({ path: "../../x.csv" })).rejects.toThrow(/node node path: .*outside the files directory/);
    await expect(openSource({ path: "nothing/*.csv" })).rejects.toThrow(/no file in the files directory .* matches/);
  });
});

describe("source.file", () => {
  it("reads CSV with typed fields, quoted line breaks and a BOM, refuses bad lines by number, and resumes exactly", async () => {
    await mkdir(path.join(root, "csv"), { recursive: true });
    const lines = ["\ufeffid,name,amount,ts"];
    for (let i = 1; i <= 40; i++) {
      if (i === 7) lines.push('7,"multi\nline ""quoted""",7.5,2024-01-01T00:00:07Z');
      else if (i === 13) lines.push("13,broken,not-a-number,2024-01-01T00:00:13Z");
      else if (i === 21) lines.push("21,too,many,columns,here");
      else lines.push(`${i},name ${i},${i / 2},${Date.UTC(2024, 0, 1) + i * 1000}`);
    }
    await writeFile(path.join(root, "csv/orders.csv"), `${lines.join("\r\n")}\r\n`);
    const config = {
      path: "csv/orders.csv",
      fields: [
        { name: "id", type: "int" },
        "name",
        { name: "amount", type: "float" },
        { name: "ts", type: "timestamp" },
      ],
      fileField: "file",
    };
    const all = await drain(await openSource(config), 6);
    expect(all.records.map((r) => r.id)).toEqual(
      Array.from({ length: 40 }, (_, i) => i + 1).filter((i) => i !== 13 && i !== 21),
    );
    expect(all.records[6]).toEqual({
      id: 7,
      name: 'multi\nline "quoted"',
      amount: 7.5,
      ts: Date.UTC(2024, 0, 1, 0, 0, 7),
      file: "csv/orders.csv",
    });
    // Line numbers count the quoted line break.
    expect(all.rejected).toEqual([
      {
        record: { file: "csv/orders.csv", line: 15, text: "13,broken,not-a-number,2024-01-01T00:00:13Z\r\n" },
        error: expect.stringMatching(
          /^csv\/orders\.csv line 15: field "amount": expected a number but found "not-a-number"/,
        ),
      },
      {
        record: expect.objectContaining({ line: 23 }),
        error: "csv/orders.csv line 23: expected 4 columns but found 5",
      },
    ]);
    expect(all.last.progress?.done).toBe(all.last.progress?.total);

    // From the position after the first batch, exactly the rest.
    const reader = await openSource(config);
    const first = await reader.read(10, never);
    await reader.close();
    const rest = await drain(await openSource(config, first.offset), 4);
    expect([...first.records, ...rest.records]).toEqual(all.records);
  });

  it("reads JSON Lines as they are or by declared keys, and spreads files over partitions", async () => {
    await mkdir(path.join(root, "jl"), { recursive: true });
    for (let f = 0; f < 6; f++) {
      const lines = Array.from({ length: 50 }, (_, i) => JSON.stringify({ f, i, tags: ["a", i], extra: null }));
      if (f === 2) lines.splice(10, 0, "{not json", "", "[1,2]");
      await writeFile(path.join(root, `jl/part-${f}.jsonl`), `${lines.join("\n")}\n`);
    }
    const whole = await drain(await openSource({ path: "jl/*.jsonl" }), 64);
    expect(whole.records).toHaveLength(300);
    expect(whole.records[0]).toEqual({ f: 0, i: 0, tags: ["a", 0], extra: null });
    expect(whole.rejected.map((r) => r.error)).toEqual([
      expect.stringMatching(/^jl\/part-2\.jsonl line 11: invalid JSON at line 1 column 2/),
      "jl/part-2.jsonl line 13: a JSON object was expected, found an array",
    ]);
    const keyed = await drain(await openSource({ path: "jl/part-0.jsonl", fields: [{ name: "i", type: "string" }] }));
    expect(keyed.records.slice(0, 2)).toEqual([{ i: "0" }, { i: "1" }]);

    const seen: string[] = [];
    let partitionsWithFiles = 0;
    for (let p = 0; p < 3; p++) {
      const part = await drain(await openSource({ path: "jl/*.jsonl" }, null, p, 3), 33);
      if (part.records.length > 0) partitionsWithFiles++;
      seen.push(...part.records.map((r) => `${r.f}:${r.i}`));
    }
    expect(partitionsWithFiles).toBeGreaterThan(1);
    expect(seen.sort()).toEqual(whole.records.map((r) => `${r.f}:${r.i}`).sort());
  });

  it("replays files by name range or modification-time range, over partitions, and ends", async () => {
    await mkdir(path.join(root, "replay"), { recursive: true });
    const day = Date.UTC(2026, 4, 1);
    for (let d = 1; d <= 6; d++) {
      const file = path.join(root, `replay/day-${d}.jsonl`);
      await writeFile(file, `${JSON.stringify({ d, n: 1 })}\n${JSON.stringify({ d, n: 2 })}\n`);
      const at = new Date(day + d * 86_400_000);
      await utimes(file, at, at);
    }
    const days = async (config: Record<string, unknown>) => {
      const seen: number[] = [];
      for (let p = 0; p < 3; p++) {
        const part = await drain(await openSource(config, null, p, 3));
        expect(part.last.end).toBe(true);
        seen.push(...part.records.filter((r) => r.n === 1).map((r) => r.d as number));
      }
      return seen.sort();
    };
    const live = { path: "replay/*.jsonl" };
    expect(
      await days(replayConfig("source.file", live, { offset: "replay/day-2.jsonl" }, { offset: "replay/day-4.jsonl" })),
    ).toEqual([2, 3, 4]);
    expect(await days(replayConfig("source.file", live, { time: day + 5 * 86_400_000 }))).toEqual([5, 6]);
    expect(await days(replayConfig("source.file", live, { time: day }, { time: day + 1.5 * 86_400_000 }))).toEqual([1]);
    // A range no file falls in reads nothing and ends; it is not an error.
    expect(await days(replayConfig("source.file", live, { offset: "replay/e" }))).toEqual([]);
  });

  it("reads Parquet row groups in batches and resumes at a row", async () => {
    await mkdir(path.join(root, "pq"), { recursive: true });
    const n = 2500;
    const buffer = parquetWriteBuffer({
      columnData: [
        { name: "id", data: BigInt64Array.from({ length: n }, (_, i) => BigInt(i)), type: "INT64" },
        { name: "label", data: Array.from({ length: n }, (_, i) => `L${i}`), type: "STRING" },
        {
          name: "at",
          data: Array.from({ length: n }, (_, i) => new Date(Date.UTC(2024, 0, 1) + i)),
          type: "TIMESTAMP",
        },
      ],
      rowGroupSize: 1000,
    });
    await writeFile(path.join(root, "pq/data.parquet"), Buffer.from(buffer));
    const all = await drain(await openSource({ path: "pq/data.parquet" }), 300);
    expect(all.records).toHaveLength(n);
    expect(all.records[1234]).toEqual({ id: 1234, label: "L1234", at: Date.UTC(2024, 0, 1) + 1234 });
    const reader = await openSource({ path: "pq/*.parquet" });
    const first = await reader.read(1100, never);
    await reader.close();
    expect(first.offset).toMatchObject({ file: "pq/data.parquet", at: 1100 });
    const rest = await drain(await openSource({ path: "pq/*.parquet" }, first.offset), 700);
    expect(rest.records.map((r) => r.id)).toEqual(Array.from({ length: n - 1100 }, (_, i) => i + 1100));

    await writeFile(path.join(root, "pq/broken.parquet"), "PAR1 this is not parquet");
    const both = await drain(await openSource({ path: "pq/*.parquet" }), 1000);
    expect(both.records).toHaveLength(n);
    expect(both.rejected).toEqual([
      {
        record: { file: "pq/broken.parquet" },
        error: expect.stringMatching(/pq\/broken\.parquet is not a readable Parquet file/),
      },
    ]);
  });
});

const schema: RecordSchema = {
  fields: [field("id", t.int), field("name", t.string, true), field("ts", t.timestamp), field("meta", t.json, true)],
  open: false,
};

function sinkContext(config: Record<string, unknown>, from?: { stores: Map<string, MemoryStateStore> }) {
  const options = { inputs: { in: schema }, runStartedAt: 1_700_000_000_000 };
  const ctx = from ? takeOver(fileSinkDef, config, from, options) : testContext(fileSinkDef, config, options);
  return withRoot(ctx);
}

const rows = (from: number, n: number): DataRecord[] =>
  Array.from({ length: n }, (_, i) => ({
    id: from + i,
    name: i % 5 === 0 ? null : `name, "${from + i}"`,
    ts: Date.UTC(2024, 0, 1) + (from + i) * 1000,
    meta: { k: from + i },
  }));

async function folderFiles(folder: string) {
  return (await readdir(path.join(root, folder))).sort();
}

const TAG = `test-run-${(1_700_000_000_000).toString(36)}`;

/** The engine's committed picture of a node's state: a copy taken right after a commit. */
function committed(ctx: { stores: Map<string, MemoryStateStore> }) {
  return { stores: new Map([...ctx.stores].map(([n, st]) => [n, takeOverStore(st)])) };
}
function takeOverStore(st: MemoryStateStore): MemoryStateStore {
  const copy = new (st.constructor as new () => MemoryStateStore)();
  for (const [k, v] of st.entries()) copy.set(k, JSON.parse(JSON.stringify(v)));
  return copy;
}

async function readJsonLines(folder: string, files: string[]) {
  const out: DataRecord[] = [];
  for (const f of files) {
    const text = await readFile(path.join(root, folder, f), "utf8");
    out.push(
      ...text
        .trim()
        .split("\n")
        .map((l) => JSON.parse(l) as DataRecord),
    );
  }
  return out;
}

describe("source.file offset lag", () => {
  it("is the bytes of the partition's files not read yet, from the start, mid-file and resumed, down to 0", async () => {
    await mkdir(path.join(root, "lag"), { recursive: true });
    const lines = (f: number) =>
      Array.from({ length: 40 }, (_, i) => `${JSON.stringify({ f, i, note: "é".repeat(i) })}\n`);
    const bytes = (ls: readonly string[]) => ls.reduce((n, l) => n + Buffer.byteLength(l), 0);
    for (const f of [0, 1]) await writeFile(path.join(root, `lag/part-${f}.jsonl`), lines(f).join(""));
    const total = bytes(lines(0)) + bytes(lines(1));

    const reader = await openSource({ path: "lag/*.jsonl" });
    expect(await reader.offsetLag!()).toEqual({ value: total, unit: "bytes" });
    const a = await reader.read(10, never);
    expect(a.records).toHaveLength(10);
    expect((await reader.offsetLag!())!.value).toBe(total - bytes(lines(0).slice(0, 10)));
    // Past the first file into the second.
    const b = await reader.read(45, never);
    expect(b.records).toHaveLength(45);
    expect((await reader.offsetLag!())!.value).toBe(bytes(lines(1).slice(15)));
    await reader.close();

    // Opened again at the committed position: the same figure before it reads anything.
    const resumed = await openSource({ path: "lag/*.jsonl" }, b.offset);
    expect((await resumed.offsetLag!())!.value).toBe(bytes(lines(1).slice(15)));
    let last = b;
    while (!last.end) last = await resumed.read(100, never);
    expect(await resumed.offsetLag!()).toEqual({ value: 0, unit: "bytes" });
    await resumed.close();
  });
});

describe("sink.file", () => {
  it("rolls JSON Lines files by size, completes them after the commit, and truncates what a crash left", async () => {
    const config = { path: "out/jl", rollBytes: 3000 };
    const ctx = sinkContext(config);
    const sink = (await fileSinkRuntime.open(ctx as never)) as SinkWriter;
    await sink.write(rows(0, 20), { batchId: "run:0:0:1", sequence: 1 });
    await sink.committed?.({ batchId: "run:0:0:1", sequence: 1 });
    const atCommit1 = committed(ctx);
    const committedBytes = (atCommit1.stores.get("files")!.get("part") as { bytes: number }).bytes;
    // Batch 2 fills the first file: it gets sealed, but is renamed only once batch 2 is committed…
    await sink.write(rows(20, 30), { batchId: "run:0:0:2", sequence: 2 });
    expect(await folderFiles("out/jl")).toEqual([`part-${TAG}-p0-00001.jsonl.inprogress`]);
    const written = (await readFile(path.join(root, "out/jl", `part-${TAG}-p0-00001.jsonl.inprogress`))).length;
    expect(written).toBeGreaterThan(committedBytes);
    // …which never happens: the worker dies. The next owner starts from what batch 1's commit left.
    const ctx2 = sinkContext(config, atCommit1);
    const next = (await fileSinkRuntime.open(ctx2 as never)) as SinkWriter;
    await next.write(rows(20, 30), { batchId: "run:0:0:2", sequence: 2 });
    await next.committed?.({ batchId: "run:0:0:2", sequence: 2 });
    expect(await folderFiles("out/jl")).toEqual([`part-${TAG}-p0-00001.jsonl`]);
    await next.write(rows(50, 10), { batchId: "run:0:0:3", sequence: 3 });
    await next.committed?.({ batchId: "run:0:0:3", sequence: 3 });
    await next.close();
    const files = await folderFiles("out/jl");
    expect(files).toEqual([`part-${TAG}-p0-00001.jsonl`, `part-${TAG}-p0-00002.jsonl`]);
    const records = await readJsonLines("out/jl", files);
    expect(records.map((r) => r.id)).toEqual(Array.from({ length: 60 }, (_, i) => i));
    expect(records[3]).toEqual(rows(0, 4)[3]);
  });

  it("renames a sealed file at the next owner's start when the crash came after the commit", async () => {
    const config = { path: "out/late", rollRecords: 10 };
    const ctx = sinkContext(config);
    const sink = (await fileSinkRuntime.open(ctx as never)) as SinkWriter;
    await sink.write(rows(0, 10), { batchId: "run:0:0:1", sequence: 1 });
    // Committed, then the worker died before renaming.
    const atCommit = committed(ctx);
    expect(await folderFiles("out/late")).toEqual([`part-${TAG}-p0-00001.jsonl.inprogress`]);
    const next = (await fileSinkRuntime.open(sinkContext(config, atCommit) as never)) as SinkWriter;
    expect(await folderFiles("out/late")).toEqual([`part-${TAG}-p0-00001.jsonl`]);
    await next.close();
  });

  it("rolls by time", async () => {
    const config = { path: "out/time", rollInterval: "50ms" };
    const sink = (await fileSinkRuntime.open(sinkContext(config) as never)) as SinkWriter;
    await sink.write(rows(0, 5), { batchId: "run:0:0:1", sequence: 1 });
    await sink.committed?.({ batchId: "run:0:0:1", sequence: 1 });
    await new Promise((r) => setTimeout(r, 80));
    await sink.write(rows(5, 5), { batchId: "run:0:0:2", sequence: 2 });
    await sink.committed?.({ batchId: "run:0:0:2", sequence: 2 });
    await sink.close();
    const files = await folderFiles("out/time");
    expect(files).toHaveLength(2);
    expect((await readJsonLines("out/time", files)).map((r) => r.id)).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
  });

  it("writes Parquet across batches and owners, one row group per batch, readable with its types", async () => {
    const config = { path: "out/pq", format: "parquet" };
    const ctx = sinkContext(config);
    const sink = (await fileSinkRuntime.open(ctx as never)) as SinkWriter;
    await sink.write(rows(0, 100), { batchId: "run:0:0:1", sequence: 1 });
    await sink.committed?.({ batchId: "run:0:0:1", sequence: 1 });
    const atCommit = committed(ctx);
    await sink.write(rows(100, 50), { batchId: "run:0:0:2", sequence: 2 }); // lost with the worker
    const next = (await fileSinkRuntime.open(sinkContext(config, atCommit) as never)) as SinkWriter;
    await next.write(rows(100, 100), { batchId: "run:0:0:2", sequence: 2 });
    await next.committed?.({ batchId: "run:0:0:2", sequence: 2 });
    await next.close();
    const files = await folderFiles("out/pq");
    expect(files).toEqual([`part-${TAG}-p0-00001.parquet`]);
    const bytes = await readFile(path.join(root, "out/pq", files[0]!));
    const data = await parquetReadObjects({
      file: bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.length),
    });
    expect(data).toHaveLength(200);
    expect(data[7]).toEqual({ id: 7n, name: 'name, "7"', ts: new Date(Date.UTC(2024, 0, 1) + 7000), meta: { k: 7 } });
    expect(data[5]?.name).toBeNull();
    expect(data.map((r) => Number(r.id))).toEqual(Array.from({ length: 200 }, (_, i) => i));
    // And the Files source reads them back.
    const back = await drain(await openSource({ path: "out/pq/*.parquet" }), 64);
    expect(back.records[7]).toEqual({ id: 7, name: 'name, "7"', ts: Date.UTC(2024, 0, 1) + 7000, meta: { k: 7 } });
  });

  it("writes CSV that the Files source reads back to the same records", async () => {
    const config = { path: "out/csv", format: "csv", timestamps: "iso" };
    const sink = (await fileSinkRuntime.open(sinkContext(config) as never)) as SinkWriter;
    await sink.write(rows(0, 30), { batchId: "run:0:0:1", sequence: 1 });
    await sink.close();
    const files = await folderFiles("out/csv");
    const text = await readFile(path.join(root, "out/csv", files[0]!), "utf8");
    expect(text.split("\n").slice(0, 3)).toEqual([
      "id,name,ts,meta",
      '0,,2024-01-01T00:00:00.000Z,"{""k"":0}"',
      '1,"name, ""1""",2024-01-01T00:00:01.000Z,"{""k"":1}"',
    ]);
    const back = await drain(
      await openSource({
        path: "out/csv/*.csv",
        fields: [
          { name: "id", type: "int" },
          "name",
          { name: "ts", type: "timestamp" },
          { name: "meta", type: "json" },
        ],
      }),
    );
    expect(back.records).toEqual(rows(0, 30));
  });

  it("refuses a folder outside the files directory", async () => {
    await expect(fileSinkRuntime.open(sinkContext({ path: "../elsewhere" }) as never)).rejects.toThrow(
      /node node path: "\.\.\/elsewhere" is outside the files directory/,
    );
  });
});
