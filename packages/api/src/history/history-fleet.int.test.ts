import { catalog } from "@sluice/nodes/catalog";
import { runtimes } from "@sluice/nodes/runtimes";
import { percentile, readNodeFigures } from "@sluice/pipeline/control/node-figures";
import { readRunSnapshot } from "@sluice/pipeline/control/run-reader";
import { emptyDefinition } from "@sluice/pipeline/definition";
import { type ApiHarness, createApiHarness } from "@sluice/test-kit/api-harness";
import { FleetHarness, waitFor } from "@sluice/test-kit/fleet-harness";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { reconcileRuns } from "../runs/run-reconciler";
import { DEFAULT_HISTORY_RETENTION_MS } from "./history-retention";
import { rollUpHistory } from "./history-rollup";
import { readBuckets } from "./history-store";

// The roll-up of a real run's figures, as a worker publishes them: the history of a finished run adds up to the
// totals the run committed, at every resolution.

let fleet: FleetHarness;
let h: ApiHarness;

beforeAll(async () => {
  fleet = new FleetHarness();
  h = await createApiHarness("history-fleet", { prefix: fleet.prefix, secretKey: fleet.secretKey });
});
afterAll(async () => {
  await fleet?.close();
  await h?.close();
});

describe("history of a real run", () => {
  it("adds up to the run's committed totals in 10 s, 1 min and 1 h buckets", async () => {
    const def = emptyDefinition("history-real");
    def.spec.settings.parallelism = 2;
    def.spec.nodes.push(
      { id: "gen", type: "source.generator", config: { count: 3000, rate: 1000 } },
      { id: "out", type: "sink.console", config: {} },
    );
    def.spec.edges.push({ from: "gen", to: "out" });
    await fleet.startInProcess("history-w1", catalog, runtimes);
    const { cookie } = await h.signUp("Keeper");
    const { api } = await h.caller(cookie);
    const { id: pipelineId } = await api.pipelines.create({ name: "History real", definition: def });
    const startSec = Math.floor(Date.now() / 1000);
    const { id: runId } = await api.runs.start({ pipelineId });

    const done = await waitFor(
      async () => {
        const s = await readRunSnapshot(h.redis, h.deps.keys, runId);
        return s?.status === "completed" ? s : undefined;
      },
      60_000,
      () => "for the run to complete",
    );
    expect(done.nodes.gen?.out).toBe(3000);
    // The last second's figures go out with the publisher's next write.
    await waitFor(
      async () => {
        const f = await readNodeFigures(h.redis, h.deps.keys, runId, startSec - 1, Math.floor(Date.now() / 1000));
        return f.nodes.out?.in === done.nodes.out?.in;
      },
      5000,
      () => "for the figures to add up to the run's totals",
    );
    // The web process's reconciler copies the run's times into Postgres; the roll-up goes by them.
    await reconcileRuns({ db: h.db, redis: h.redis, keys: h.deps.keys });

    // Twenty seconds on: every bucket the run's seconds fall in is complete.
    const deps = { db: h.db, redis: h.redis, keys: h.deps.keys, retention: DEFAULT_HISTORY_RETENTION_MS };
    await rollUpHistory({ ...deps, now: () => Date.now() + 20_000 });
    await rollUpHistory({ ...deps, now: () => Date.now() + 25_000 });

    for (const resolution of [10, 60, 3600] as const) {
      const buckets = await readBuckets(h.db, [runId], resolution, startSec - 3600, startSec + 3600);
      const total = (node: string, field: "recordsIn" | "recordsOut") =>
        buckets.reduce((sum, b) => sum + (b.nodes.get(node)?.[field] ?? 0), 0);
      expect({ resolution, genOut: total("gen", "recordsOut"), outIn: total("out", "recordsIn") }).toEqual({
        resolution,
        genOut: done.nodes.gen?.out,
        outIn: done.nodes.out?.in,
      });
    }
    // The sink's batches had latencies, kept through the roll-up.
    const [hour] = await readBuckets(h.db, [runId], 3600, startSec - 3600, startSec + 3600);
    expect(percentile(hour!.nodes.get("out")!.latency, 0.5)).toBeGreaterThan(0);
  });
});
