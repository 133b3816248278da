import { emptyDefinition, type PipelineDefinition } from "@sluice/pipeline/definition";
import { type ApiHarness, createApiHarness } from "@sluice/test-kit/api-harness";
import type { Job } from "bullmq";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { reconcileRuns } from "../runs/run-reconciler";
import { fireSchedule, startPendingFires } from "./schedule-fire";
import { scheduleQueueFor } from "./schedule-queue";
import { processFireJob, type ScheduleRunner, startScheduleRunner } from "./schedule-worker";

let h: ApiHarness;
const runners: ScheduleRunner[] = [];
beforeAll(async () => {
  h = await createApiHarness("schedule-fire");
});
afterAll(async () => {
  await Promise.all(runners.map((r) => r.stop()));
  await h?.close();
});

function slice(where = "status = 200"): PipelineDefinition {
  const def = emptyDefinition("slice");
  def.spec.nodes.push(
    { id: "gen", type: "source.generator", config: { rate: 10 } },
    { id: "keep", type: "transform.filter", config: { where } },
    { id: "out", type: "sink.console", config: {} },
  );
  def.spec.edges.push({ from: "gen", to: "keep" }, { from: "keep", to: "out" });
  return def;
}

async function pipelineWith(def: PipelineDefinition = slice()) {
  const { cookie } = await h.signUp("Cron");
  const { api } = await h.caller(cookie);
  const { id } = await api.pipelines.create({ name: `p-${Math.random()}`, definition: def });
  return { api, pipelineId: id };
}

const deps = () => ({ ...h.deps, scheduleQueue: scheduleQueueFor(h.deps) });

async function runsOf(pipelineId: string) {
  return h.db.run.findMany({ where: { pipelineId }, orderBy: { createdAt: "asc" } });
}

/** Polls `check` until it returns something truthy; fails after `withinMs`. */
async function eventually<T>(what: string, check: () => Promise<T>, withinMs = 20_000): Promise<NonNullable<T>> {
  const deadline = Date.now() + withinMs;
  for (;;) {
    const value = await check();
    if (value) return value as NonNullable<T>;
    if (Date.now() > deadline) throw new Error(`gave up waiting: ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** Ends a run the way the fleet does: its Redis state says so, and the reconciler copies that into Postgres. */
async function finishRun(runId: string) {
  await h.redis.hset(h.deps.keys.runMeta(runId), {
    status: "completed",
    desired: "running",
    stages: JSON.stringify([]),
    startedAt: String(Date.now() - 1000),
    createdAt: String(Date.now() - 1000),
    finishedAt: String(Date.now()),
  });
  await reconcileRuns({ db: h.db, redis: h.redis, keys: h.deps.keys });
  expect((await h.db.run.findUniqueOrThrow({ where: { id: runId } })).status).toBe("COMPLETED");
}

describe("schedule fires", () => {
  it("fires on its pattern: every second, in two web processes, starting one run and skipping while it is active", async () => {
    const { api, pipelineId } = await pipelineWith();
    for (let i = 0; i < 2; i++) {
      const runner = startScheduleRunner({ ...deps(), redis: h.redis, keys: h.deps.keys }, { pendingEveryMs: 200 });
      runners.push(runner);
      await runner.ready;
    }
    try {
      const { schedule } = await api.schedules.create({ pipelineId, pattern: "* * * * * *" });

      const started = await eventually("a run started by the schedule", async () => (await runsOf(pipelineId))[0]);
      const me = await api.auth.me();
      // Started as the schedule's creator, in the schedule's workspace.
      expect(started).toMatchObject({ status: "QUEUED", startedById: me!.user.id, workspaceId: me!.workspaces[0]?.id });
      const job = await h.deps.controlQueue.getJob(`start-${started.id}`);
      expect(job?.data).toMatchObject({ v: 1, action: "start", runId: started.id, parameters: {} });

      // No fleet runs here, so the run stays queued: the fires after it are skipped and recorded as such.
      const skipped = await eventually("a fire skipped because the run is active", async () => {
        const row = await h.db.schedule.findUniqueOrThrow({ where: { id: schedule.id } });
        return row.lastOutcome === "SKIPPED" ? row : null;
      });
      expect(skipped.lastRunId).toBe(started.id);
      expect(skipped.lastMessage).toBe(`run ${started.id} is still queued`);
      expect(skipped.lastFiredAt).not.toBeNull();
      expect(await runsOf(pipelineId)).toHaveLength(1);

      await api.schedules.update({ id: schedule.id, enabled: false });
      await api.runs.stop({ runId: started.id });
    } finally {
      // The other tests call the pending-fire loop themselves.
      await Promise.all(runners.splice(0).map((r) => r.stop()));
    }
  });

  it("SKIP records the skip while a run is active, and starts again once it is not", async () => {
    const { api, pipelineId } = await pipelineWith();
    const { schedule } = await api.schedules.create({ pipelineId, pattern: "0 3 * * *" });
    const { id: manual } = await api.runs.start({ pipelineId });

    expect(await api.schedules.fireNow({ id: schedule.id })).toEqual({
      outcome: "SKIPPED",
      runId: null,
      message: `run ${manual} is still queued`,
    });
    expect(await api.schedules.get({ id: schedule.id })).toMatchObject({
      lastOutcome: "SKIPPED",
      lastMessage: `run ${manual} is still queued`,
      lastRunId: null,
      pendingSince: null,
    });
    expect(await startPendingFires(deps())).toBe(0);
    expect(await runsOf(pipelineId)).toHaveLength(1);

    await finishRun(manual);
    expect(await startPendingFires(deps())).toBe(0); // SKIP leaves nothing waiting
    const fired = await api.schedules.fireNow({ id: schedule.id });
    expect(fired.outcome).toBe("STARTED");
    expect((await runsOf(pipelineId)).map((r) => r.id)).toEqual([manual, fired.runId]);
    expect(await api.schedules.get({ id: schedule.id })).toMatchObject({
      lastOutcome: "STARTED",
      lastRunId: fired.runId,
    });
  });

  it("QUEUE starts the waiting fire once the active run is marked final, once, with at most one waiting", async () => {
    const { api, pipelineId } = await pipelineWith();
    const { schedule } = await api.schedules.create({ pipelineId, pattern: "0 3 * * *", overlap: "QUEUE" });
    const { id: manual } = await api.runs.start({ pipelineId });

    const queued = await api.schedules.fireNow({ id: schedule.id });
    expect(queued).toMatchObject({ outcome: "QUEUED", runId: null });
    expect(queued.message).toContain(`run ${manual} is still queued`);
    const waiting = await api.schedules.get({ id: schedule.id });
    expect(waiting.pendingSince).not.toBeNull();
    const again = await api.schedules.fireNow({ id: schedule.id });
    expect(again.outcome).toBe("SKIPPED");
    expect(again.message).toContain("an earlier fire already waits");
    expect((await api.schedules.get({ id: schedule.id })).pendingSince).toEqual(waiting.pendingSince);

    expect(await startPendingFires(deps())).toBe(0); // still active
    expect(await runsOf(pipelineId)).toHaveLength(1);

    await finishRun(manual);
    // Several web processes look at the same moment: the waiting fire starts exactly one run.
    const started = await Promise.all([
      startPendingFires(deps()),
      startPendingFires(deps()),
      startPendingFires(deps()),
    ]);
    expect(started.reduce((a, b) => a + b, 0)).toBe(1);
    const runs = await runsOf(pipelineId);
    expect(runs).toHaveLength(2);
    expect(runs[1]?.status).toBe("QUEUED");
    expect(await h.deps.controlQueue.getJob(`start-${runs[1]?.id}`)).toBeDefined();
    const after = await api.schedules.get({ id: schedule.id });
    expect(after).toMatchObject({ lastOutcome: "STARTED", lastRunId: runs[1]?.id, pendingSince: null });
    expect(after.lastMessage).toContain("which waited for the previous run");
    expect(await startPendingFires(deps())).toBe(0);

    // Disabling drops a waiting fire.
    await api.schedules.fireNow({ id: schedule.id });
    expect((await api.schedules.get({ id: schedule.id })).pendingSince).not.toBeNull();
    await api.schedules.update({ id: schedule.id, enabled: false });
    expect((await api.schedules.get({ id: schedule.id })).pendingSince).toBeNull();
  });

  it("starts no second run when BullMQ delivers the same fire job twice, or an older one late", async () => {
    const { api, pipelineId } = await pipelineWith();
    const { schedule } = await api.schedules.create({ pipelineId, pattern: "0 3 * * *", overlap: "QUEUE" });
    const queue = scheduleQueueFor(h.deps);
    const scheduler = await queue.getJobScheduler(schedule.id);
    const job = (await queue.getJob(`repeat:${schedule.id}:${scheduler?.next}`)) as Job;
    expect(job.opts.prevMillis).toBe(scheduler?.next);

    // Two processes handle the same job at once (a stalled job handed over while its first taker still works)...
    const results = await Promise.all([processFireJob(deps(), job), processFireJob(deps(), job)]);
    expect(results.map((r) => r.outcome).sort()).toEqual(["IGNORED", "STARTED"]);
    // ...and it comes round once more afterwards.
    expect((await processFireJob(deps(), job)).outcome).toBe("IGNORED");
    const runs = await runsOf(pipelineId);
    expect(runs).toHaveLength(1);
    // A re-delivery is not a fire that met an active run: nothing is queued behind it.
    expect(await api.schedules.get({ id: schedule.id })).toMatchObject({ pendingSince: null, lastRunId: runs[0]?.id });

    await finishRun(runs[0]!.id);
    const day = 24 * 60 * 60 * 1000;
    const older = { id: "older", data: job.data, opts: { prevMillis: job.opts.prevMillis! - day }, timestamp: 0 };
    expect((await processFireJob(deps(), older)).outcome).toBe("IGNORED");
    const newer = { id: "newer", data: job.data, opts: { prevMillis: job.opts.prevMillis! + day }, timestamp: 0 };
    expect((await processFireJob(deps(), newer)).outcome).toBe("STARTED");
    expect(await runsOf(pipelineId)).toHaveLength(2);
    // The job scheduler itself was left alone.
    expect(await queue.getJobScheduler(schedule.id)).toMatchObject({ pattern: "0 3 * * *" });
  });

  it("a fire for a disabled or deleted schedule starts nothing and removes its stale scheduler", async () => {
    const { api, pipelineId } = await pipelineWith();
    const queue = scheduleQueueFor(h.deps);
    const { schedule } = await api.schedules.create({ pipelineId, pattern: "0 3 * * *" });
    const job = (await queue.getJob(
      `repeat:${schedule.id}:${(await queue.getJobScheduler(schedule.id))?.next}`,
    )) as Job;
    // Disabled behind the mirror's back (say, the process died between the commit and the Redis call).
    await h.db.schedule.update({ where: { id: schedule.id }, data: { enabled: false } });
    expect(await processFireJob(deps(), job)).toMatchObject({
      outcome: "IGNORED",
      message: "the schedule is disabled",
    });
    expect(await queue.getJobScheduler(schedule.id)).toBeUndefined();

    await h.db.schedule.delete({ where: { id: schedule.id } });
    await queue.upsertJobScheduler(schedule.id, { pattern: "0 3 * * *" }, { name: "fire", data: job.data });
    expect(await processFireJob(deps(), job)).toMatchObject({ outcome: "IGNORED" });
    expect(await queue.getJobScheduler(schedule.id)).toBeUndefined();
    expect(await runsOf(pipelineId)).toHaveLength(0);
  });

  it("runs a pinned version with the schedule's parameters, and runs now even while disabled", async () => {
    const def = slice();
    def.spec.parameters.push({ name: "limit", type: "number", default: 5 });
    const { api, pipelineId } = await pipelineWith(def);
    await api.pipelines.saveVersion({ id: pipelineId, baseVersion: 1, definition: slice("status = 404") });
    const { schedule } = await api.schedules.create({
      pipelineId,
      pattern: "0 3 * * *",
      version: 1,
      parameters: { limit: 7 },
      enabled: false,
    });
    const fired = await api.schedules.fireNow({ id: schedule.id });
    expect(fired.outcome).toBe("STARTED");
    expect(await api.runs.get({ runId: fired.runId! })).toMatchObject({ version: 1 });
    const job = await h.deps.controlQueue.getJob(`start-${fired.runId}`);
    expect(job?.data.parameters).toEqual({ limit: 7 });
  });

  it("records a failure it cannot start through: an invalid version, a creator without edit rights", async () => {
    const { api, pipelineId } = await pipelineWith();
    const { schedule } = await api.schedules.create({ pipelineId, pattern: "0 3 * * *", overlap: "QUEUE" });
    await api.pipelines.saveVersion({ id: pipelineId, baseVersion: 1, definition: slice("statsu = 200") });
    const failed = await api.schedules.fireNow({ id: schedule.id });
    expect(failed.outcome).toBe("FAILED");
    expect(failed.message).toContain('Node keep: Unknown field "statsu"');
    expect(await api.schedules.get({ id: schedule.id })).toMatchObject({ lastOutcome: "FAILED", pendingSince: null });
    expect(await runsOf(pipelineId)).toHaveLength(0);

    await api.pipelines.saveVersion({ id: pipelineId, baseVersion: 2, definition: slice() });
    const me = await api.auth.me();
    await h.db.membership.updateMany({ where: { userId: me!.user.id }, data: { role: "VIEWER" } });
    const refused = await fireSchedule(deps(), schedule.id, { kind: "manual" });
    expect(refused.outcome).toBe("FAILED");
    expect(refused.message).toContain("can no longer edit this workspace");
    expect(await runsOf(pipelineId)).toHaveLength(0);
  });
});
