import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { FleetHarness, waitFor } from "@sluice/test-kit/fleet-harness";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { SPLIT_MIN_BYTES } from "./file-source.run";

// One big JSON Lines file read by three partitions through the real engine, the worker killed mid-run: each
// partition resumes its byte range at its committed position, and every record is written exactly once.

let root: string;
let harness: FleetHarness | undefined;

beforeAll(async () => {
  root = await mkdtemp(path.join(tmpdir(), "sluice-file-split-fleet-"));
});
afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});
afterEach(async () => {
  await harness?.close();
  harness = undefined;
});

describe("a big file split over partitions, through the engine", () => {
  it("writes every record exactly once although the worker is killed mid-run", async () => {
    const count = 150_000;
    await mkdir(path.join(root, "in"), { recursive: true });
    const lines = Array.from({ length: count }, (_, i) => `${JSON.stringify({ id: i, pad: "z".repeat(i % 23) })}\n`);
    const text = lines.join("");
    expect(Buffer.byteLength(text)).toBeGreaterThanOrEqual(SPLIT_MIN_BYTES);
    await writeFile(path.join(root, "in/big.jsonl"), text);

    harness = new FleetHarness();
    const env = { SLUICE_FILES_DIR: root };
    const first = harness.spawnWorker("doomed", env);
    await first.ready();
    await harness.startRun("split", {
      apiVersion: "sluice/v1",
      kind: "Pipeline",
      metadata: { name: "split" },
      spec: {
        settings: { parallelism: 3, batchSize: 100, delivery: "exactly-once" },
        nodes: [
          { id: "src", type: "source.file", config: { path: "in/big.jsonl" } },
          { id: "out", type: "sink.file", config: { path: "out", rollBytes: 200_000 } },
        ],
        edges: [{ from: "src", to: "out" }],
      },
    });
    await waitFor(async () => ((await harness!.snapshot("split"))?.nodes.out?.in ?? 0) > 15_000, 30_000);
    first.kill("SIGKILL");
    await first.exited;
    // Killed mid-run: the rescuer has most of the file still to read.
    expect((await harness.snapshot("split"))?.nodes.out?.in ?? 0).toBeLessThan(count / 2);
    const second = harness.spawnWorker("rescuer", env);
    const done = await waitFor(
      async () => {
        const s = await harness!.snapshot("split");
        return s?.status === "completed" ? s : undefined;
      },
      60_000,
      () => second.output.slice(-20).join("\n"),
    );
    expect(done.nodes.out?.in).toBe(count);
    expect(done.progress?.done).toBe(done.progress?.total);

    const names = (await readdir(path.join(root, "out"))).sort();
    expect(names.filter((n) => n.endsWith(".inprogress"))).toEqual([]);
    const ids: number[] = [];
    const byPartition = new Map<string, number>();
    for (const n of names) {
      const partition = /-p(\d+)-/.exec(n)?.[1] ?? "?";
      for (const line of (await readFile(path.join(root, "out", n), "utf8")).split("\n")) {
        if (!line) continue;
        ids.push((JSON.parse(line) as { id: number }).id);
        byPartition.set(partition, (byPartition.get(partition) ?? 0) + 1);
      }
    }
    expect(ids).toHaveLength(count);
    expect(new Set(ids).size).toBe(count);
    // The one file was read by all three partitions, about a third each.
    expect([...byPartition.keys()].sort()).toEqual(["0", "1", "2"]);
    for (const n of byPartition.values()) expect(Math.abs(n - count / 3)).toBeLessThan(count / 30);
  });
});
