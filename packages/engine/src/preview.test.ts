import { catalog } from "@sluice/nodes/catalog";
import { DestinationPolicy } from "@sluice/nodes/destination-policy";
import { createRuntimeRegistry, type SourceRuntime } from "@sluice/nodes/runtime-contract";
import { runtimes } from "@sluice/nodes/runtimes";
import { createCatalog, defineNode } from "@sluice/pipeline/node-definition";
import { describe, expect, it } from "vitest";
import { z } from "zod";
import { previewPipeline } from "./preview";

const START = Date.UTC(2026, 0, 1);
const destinations = DestinationPolicy.fromSettings(undefined);

/** A source node type of its own for one test: an open schema, replayable or not. */
function testSourceDef(type: string, replayable: boolean) {
  return defineNode({
    type,
    version: 1,
    kind: "source",
    title: type,
    category: "Test",
    icon: "x",
    summary: "",
    docs: "",
    inputs: [],
    outputs: [{ name: "out" }],
    config: z.strictObject({}),
    examples: [],
    delivery: { replayable },
    infer: () => ({ outputs: { out: { fields: [], open: true } } }),
    summarize: () => "",
  });
}

function draft(nodes: unknown[], edges: unknown[]) {
  return {
    apiVersion: "sluice/v1",
    kind: "Pipeline",
    metadata: { name: "draft" },
    spec: { settings: { parallelism: 4 }, nodes, edges },
  };
}

const generator = { id: "gen", type: "source.generator", config: { count: 100_000, rate: 1, startTime: START } };
const keep = { id: "keep", type: "transform.filter", config: { where: "status = 200" } };
const perSecond = {
  id: "win",
  type: "transform.window",
  config: { key: ["country"], window: { tumble: "1s" }, aggregates: { n: "count(*)" } },
};
const sink = { id: "out", type: "sink.console", config: {} };

describe("data preview", () => {
  it("keeps records in its answer only up to a byte budget, still counting every one", async () => {
    const result = await previewPipeline({
      definition: draft(
        [{ ...generator, config: { ...generator.config, count: 50 } }, sink],
        [{ from: "gen", to: "out" }],
      ),
      parameters: {},
      catalog,
      runtimes,
      connections: {},
      destinations,
      limit: 50,
      timeoutMs: 5000,
      maxResultBytes: 4000,
    });
    expect(result.problems).toEqual([]);
    const kept = (result.nodes.gen?.outputs.out?.length ?? 0) + (result.nodes.out?.inputs.in?.length ?? 0);
    expect(kept).toBeGreaterThan(0);
    expect(kept).toBeLessThan(100);
    expect(JSON.stringify(result.nodes).length).toBeLessThan(4000 + 2000);
    expect(result.nodes.gen?.counts.out).toBe(50);
    expect(result.nodes.out?.counts.in).toBe(50);
    // The source had no more records: only the budget cut the sample short.
    expect(result.truncated).toBe(true);
  });

  it("runs the draft on a sample, capturing every node's input and output, without pacing or sink writes", async () => {
    const result = await previewPipeline({
      definition: draft(
        [generator, keep, perSecond, sink],
        [
          { from: "gen", to: "keep" },
          { from: "keep", to: "win" },
          { from: "win", to: "out" },
        ],
      ),
      parameters: {},
      catalog,
      runtimes,
      connections: {},
      destinations,
      limit: 40,
      timeoutMs: 5000,
    });
    expect(result.problems).toEqual([]);
    expect(result.truncated).toBe(true); // 100k records, 40 taken
    expect(result.elapsedMs).toBeLessThan(5000); // rate 1/s would take 40 s if the preview paced itself
    const { gen, keep: filter, win, out } = result.nodes;
    expect(gen?.outputs.out).toHaveLength(40);
    expect(filter?.counts.in).toBe(40);
    expect(filter?.inputs.in).toEqual(gen?.outputs.out);
    expect(filter?.outputs.out?.every((r) => r.status === 200)).toBe(true);
    // Windows are flushed at the end of the sample: every passing record is counted once.
    const counted = (win?.outputs.out ?? []).reduce((n, r) => n + (r.n as number), 0);
    expect(counted).toBe(filter?.counts.out);
    expect(out?.inputs.in).toEqual(win?.outputs.out);
  });

  it("reports the record errors of each node", async () => {
    const result = await previewPipeline({
      definition: draft(
        [
          { ...generator, config: { count: 30, rate: 0, startTime: START } },
          { id: "keep", type: "transform.filter", config: { where: "100 / (status - 200) > 0" } },
          sink,
        ],
        [
          { from: "gen", to: "keep" },
          { from: "keep", to: "out" },
        ],
      ),
      parameters: {},
      catalog,
      runtimes,
      connections: {},
      destinations,
      limit: 50,
      timeoutMs: 5000,
    });
    expect(result.truncated).toBe(false);
    const errors = result.nodes.keep?.errors ?? [];
    expect(errors.length).toBeGreaterThan(0);
    expect(errors[0]).toMatchObject({
      port: "in",
      error: expect.stringContaining("Division by zero"),
      record: expect.objectContaining({ status: 200 }),
    });
  });

  it("says why it cannot preview an invalid draft", async () => {
    const result = await previewPipeline({
      definition: draft(
        [generator, { ...keep, config: { where: "statsu = 200" } }, sink],
        [
          { from: "gen", to: "keep" },
          { from: "keep", to: "out" },
        ],
      ),
      parameters: {},
      catalog,
      runtimes,
      connections: {},
      destinations,
      limit: 10,
      timeoutMs: 2000,
    });
    expect(result.nodes).toEqual({});
    expect(result.problems[0]).toContain('did you mean "status"');
  });

  it("cuts the connections' secrets out of what a failing source says", async () => {
    const chatty = testSourceDef("source.chatty", true);
    const chattyRuntime: SourceRuntime = {
      kind: "source",
      type: "source.chatty",
      async open() {
        throw new Error("login as reader with password s3cret-Pa55 refused");
      },
    };
    const result = await previewPipeline({
      definition: draft([{ id: "src", type: "source.chatty", config: {} }, sink], [{ from: "src", to: "out" }]),
      parameters: {},
      catalog: createCatalog([...catalog.list(), chatty]),
      runtimes: createRuntimeRegistry([chattyRuntime, runtimes.get("sink.console")!]),
      connections: { db: { type: "postgres", config: { password: "s3cret-Pa55" }, secrets: ["password"] } },
      destinations,
      limit: 10,
      timeoutMs: 2000,
    });
    expect(result.problems.join(" ")).toContain("login as reader with password [redacted] refused");
    expect(JSON.stringify(result)).not.toContain("s3cret-Pa55");
  });

  it("leaves out sources that cannot be read without effects", async () => {
    const consuming = testSourceDef("source.consuming", false);
    let opened = false;
    const consumingRuntime: SourceRuntime = {
      kind: "source",
      type: "source.consuming",
      async open() {
        opened = true;
        throw new Error("must not be opened in a preview");
      },
    };
    const result = await previewPipeline({
      definition: draft([{ id: "q", type: "source.consuming", config: {} }, sink], [{ from: "q", to: "out" }]),
      parameters: {},
      catalog: createCatalog([...catalog.list(), consuming]),
      runtimes: createRuntimeRegistry([consumingRuntime, runtimes.get("sink.console")!]),
      connections: {},
      destinations,
      limit: 10,
      timeoutMs: 2000,
    });
    expect(opened).toBe(false);
    expect(result.nodes.q?.note).toContain("cannot be read without consuming");
  });

  it("shows what a source could not read as that source's per-record errors", async () => {
    const lumpy = testSourceDef("source.lumpy", true);
    const lumpyRuntime: SourceRuntime = {
      kind: "source",
      type: "source.lumpy",
      async open() {
        let done = false;
        return {
          async read() {
            if (done) return { records: [], offset: 2, end: true };
            done = true;
            return {
              records: [{ n: 1 }, { n: 3 }],
              offset: 1,
              end: false,
              rejected: [{ record: { line: 2, text: "{n: 2" }, error: "line 2: invalid JSON" }],
            };
          },
          async close() {},
        };
      },
    };
    const result = await previewPipeline({
      definition: draft([{ id: "src", type: "source.lumpy", config: {} }, sink], [{ from: "src", to: "out" }]),
      parameters: {},
      catalog: createCatalog([...catalog.list(), lumpy]),
      runtimes: createRuntimeRegistry([lumpyRuntime, runtimes.get("sink.console")!]),
      connections: {},
      destinations,
      limit: 10,
      timeoutMs: 2000,
    });
    expect(result.problems).toEqual([]);
    expect(result.nodes.src?.outputs.out).toEqual([{ n: 1 }, { n: 3 }]);
    expect(result.nodes.src?.errors).toEqual([
      { port: null, error: "line 2: invalid JSON", record: { line: 2, text: "{n: 2" } },
    ]);
    expect(result.nodes.out?.inputs.in).toEqual([{ n: 1 }, { n: 3 }]);
  });
});
