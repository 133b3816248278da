import { createRuntimeRegistry } from "@sluice/nodes/runtime-contract";
import { generatorDef } from "@sluice/nodes/sources/generator.def";
import { generatorRuntime } from "@sluice/nodes/sources/generator.run";
import { filterDef } from "@sluice/nodes/transforms/filter.def";
import { filterRuntime } from "@sluice/nodes/transforms/filter.run";
import { readNodeFigures } from "@sluice/pipeline/control/node-figures";
import { createCatalog } from "@sluice/pipeline/node-definition";
import { FleetHarness, waitFor } from "@sluice/test-kit/fleet-harness";
import { collectDef, collectRuntime, keyCountDef, keyCountRuntime } from "@sluice/test-kit/test-nodes";
import type { Cluster } from "ioredis";
import { afterEach, describe, expect, it } from "vitest";
import { PrivateCluster } from "../test/private-cluster";

// The fleet on a Redis Cluster: every script and multi-key command stays within one hash tag, so runs, queues,
// partitions and shuffles work with their keys spread over several masters.

const catalog = createCatalog([generatorDef, filterDef, keyCountDef, collectDef]);
const runtimes = createRuntimeRegistry([generatorRuntime, filterRuntime, keyCountRuntime, collectRuntime]);

let cluster: PrivateCluster | undefined;
let harness: FleetHarness | undefined;
afterEach(async () => {
  await harness?.close();
  await cluster?.stop();
});

describe("Redis Cluster", () => {
  it("runs a keyed multi-stage pipeline with two workers, keys spread over three masters", async () => {
    cluster = await PrivateCluster.start();
    const fromSec = Math.floor(Date.now() / 1000);
    harness = new FleetHarness(cluster.seedUrl, { cluster: true });
    await harness.startInProcess("c1", catalog, runtimes);
    await harness.startInProcess("c2", catalog, runtimes);
    await harness.startRun("clustered", {
      apiVersion: "sluice/v1",
      kind: "Pipeline",
      metadata: { name: "clustered" },
      spec: {
        settings: { parallelism: 4, batchSize: 500 },
        nodes: [
          { id: "gen", type: "source.generator", config: { count: 20_000, rate: 0, seed: 3 } },
          { id: "count", type: "transform.key-count", config: { key: "user_id" } },
          { id: "out", type: "sink.collect", config: { by: "user_id" } },
        ],
        edges: [
          { from: "gen", to: "count" },
          { from: "count", to: "out" },
        ],
      },
    });
    const done = await harness.waitForStatus("clustered", "completed", 60_000);
    expect(done.nodes.gen?.out).toBe(20_000);
    // Node figures are published per run in the run's hash tag: both workers' add up to the totals.
    const toSec = Math.floor(Date.now() / 1000) + 1;
    await waitFor(
      async () => {
        const f = await readNodeFigures(harness!.redis, harness!.keys, "clustered", fromSec, toSec);
        return f.nodes.gen?.out === 20_000 && f.nodes.out?.in === done.nodes.out?.in ? f : undefined;
      },
      5000,
      () => "for the node figures to add up to the run's totals",
    );
    expect(done.nodes.count?.in).toBe(20_000);
    const rows = await harness.store("clustered", 1, 4, "out", "rows");
    expect(Object.values(rows).reduce((a: number, r) => a + (r as { count: number }).count, 0)).toBe(20_000);
    // The run's keys really are spread: every master holds some of them.
    const perNode = await Promise.all(
      (harness.redis as unknown as Cluster)
        .nodes("master")
        .map((n) => n.scan("0", "MATCH", `${harness!.prefix}:*`, "COUNT", 10_000)),
    );
    for (const [, keys] of perNode) expect(keys.length).toBeGreaterThan(0);
  });
});
