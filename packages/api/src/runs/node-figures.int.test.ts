import { bucketUpperMs, figureField } from "@sluice/pipeline/control/node-figures";
import { emptyDefinition } from "@sluice/pipeline/definition";
import { type ApiHarness, createApiHarness } from "@sluice/test-kit/api-harness";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

// runs.figures: once a second the last complete second's node figures, merged over partitions, with the run's
// committed totals, ending after the run has. The figures are written here as workers publish them.

let h: ApiHarness;
beforeAll(async () => {
  h = await createApiHarness("figures");
});
afterAll(async () => {
  await h?.close();
});

describe("runs.figures", () => {
  it("yields each second's rates, latency and backlog with the totals, and ends with the run", async () => {
    const def = emptyDefinition("figures");
    def.spec.nodes.push(
      { id: "gen", type: "source.generator", config: { rate: 10 } },
      { id: "out", type: "sink.console", config: {} },
    );
    def.spec.edges.push({ from: "gen", to: "out" });
    const { cookie } = await h.signUp("Watcher");
    const { api } = await h.caller(cookie);
    const { id } = await api.pipelines.create({ name: "figures", definition: def });
    const { id: runId } = await api.runs.start({ pipelineId: id });
    const keys = h.deps.keys;
    await h.redis.hset(keys.runMeta(runId), {
      status: "running",
      desired: "running",
      stages: JSON.stringify([{ index: 0, partitions: 2 }]),
    });
    await h.redis.hset(keys.taskState({ runId, stage: 0, partition: 0 }), { "n:gen:out": "70", "n:out:in": "70" });
    await h.redis.hset(keys.taskState({ runId, stage: 0, partition: 1 }), { "n:gen:out": "30", "n:out:in": "30" });
    // The same figures in every second around now, whichever one the subscription reads: two partitions' worth.
    const edge = "gen.out->out.in";
    const now = Math.floor(Date.now() / 1000);
    for (let sec = now - 3; sec <= now + 3; sec++) {
      await h.redis.hset(keys.runFigures(runId, sec), {
        [figureField.count("out", "in")]: "12",
        [figureField.latency("out", 40)]: "9",
        [figureField.latency("out", 60)]: "1",
        [figureField.watermark("out", 0)]: String((sec - 5) * 1000),
        [figureField.watermark("out", 1)]: String((sec - 2) * 1000),
        [figureField.edgeSent(edge)]: "12",
        [figureField.edgeBacklog(edge, 0)]: "3",
        [figureField.edgeBacklog(edge, 1)]: "4",
        [figureField.edgeBackpressured(edge, 1)]: "1",
      });
      await h.redis.pexpire(keys.runFigures(runId, sec), 60_000);
    }

    const stream = await api.runs.figures({ runId });
    const seen: number[] = [];
    for await (const event of stream) {
      // A server-side caller gets tracked() events as they are made: [id, data, marker].
      const [, view] = event as unknown as [string, typeof event.data];
      if (seen.length === 0) {
        expect(view.nodes.out).toMatchObject({
          inPerSec: 12,
          totalIn: 100,
          p50Ms: bucketUpperMs(40),
          p99Ms: bucketUpperMs(60),
          watermark: (view.sec - 5) * 1000,
          watermarkLagMs: 6000,
        });
        expect(view.nodes.gen).toMatchObject({ inPerSec: 0, totalOut: 100, p50Ms: null });
        expect(view.edges[edge]).toEqual({ perSec: 12, backlog: 7, backpressured: true });
        // The run ends: the next figures are its last.
        await h.redis.hset(keys.runMeta(runId), "status", "completed");
      }
      seen.push(view.sec);
      // A second the live loop skipped (its first read can land just before a second's read time) is sent too.
      expect(seen.length).toBeLessThanOrEqual(3);
    }
    expect(seen.length).toBeGreaterThanOrEqual(2);
    expect(seen).toEqual(seen.map((_, i) => seen[0]! + i));
  });

  it("ends at once for a run that has ended and whose live state expired", async () => {
    const def = emptyDefinition("expired-figures");
    def.spec.nodes.push(
      { id: "gen", type: "source.generator", config: { rate: 10 } },
      { id: "out", type: "sink.console", config: {} },
    );
    def.spec.edges.push({ from: "gen", to: "out" });
    const { cookie } = await h.signUp("Lookback");
    const { api } = await h.caller(cookie);
    const { id } = await api.pipelines.create({ name: "expired-figures", definition: def });
    const { id: runId } = await api.runs.start({ pipelineId: id });
    // The run ended long ago: PostgreSQL says so, and Redis holds nothing of it any more.
    await h.deps.db.run.update({ where: { id: runId }, data: { status: "COMPLETED", finishedAt: new Date() } });
    await h.redis.del(h.deps.keys.runMeta(runId));
    const started = Date.now();
    const seen: unknown[] = [];
    for await (const event of await api.runs.figures({ runId })) seen.push(event);
    expect(seen).toEqual([]);
    expect(Date.now() - started).toBeLessThan(5_000);
  });
});
