import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { FleetHarness, waitFor } from "@sluice/test-kit/fleet-harness";
import { parquetReadObjects } from "hyparquet";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { catalog } from "../../catalog";
import { createRuntimeRegistry, type RuntimeContext, type SinkRuntime } from "../../runtime-contract";
import { runtimes } from "../../runtimes";
import { withServices } from "./test-services";

// Files in, files out, through the real engine: an in-process worker for exact contents, and worker processes
// killed mid-run to show that the sink neither loses nor repeats a record.

let root: string;
let harness: FleetHarness | undefined;

beforeAll(async () => {
  root = await mkdtemp(path.join(tmpdir(), "sluice-files-fleet-"));
});
afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});
afterEach(async () => {
  await harness?.close();
  harness = undefined;
});

const fileRuntimes = () => withServices(runtimes, ["source.file", "sink.file"], { files: { root } });

function pipeline(source: Record<string, unknown>, sink: Record<string, unknown>, parallelism = 2, extra = {}) {
  return {
    apiVersion: "sluice/v1",
    kind: "Pipeline",
    metadata: { name: "files" },
    spec: {
      settings: { parallelism, batchSize: 1000, delivery: "exactly-once", ...extra },
      nodes: [source, { id: "out", type: "sink.file", config: sink }],
      edges: [{ from: source.id as string, to: "out" }],
    },
  };
}

async function completed(folder: string) {
  const names = (await readdir(path.join(root, folder))).sort();
  return {
    done: names.filter((n) => !n.endsWith(".inprogress")),
    open: names.filter((n) => n.endsWith(".inprogress")),
  };
}

async function jsonLines(folder: string, names: string[]) {
  const out: Record<string, unknown>[] = [];
  for (const n of names) {
    const text = await readFile(path.join(root, folder, n), "utf8");
    for (const line of text.split("\n")) if (line) out.push(JSON.parse(line) as Record<string, unknown>);
  }
  return out;
}

describe("files through the engine", () => {
  it("turns CSV files into Parquet files with exactly the same records, refusing a malformed line", async () => {
    await mkdir(path.join(root, "in"), { recursive: true });
    let expected = 0;
    for (let f = 0; f < 5; f++) {
      const lines = ["id,label,amount"];
      for (let i = 0; i < 4000; i++) {
        const id = f * 4000 + i;
        if (id === 5555) lines.push(`${id},"unclosed,1`);
        else {
          lines.push(`${id},label ${id},${id / 4}`);
          expected++;
        }
      }
      await writeFile(path.join(root, `in/batch-${f}.csv`), `${lines.join("\n")}\n`);
    }
    harness = new FleetHarness();
    await harness.startInProcess("w1", catalog, fileRuntimes());
    await harness.startRun(
      "csv2pq",
      pipeline(
        {
          id: "src",
          type: "source.file",
          config: {
            path: "in/*.csv",
            fields: [{ name: "id", type: "int" }, "label", { name: "amount", type: "float" }],
          },
        },
        { path: "out/pq", format: "parquet", rollBytes: 64 * 1024 },
      ),
    );
    const done = await harness.waitForStatus("csv2pq", "completed");
    expect(done.nodes.src?.out).toBe(expected);
    expect(done.nodes.out?.in).toBe(expected);
    expect(done.progress?.done).toBe(done.progress?.total);
    const files = await completed("out/pq");
    expect(files.open).toEqual([]);
    expect(files.done.length).toBeGreaterThan(2);
    const ids: number[] = [];
    for (const name of files.done) {
      const bytes = await readFile(path.join(root, "out/pq", name));
      const rows = await parquetReadObjects({
        file: bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.length),
      });
      for (const r of rows) {
        expect(r.label).toBe(`label ${r.id}`);
        expect(r.amount).toBe(Number(r.id) / 4);
        ids.push(Number(r.id));
      }
    }
    expect(ids.sort((a, b) => a - b)).toEqual(Array.from({ length: 20_000 }, (_, i) => i).filter((i) => i !== 5555));
  });

  it("reports the run completed only once its last files are complete", async () => {
    // A sink that takes its time to close (a slow disk renaming its last parts): until it has, the run is not done.
    const base = fileRuntimes();
    const sink = base.get("sink.file") as SinkRuntime<never>;
    const slow = createRuntimeRegistry([
      {
        ...sink,
        async open(ctx: RuntimeContext<never>) {
          const writer = await sink.open(ctx);
          return {
            ...writer,
            async close() {
              await new Promise((r) => setTimeout(r, 400));
              await writer.close();
            },
          };
        },
      },
    ]);
    harness = new FleetHarness();
    await harness.startInProcess("w1", catalog, { get: (type) => slow.get(type) ?? base.get(type) });
    await harness.startRun(
      "slow-close",
      pipeline(
        { id: "gen", type: "source.generator", config: { count: 3000, rate: 0, seed: 9 } },
        { path: "out/slow" },
      ),
    );
    const done = await harness.waitForStatus("slow-close", "completed");
    expect(done.nodes.out?.in).toBe(3000);
    const files = await completed("out/slow");
    expect(files.open).toEqual([]);
    expect(files.done).toHaveLength(2);
    expect(await jsonLines("out/slow", files.done)).toHaveLength(3000);
  });

  it("writes every record exactly once although the worker is killed mid-run", async () => {
    harness = new FleetHarness();
    const env = { SLUICE_FILES_DIR: root };
    const first = harness.spawnWorker("doomed", env);
    await first.ready();
    const count = 24_000;
    await harness.startRun(
      "crash",
      pipeline(
        { id: "gen", type: "source.generator", config: { count, rate: 4000, seed: 5 } },
        { path: "out/crash", rollBytes: 100_000 },
        2,
        { batchSize: 200 },
      ),
    );
    await waitFor(async () => ((await harness!.snapshot("crash"))?.nodes.out?.in ?? 0) > 6000, 30_000);
    first.kill("SIGKILL");
    await first.exited;
    // The dead worker left files half-written, some with a batch it never committed.
    const left = await completed("out/crash");
    expect(left.open.length).toBeGreaterThan(0);
    const second = harness.spawnWorker("rescuer", env);
    const done = await waitFor(
      async () => {
        const s = await harness!.snapshot("crash");
        return s?.status === "completed" ? s : undefined;
      },
      60_000,
      () => second.output.slice(-20).join("\n"),
    );
    expect(done.nodes.out?.in).toBe(count);
    const files = await completed("out/crash");
    expect(files.open).toEqual([]);
    const records = await jsonLines("out/crash", files.done);
    expect(records).toHaveLength(count);
    expect(new Set(records.map((r) => r.id)).size).toBe(count);
  });
});
