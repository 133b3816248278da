import { catalog } from "@sluice/nodes/catalog";
import { runtimes } from "@sluice/nodes/runtimes";
import { readRunEvents } from "@sluice/pipeline/control/run-events";
import { emptyDefinition } from "@sluice/pipeline/definition";
import { type ApiHarness, createApiHarness, rejects } from "@sluice/test-kit/api-harness";
import { FleetHarness, waitFor } from "@sluice/test-kit/fleet-harness";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { reconcileRuns } from "./run-reconciler";

// The timeline through the API with a real worker: what the user did and what the run did, in order; the
// reconciler's copy in PostgreSQL equals the Redis stream, and the timeline stays readable once Redis lets it go.

let fleet: FleetHarness;
let h: ApiHarness;
/** The first test's run, for the second to look at from another workspace. */
let watchedRunId = "";

beforeAll(async () => {
  fleet = new FleetHarness();
  h = await createApiHarness("run-timeline", { prefix: fleet.prefix, secretKey: fleet.secretKey });
  await fleet.startInProcess("timeline-api-w1", catalog, runtimes);
});
afterAll(async () => {
  await fleet?.close();
  await h?.close();
});

describe("runs.timeline and runs.logs", () => {
  it("lists pause, resume, stop and restart in order, and keeps the timeline in PostgreSQL", async () => {
    const def = emptyDefinition("timeline-api");
    def.spec.settings.parallelism = 2;
    def.spec.nodes.push(
      { id: "gen", type: "source.generator", config: { count: 3000, rate: 1500 } },
      { id: "out", type: "sink.console", config: {} },
    );
    def.spec.edges.push({ from: "gen", to: "out" });
    const { cookie } = await h.signUp("Watcher");
    const { api } = await h.caller(cookie);
    const { id: pipelineId } = await api.pipelines.create({ name: "Timeline", definition: def });
    const { id: runId } = await api.runs.start({ pipelineId });
    watchedRunId = runId;
    const status = async () => (await fleet.snapshot(runId))?.status;
    await waitFor(
      async () => (await status()) === "running",
      15_000,
      () => "for the run to start",
    );

    await api.runs.pause({ runId });
    await api.runs.resume({ runId });
    await api.runs.stop({ runId });
    await waitFor(
      async () => (await status()) === "stopped",
      15_000,
      () => "for the run to stop",
    );
    await reconcileRuns({ db: h.db, redis: h.redis, keys: h.deps.keys });
    await api.runs.restart({ runId });
    await waitFor(
      async () => (await status()) === "completed",
      30_000,
      () => "for the restarted run to complete",
    );

    const timeline = await api.runs.timeline({ runId });
    expect(timeline.map((e) => e.kind)).toEqual([
      "started",
      "paused",
      "resumed",
      "stop-requested",
      "stopped",
      "restarted",
      "completed",
    ]);

    // The end of the first attempt was copied already; the second end copies the rest, without doubling.
    expect(await h.db.runEvent.count({ where: { runId } })).toBe(5);
    await reconcileRuns({ db: h.db, redis: h.redis, keys: h.deps.keys });
    const stored = await h.db.runEvent.findMany({ where: { runId }, orderBy: { at: "asc" } });
    const live = await readRunEvents(h.redis, h.deps.keys, runId);
    expect(stored.map((r) => [r.streamId, r.kind, r.at.getTime()])).toEqual(live.map((e) => [e.id, e.kind, e.at]));
    expect(stored.find((r) => r.kind === "restarted")?.detail).toEqual({ generation: "2", reset: "0" });

    // The workers' lines about the run, newest first; a cursor that is no line id is refused, saying so.
    const logs = await waitFor(
      async () => {
        const page = await api.runs.logs({ runId, level: "info", limit: 50 });
        return page.lines.some((l) => l.message === "task finished") ? page : undefined;
      },
      5000,
      () => "for the run's log lines",
    );
    expect(logs.lines.every((l) => String(l.fields.task).startsWith(`${runId}-`))).toBe(true);
    const bad = await rejects(api.runs.logs({ runId, after: "yesterday", limit: 10 }));
    expect(bad.code).toBe("BAD_REQUEST");
    expect(bad.message).toBe('after: "yesterday" is not a log line id as listed, e.g. 1700000000000-0');

    // Redis let the run go: the timeline reads the same from PostgreSQL.
    await h.redis.del(h.deps.keys.runEvents(runId));
    expect(await api.runs.timeline({ runId })).toEqual(timeline);
  });

  it("shows another workspace's run to nobody outside it", async () => {
    const { cookie } = await h.signUp("Outsider");
    const { api } = await h.caller(cookie);
    expect(watchedRunId).not.toBe("");
    for (const call of [
      api.runs.timeline({ runId: watchedRunId }),
      api.runs.logs({ runId: watchedRunId, limit: 10 }),
    ]) {
      const err = await rejects(call);
      expect(err.code).toBe("NOT_FOUND");
      expect(err.message).toBe("no such run in this workspace");
    }
  });
});
