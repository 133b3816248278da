import { mkdir, mkdtemp, readdir, rm, stat, symlink, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { FleetWorker } from "@sluice/engine/fleet-worker";
import { type PreviewJob, QUEUE_PREVIEW, type RunStartJob } from "@sluice/pipeline/control/protocol";
import { type DataRecord, field, type RecordSchema, t } from "@sluice/pipeline/record-schema";
import { FleetHarness, waitFor } from "@sluice/test-kit/fleet-harness";
import { Job, Queue } from "bullmq";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { catalog } from "../../catalog";
import type { FilesService, SinkWriter, SourceReader } from "../../runtime-contract";
import { runtimes } from "../../runtimes";
import { testContext } from "../../testing/operator-harness";
import { fileSinkDef } from "./file-sink.def";
import { fileSinkRuntime } from "./file-sink.run";
import { fileSourceDef } from "./file-source.def";
import { fileSourceRuntime } from "./file-source.run";

// Every workspace has its own folder in the files directory: what one workspace's File sink writes, another's File
// source cannot read — not with `**/*`, not with `../<other>/…`, not through a link planted in its own folder.

const A = "wsAlpha0001";
const B = "wsBravo0002";
const schema: RecordSchema = { fields: [field("id", t.int), field("secret", t.string)], open: false };
const never = new AbortController().signal;
let root: string;

beforeAll(async () => {
  root = await mkdtemp(path.join(tmpdir(), "sluice-files-ws-"));
  // Workspace A's run writes its data.
  const sink = await openSink(A, { path: "out", format: "csv" });
  await sink.write(
    [
      { id: 1, secret: "alpha-only" },
      { id: 2, secret: "alpha-only" },
    ],
    { batchId: "run:0:0:1", sequence: 1 },
  );
  await sink.close();
  // Workspace B has a file of its own.
  await mkdir(path.join(root, B), { recursive: true });
  await writeFile(path.join(root, B, "mine.csv"), "id,secret\n7,bravo\n");
});
afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

function files(workspaceId: string | undefined): FilesService {
  return workspaceId === undefined ? { root } : { root, workspaceId };
}

async function openSink(workspaceId: string | undefined, config: Record<string, unknown>): Promise<SinkWriter> {
  const ctx = testContext(fileSinkDef, config, { inputs: { in: schema } });
  ctx.services.files = files(workspaceId);
  return fileSinkRuntime.open(ctx as never);
}

async function read(workspaceId: string | undefined, config: Record<string, unknown>): Promise<DataRecord[]> {
  const ctx = testContext(fileSourceDef, config);
  ctx.services.files = files(workspaceId);
  const reader: SourceReader = await fileSourceRuntime.open(ctx as never, null);
  const records: DataRecord[] = [];
  for (;;) {
    const batch = await reader.read(100, never);
    records.push(...batch.records);
    if (batch.end) break;
  }
  await reader.close();
  return records;
}

describe("files per workspace", () => {
  it("writes a workspace's files into its own folder", async () => {
    const written = await readdir(path.join(root, A, "out"));
    expect(written.filter((f) => f.endsWith(".csv"))).toHaveLength(1);
    await expect(stat(path.join(root, "out"))).rejects.toThrow(/ENOENT/);
  });

  it("reads only the workspace's own files with **/*", async () => {
    expect(await read(B, { path: "**/*", fileField: "file" })).toEqual([
      { id: "7", secret: "bravo", file: "mine.csv" },
    ]);
    const own = await read(A, { path: "**/*.csv" });
    expect(own.map((r) => r.secret)).toEqual(["alpha-only", "alpha-only"]);
  });

  it("creates a new workspace's folder on first use, with nothing in it", async () => {
    await expect(read("wsNew0003", { path: "**/*" })).rejects.toThrow(/no file in the files directory .* matches/);
    expect((await stat(path.join(root, "wsNew0003"))).isDirectory()).toBe(true);
  });

  it("refuses a path into another workspace's folder", async () => {
    await expect(read(B, { path: `../${A}/out/*.csv` })).rejects.toThrow(/outside the files directory/);
    await expect(read(B, { path: `${root}/${A}/out/*.csv` })).rejects.toThrow(/outside the files directory/);
    const [name] = await readdir(path.join(root, A, "out"));
    await expect(read(B, { path: `../${A}/out/${name}` })).rejects.toThrow(/outside the files directory/);
    await expect(openSink(B, { path: `../${A}/out`, format: "csv" })).rejects.toThrow(/outside the files directory/);
  });

  it("refuses links planted in the workspace's folder that lead to another workspace", async () => {
    const linkRoot = path.join(root, "wsLinks0004");
    await mkdir(linkRoot, { recursive: true });
    const [name] = await readdir(path.join(root, A, "out"));
    await symlink(path.join(root, A, "out"), path.join(linkRoot, "peek"));
    await expect(read("wsLinks0004", { path: "peek/*.csv" })).rejects.toThrow(/leads outside the files directory/);
    await expect(read("wsLinks0004", { path: "**/*" })).rejects.toThrow(/leads outside the files directory/);
    await expect(read("wsLinks0004", { path: `peek/${name}` })).rejects.toThrow(/leads outside the files directory/);
    await expect(openSink("wsLinks0004", { path: "peek", format: "csv" })).rejects.toThrow(
      /leads outside the files directory/,
    );
    // A new folder under the link is refused before it is made on the other side.
    await expect(openSink("wsLinks0004", { path: "peek/new/deeper", format: "csv" })).rejects.toThrow(
      /"peek" is a link that leads outside the files directory/,
    );
    await expect(stat(path.join(root, A, "out", "new"))).rejects.toThrow(/ENOENT/);
    await rm(path.join(linkRoot, "peek"));
    await symlink(path.join(root, A, "out", name!), path.join(linkRoot, "copy.csv"));
    await expect(read("wsLinks0004", { path: "*.csv" })).rejects.toThrow(/leads outside the files directory/);
    await rm(linkRoot, { recursive: true });
  });

  it("never takes a workspace id that is not one plain name", async () => {
    await expect(read("..", { path: "**/*" })).rejects.toThrow(/no valid workspace/);
    await expect(read(`${A}/..`, { path: "**/*" })).rejects.toThrow(/no valid workspace/);
  });

  it("gives a run without a workspace (sluice run) the files directory itself", async () => {
    const all = await read(undefined, { path: "**/*.csv" });
    expect(all.map((r) => r.secret).sort()).toEqual(["alpha-only", "alpha-only", "bravo"]);
  });
});

describe("files per workspace through the engine", () => {
  let harness: FleetHarness | undefined;
  afterEach(async () => {
    await harness?.close();
    harness = undefined;
  });

  function pipeline(nodes: Record<string, unknown>[]) {
    return {
      apiVersion: "sluice/v1",
      kind: "Pipeline",
      metadata: { name: "workspace-files" },
      spec: {
        settings: { parallelism: 1, batchSize: 100, delivery: "exactly-once" },
        nodes,
        edges: [{ from: nodes[0]!.id as string, to: nodes[1]!.id as string }],
      },
    };
  }

  it("takes the workspace from the run's start job, not from the pipeline", async () => {
    harness = new FleetHarness();
    const worker = new FleetWorker({
      connect: () => harness!.connect("worker-files"),
      prefix: harness.prefix,
      catalog,
      runtimes,
      workerId: "files-ws",
      leaseMs: 2000,
      filesDir: root,
    });
    const started = worker.start();
    const start = async (runId: string, workspaceId: string, definition: unknown) => {
      const job: RunStartJob = { v: 1, action: "start", runId, workspaceId, definition, parameters: {} };
      await harness!.control.add("start", job, { jobId: `start-${runId}` });
    };
    await started;
    try {
      await start(
        "ws-write",
        "wsEngine0005",
        pipeline([
          { id: "gen", type: "source.generator", config: { count: 5, rate: 0, fields: { n: { kind: "sequence" } } } },
          { id: "out", type: "sink.file", config: { path: "exported", format: "jsonl" } },
        ]),
      );
      const done = await harness.waitForStatus("ws-write", "completed");
      expect(done.nodes.out?.in).toBe(5);
      // The part file is written into the workspace's folder (renamed into place as the sink closes).
      const written = await waitFor(async () => {
        const names = await readdir(path.join(root, "wsEngine0005", "exported"));
        return names.some((f) => f.endsWith(".jsonl")) ? names : undefined;
      }, 10_000);
      expect(written.filter((f) => f.endsWith(".jsonl"))).toHaveLength(1);
      await expect(stat(path.join(root, "exported"))).rejects.toThrow(/ENOENT/);

      // Another workspace's run, however it names the path, finds none of it.
      await start(
        "ws-read",
        "wsEngine0006",
        pipeline([
          { id: "in", type: "source.file", config: { path: "../wsEngine0005/exported/*.jsonl" } },
          { id: "show", type: "sink.console", config: {} },
        ]),
      );
      const refused = await harness.waitForStatus("ws-read", "failed");
      expect(refused.error).toMatch(/outside the files directory/);
    } finally {
      await worker.close();
    }
  });

  it("previews only the asking workspace's files", async () => {
    harness = new FleetHarness();
    const worker = new FleetWorker({
      connect: () => harness!.connect("worker-preview"),
      prefix: harness.prefix,
      catalog,
      runtimes,
      workerId: "files-preview",
      filesDir: root,
    });
    await worker.start();
    const queue = new Queue(QUEUE_PREVIEW, { connection: harness.connect("preview"), prefix: harness.keys.bullPrefix });
    const preview = async (workspaceId: string, sourcePath: string): Promise<string> => {
      const job: PreviewJob = {
        v: 1,
        definition: pipeline([
          { id: "in", type: "source.file", config: { path: sourcePath } },
          { id: "show", type: "sink.console", config: {} },
        ]),
        parameters: {},
        limit: 10,
        timeoutMs: 5000,
        workspaceId,
      };
      const added = await queue.add("preview", job);
      const answer = await waitFor(async () => {
        const completed = (await queue.getJobState(added.id!)) === "completed";
        return completed ? (await Job.fromId(queue, added.id!))?.returnvalue : undefined;
      }, 20_000);
      return JSON.stringify(answer);
    };
    try {
      const own = await preview(B, "**/*");
      expect(own).toContain("bravo");
      expect(own).not.toContain("alpha-only");
      const across = await preview(B, `../${A}/out/*.csv`);
      expect(across).toMatch(/outside the files directory/);
      expect(across).not.toContain("alpha-only");
    } finally {
      await queue.close();
      await worker.close();
    }
  });
});
