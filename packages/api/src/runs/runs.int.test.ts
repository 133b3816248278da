import { emptyDefinition, type PipelineDefinition } from "@sluice/pipeline/definition";
import { validate } from "@sluice/pipeline/validate";
import { type ApiHarness, createApiHarness, rejects } from "@sluice/test-kit/api-harness";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { reconcileRuns } from "./run-reconciler";

let h: ApiHarness;
beforeAll(async () => {
  h = await createApiHarness("runs");
});
afterAll(async () => {
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

async function pipelineWith(def: PipelineDefinition) {
  const { cookie } = await h.signUp("Runner");
  const { api } = await h.caller(cookie);
  const { id } = await api.pipelines.create({ name: `p-${Math.random()}`, definition: def });
  return { api, id };
}

describe("runs", () => {
  it("refuses to start an invalid pipeline, saying what is wrong, and records no run", async () => {
    const { api, id } = await pipelineWith(slice("statsu = 200"));
    const err = await rejects(api.runs.start({ pipelineId: id }));
    expect(err.code).toBe("BAD_REQUEST");
    expect(err.message).toBe(
      'Version 1 has 1 problem to fix before it can start. Node keep: Unknown field "statsu" (line 1, column 1). Did you mean “status”?',
    );
    expect(await h.db.run.count({ where: { pipelineId: id } })).toBe(0);
  });

  it("records a queued run and hands a start job to the fleet", async () => {
    const { api, id } = await pipelineWith(slice());
    const { id: runId } = await api.runs.start({ pipelineId: id });
    const run = await api.runs.get({ runId });
    expect(run).toMatchObject({ status: "QUEUED", version: 1, pipelineId: id });
    const job = await h.deps.controlQueue.getJob(`start-${runId}`);
    expect(job?.data).toMatchObject({ v: 1, action: "start", runId, parameters: {} });
    expect(job?.data.definition.spec.nodes).toHaveLength(3);
    // The run's workspace, for its files folder: written here, never taken from the definition.
    const { workspaceId } = await h.db.run.findUniqueOrThrow({ where: { id: runId } });
    expect(job?.data.workspaceId).toBe(workspaceId);
    expect((await rejects(api.runs.start({ pipelineId: id }))).code).toBe("CONFLICT");
  });

  it("stops a run no worker has started yet at once", async () => {
    const { api, id } = await pipelineWith(slice());
    const { id: runId } = await api.runs.start({ pipelineId: id });
    expect(await api.runs.stop({ runId })).toEqual({ status: "STOPPED" });
    expect((await api.runs.get({ runId })).status).toBe("STOPPED");
    expect(await h.redis.hget(h.deps.keys.runMeta(runId), "status")).toBe("stopped");
  });

  it("copies status, times and counters from Redis into the run history", async () => {
    const { api, id } = await pipelineWith(slice());
    const { id: runId } = await api.runs.start({ pipelineId: id });
    const keys = h.deps.keys;
    const startedAt = Date.now() - 5000;
    await h.redis.hset(keys.runMeta(runId), {
      status: "running",
      desired: "running",
      stages: JSON.stringify([{ index: 0, partitions: 2 }]),
      delivery: "at-least-once",
      startedAt: String(startedAt),
      createdAt: String(startedAt),
    });
    await h.redis.hset(keys.taskState({ runId, stage: 0, partition: 0 }), {
      "n:gen:out": "10",
      "n:keep:in": "10",
      "n:keep:out": "4",
    });
    await h.redis.hset(keys.taskState({ runId, stage: 0, partition: 1 }), {
      "n:gen:out": "5",
      "n:keep:in": "5",
      "n:keep:out": "1",
      "n:keep:err": "1",
    });
    expect(await reconcileRuns({ db: h.db, redis: h.redis, keys })).toBeGreaterThanOrEqual(1);
    let run = await api.runs.get({ runId });
    expect(run.status).toBe("RUNNING");
    expect(run.startedAt?.getTime()).toBe(startedAt);
    expect(run.counters).toEqual({ gen: { in: 0, out: 15, errors: 0 }, keep: { in: 15, out: 5, errors: 1 } });

    await h.redis.hset(keys.runMeta(runId), { status: "completed", finishedAt: String(startedAt + 4000) });
    await reconcileRuns({ db: h.db, redis: h.redis, keys });
    run = await api.runs.get({ runId });
    expect(run.status).toBe("COMPLETED");
    expect(run.finishedAt?.getTime()).toBe(startedAt + 4000);
    expect(run.delivery).toBe("at-least-once");
    // Its retention has begun (a worker that died before starting it is covered): the meta first, then the rest.
    const metaTtl = await h.redis.pttl(keys.runMeta(runId));
    expect(metaTtl).toBeGreaterThan(6 * 86_400_000);
    expect(await h.redis.pttl(keys.taskState({ runId, stage: 0, partition: 1 }))).toBeGreaterThan(metaTtl);
    // Final is final: later Redis changes no longer touch it.
    await h.redis.hset(keys.runMeta(runId), { status: "failed" });
    await reconcileRuns({ db: h.db, redis: h.redis, keys });
    expect((await api.runs.get({ runId })).status).toBe("COMPLETED");
  });

  it("streams the error and attempt of each retrying partition with the live figures", async () => {
    const { api, id } = await pipelineWith(slice());
    const { id: runId } = await api.runs.start({ pipelineId: id });
    const keys = h.deps.keys;
    await h.redis.hset(keys.runMeta(runId), {
      status: "running",
      desired: "running",
      stages: JSON.stringify([{ index: 0, partitions: 2 }]),
    });
    const retry = {
      stage: 0,
      partition: 1,
      error: 'node gen: connection "db": nothing accepts connections at 10.0.0.9:5432',
      attempt: 7,
      nextAt: Date.now() + 16_000,
      at: Date.now(),
    };
    await h.redis.hset(keys.taskState({ runId, stage: 0, partition: 1 }), "retry", JSON.stringify(retry));
    // The first event, then the stream is closed (break ends the subscription).
    for await (const event of await api.runs.live({ runId })) {
      // A server-side caller gets tracked() events as they are made: [id, data, marker].
      const [, snapshot] = event as unknown as [string, typeof event.data];
      expect(snapshot.status).toBe("running");
      expect(snapshot.retrying).toEqual([retry]);
      break;
    }
  });

  it("marks a running run whose Redis state vanished as failed", async () => {
    const { api, id } = await pipelineWith(slice());
    const { id: runId } = await api.runs.start({ pipelineId: id });
    await h.db.run.update({ where: { id: runId }, data: { status: "RUNNING" } });
    await reconcileRuns({ db: h.db, redis: h.redis, keys: h.deps.keys });
    const run = await api.runs.get({ runId });
    expect(run.status).toBe("FAILED");
    expect(run.error).toContain("gone from Redis");
  });

  it("checks parameters against their declarations", async () => {
    const def = slice();
    def.spec.parameters.push({ name: "limit", type: "number", default: 5 });
    const { api, id } = await pipelineWith(def);
    expect((await rejects(api.runs.start({ pipelineId: id, parameters: { nope: 1 } }))).message).toContain(
      'parameter "nope"',
    );
    expect((await rejects(api.runs.start({ pipelineId: id, parameters: { limit: "x" } }))).message).toContain(
      '"x" is not a number',
    );
    const { id: runId } = await api.runs.start({ pipelineId: id, parameters: { limit: 7 } });
    expect((await h.deps.controlQueue.getJob(`start-${runId}`))?.data.parameters).toEqual({ limit: 7 });
  });

  it("starts a run with typed parameter values, refusing a bad one by name and substituting good ones", async () => {
    const def = slice("{{keep}}");
    def.spec.parameters.push(
      { name: "rate", type: "integer", min: 1, max: 1000, default: 10 },
      { name: "keep", type: "expression", default: "status = 200" },
      { name: "lag", type: "duration", default: "0s" },
      { name: "show", type: "choice", choices: ["few", "many"], default: "few" },
    );
    def.spec.nodes[0]!.config = { rate: "{{rate}}", maxOutOfOrder: "{{lag}}" };
    const { api, id } = await pipelineWith(def);

    const bad = async (parameters: Record<string, string | number | boolean>, message: unknown) => {
      const err = await rejects(api.runs.start({ pipelineId: id, parameters }));
      expect(err.code).toBe("BAD_REQUEST"); // HTTP 400
      expect(err.message).toEqual(message);
    };
    await bad({ rate: 12.5 }, 'parameter "rate": 12.5 is not an integer');
    await bad({ rate: 5000 }, 'parameter "rate": 5000 is more than the maximum, 1000');
    await bad(
      { keep: "status = = 1" },
      expect.stringContaining('parameter "keep": "status = = 1" is not an expression'),
    );
    await bad({ lag: "soon" }, 'parameter "lag": "soon" is not a duration; write e.g. 250ms, 5s, 1m, 2h or 1d');
    await bad({ show: "all" }, 'parameter "show": "all" is not one of "few", "many"');
    // A value that parses but does not fit the field it fills is refused by the node's own check, naming it.
    await bad(
      { keep: "statsu = 200" },
      'Version 1 has 1 problem to fix before it can start. Node keep: Unknown field "statsu" (line 1, column 1). Did you mean “status”?',
    );
    expect(await h.db.run.count({ where: { pipelineId: id } })).toBe(0);

    const values = { rate: 25, keep: "status = 404 OR status >= 500", lag: "2s", show: "many" };
    const { id: runId } = await api.runs.start({ pipelineId: id, parameters: values });
    const job = (await h.deps.controlQueue.getJob(`start-${runId}`))?.data;
    expect(job?.parameters).toEqual(values);
    // The definition travels as written; each worker binds the values exactly like this (task-setup).
    expect(job?.definition.spec.nodes[1]?.config).toEqual({ where: "{{keep}}" });
    const bound = validate(job!.definition, h.deps.catalog, { parameters: job!.parameters });
    expect(bound.issues.filter((i) => i.severity === "error")).toEqual([]);
    expect(bound.configs.gen).toMatchObject({ rate: 25, maxOutOfOrder: 2000 });
    expect(bound.configs.keep).toEqual({ where: "status = 404 OR status >= 500" });
  });
});

describe("run control through the API", () => {
  async function running() {
    const { api, id } = await pipelineWith(slice());
    const { id: runId } = await api.runs.start({ pipelineId: id });
    const keys = h.deps.keys;
    await h.redis.hset(keys.runMeta(runId), {
      status: "running",
      desired: "running",
      gen: "1",
      stages: JSON.stringify([{ index: 0, partitions: 2 }]),
      startedAt: String(Date.now()),
    });
    await h.db.run.update({ where: { id: runId }, data: { status: "RUNNING" } });
    return { api, runId, keys };
  }

  it("pauses and resumes a running run, and refuses what makes no sense", async () => {
    const { api, runId, keys } = await running();
    expect(await api.runs.pause({ runId })).toEqual({ status: "PAUSED" });
    expect(await h.redis.hmget(keys.runMeta(runId), "status", "desired")).toEqual(["paused", "paused"]);
    expect((await api.runs.get({ runId })).status).toBe("PAUSED");
    expect((await rejects(api.runs.pause({ runId }))).message).toBe(
      `Only a running run can be paused, and run ${runId} is paused.`,
    );
    expect(await api.runs.resume({ runId })).toEqual({ status: "RUNNING" });
    expect(await h.redis.hmget(keys.runMeta(runId), "status", "desired")).toEqual(["running", "running"]);
    expect((await rejects(api.runs.restart({ runId }))).message).toBe(
      `Stop run ${runId} before restarting it: it is running.`,
    );
  });

  it("restarts a stopped run through a control job, counting restarts", async () => {
    const { api, runId, keys } = await running();
    await h.redis.hset(keys.runMeta(runId), { status: "stopped", desired: "stopped" });
    await h.db.run.update({ where: { id: runId }, data: { status: "STOPPED", finishedAt: new Date() } });
    expect(await api.runs.restart({ runId, reset: true })).toEqual({ status: "QUEUED" });
    const run = await h.db.run.findUniqueOrThrow({ where: { id: runId } });
    expect(run).toMatchObject({ status: "QUEUED", restarts: 1, finishedAt: null });
    expect(await h.redis.hget(keys.runMeta(runId), "status")).toBe("queued");
    // A run recorded before runs carried their workspace gets it now, for its files folder.
    expect(await h.redis.hget(keys.runMeta(runId), "workspaceId")).toBe(run.workspaceId);
    expect((await h.deps.controlQueue.getJob(`restart-${runId}-1`))?.data).toEqual({
      v: 1,
      action: "restart",
      runId,
      reset: true,
    });
  });

  it("lists dead letters over all partitions, newest first, and moves the chosen ones to replay", async () => {
    const { api, runId, keys } = await running();
    const dlq = (partition: number) => keys.taskDeadLetters({ runId, stage: 0, partition });
    const letter = (n: number) =>
      JSON.stringify({ nodeId: "keep", port: "in", error: `bad ${n}`, record: { n }, at: 1000 + n, sequence: 1 });
    const id1 = await h.redis.xadd(dlq(0), "*", "e", letter(1));
    await h.redis.xadd(dlq(1), "*", "e", letter(2));
    await h.redis.xadd(dlq(1), "*", "e", letter(3));
    const { letters } = await api.runs.deadLetters({ runId });
    expect(letters.map((l) => [l.error, l.partition])).toEqual([
      ["bad 3", 1],
      ["bad 2", 1],
      ["bad 1", 0],
    ]);
    expect(letters[2]).toMatchObject({ id: `0.0.${id1}`, nodeId: "keep", port: "in", record: { n: 1 } });
    expect(await api.runs.replayDeadLetters({ runId, ids: [`0.0.${id1}`] })).toEqual({ replayed: 1 });
    expect(await h.redis.xlen(dlq(0))).toBe(0);
    expect(await h.redis.xlen(keys.taskReplay({ runId, stage: 0, partition: 0 }))).toBe(1);
    expect(await api.runs.replayDeadLetters({ runId })).toEqual({ replayed: 2 });
    expect(await api.runs.deadLetters({ runId })).toMatchObject({ total: 0, discarded: 0, letters: [], next: null });
    expect((await rejects(api.runs.replayDeadLetters({ runId, ids: ["nope"] }))).message).toContain("ids.0");
    const long = `0.0.${"1".repeat(60)}-0`;
    expect((await rejects(api.runs.replayDeadLetters({ runId, ids: [long] }))).message).toContain("ids.0");
    expect((await rejects(api.runs.deadLetters({ runId, after: long }))).message).toContain("after");
  });

  it("replays all of a partition's many dead letters, in slices", async () => {
    const { api, runId, keys } = await running();
    const dlq = keys.taskDeadLetters({ runId, stage: 0, partition: 1 });
    const batch = h.redis.pipeline();
    for (let n = 0; n < 25_000; n++) batch.xadd(dlq, "*", "e", JSON.stringify({ nodeId: "keep", record: { n } }));
    await batch.exec();
    expect(await api.runs.replayDeadLetters({ runId })).toEqual({ replayed: 25_000 });
    expect(await h.redis.xlen(dlq)).toBe(0);
    const replay = keys.taskReplay({ runId, stage: 0, partition: 1 });
    expect(await h.redis.xlen(replay)).toBe(25_000);
    const [[, last]] = (await h.redis.xrevrange(replay, "+", "-", "COUNT", 1)) as [[string, string[]]];
    expect(JSON.parse(last[1]!).record).toEqual({ n: 24_999 });
  });
});

describe("paused runs and retention through the API", () => {
  async function withState(status: "running" | "completed") {
    const { api, id } = await pipelineWith(slice());
    const { id: runId } = await api.runs.start({ pipelineId: id });
    const keys = h.deps.keys;
    await h.redis.hset(keys.runMeta(runId), {
      status,
      desired: "running",
      gen: "1",
      stages: JSON.stringify([{ index: 0, partitions: 2 }]),
    });
    await h.db.run.update({ where: { id: runId }, data: { status: status === "running" ? "RUNNING" : "COMPLETED" } });
    return { api, runId, keys };
  }

  it("stops a paused run: its tasks are asked to stop, and it can no longer be resumed", async () => {
    const { api, runId, keys } = await withState("running");
    expect(await api.runs.pause({ runId })).toEqual({ status: "PAUSED" });
    expect(await api.runs.stop({ runId })).toEqual({ status: "STOPPING" });
    expect(await h.redis.hmget(keys.runMeta(runId), "status", "desired")).toEqual(["stopping", "stopped"]);
    expect((await api.runs.get({ runId })).status).toBe("STOPPING");
    expect((await rejects(api.runs.resume({ runId }))).message).toBe(
      `Only a paused run can be resumed, and run ${runId} is stopping.`,
    );
  });

  it("continues a run within its retention, taking its state out of the retention", async () => {
    const { api, runId, keys } = await withState("completed");
    const state = keys.taskState({ runId, stage: 0, partition: 1 });
    await h.redis.hset(state, "o:gen", "42");
    await h.redis.pexpire(keys.runMeta(runId), 60_000);
    await h.redis.pexpire(state, 120_000);
    expect(await api.runs.restart({ runId })).toEqual({ status: "QUEUED" });
    expect(await h.redis.pttl(keys.runMeta(runId))).toBe(-1);
    expect(await h.redis.pttl(state)).toBe(-1);
    expect((await h.deps.controlQueue.getJob(`restart-${runId}-1`))?.data).toMatchObject({ reset: false });
  });

  it("refuses to continue a run whose state expired, offering a reset, which starts its version again", async () => {
    const { api, runId, keys } = await withState("completed");
    await h.redis.del(keys.runMeta(runId));
    const refused = await rejects(api.runs.restart({ runId }));
    expect(refused.code).toBe("PRECONDITION_FAILED");
    expect(refused.message).toBe(
      `Run ${runId}'s state has expired (it is kept for SLUICE_RUN_RETENTION after a run ends), so it cannot continue from its last commit; restart it from scratch (reset) instead.`,
    );
    expect((await h.db.run.findUniqueOrThrow({ where: { id: runId } })).status).toBe("COMPLETED");

    expect(await api.runs.restart({ runId, reset: true })).toEqual({ status: "QUEUED" });
    const job = await h.deps.controlQueue.getJob(`start-${runId}-g2`);
    expect(job?.data).toMatchObject({ v: 1, action: "start", runId, generation: 2, parameters: {} });
    expect(job?.data.definition.spec.nodes.map((n: { id: string }) => n.id)).toEqual(["gen", "keep", "out"]);
    expect(await h.db.run.findUniqueOrThrow({ where: { id: runId } })).toMatchObject({ status: "QUEUED", restarts: 1 });
  });

  it("stops a run queued for a restart at once, and its pipeline can start again", async () => {
    const { api, runId, keys } = await withState("completed");
    const { pipelineId } = await h.db.run.findUniqueOrThrow({ where: { id: runId } });
    expect(await api.runs.restart({ runId })).toEqual({ status: "QUEUED" });
    // No worker has taken the restart: nothing to drain, so nothing would ever end a "stopping" run.
    expect(await api.runs.stop({ runId })).toEqual({ status: "STOPPED" });
    expect(await h.redis.hmget(keys.runMeta(runId), "status", "desired")).toEqual(["stopped", "stopped"]);
    expect(await h.redis.pttl(keys.runMeta(runId))).toBeGreaterThan(0);
    const run = await h.db.run.findUniqueOrThrow({ where: { id: runId } });
    expect(run.status).toBe("STOPPED");
    expect(run.finishedAt).not.toBeNull();
    expect((await api.runs.start({ pipelineId })).version).toBe(1);
  });

  it("leaves a run that has just ended to the reconciler, which records its figures", async () => {
    const { api, runId, keys } = await withState("running");
    await h.redis.hset(keys.taskState({ runId, stage: 0, partition: 0 }), { "n:gen:out": "7" });
    await h.redis.hset(keys.runMeta(runId), { status: "failed", error: "the sink is gone", finishedAt: "1000" });
    expect(await api.runs.stop({ runId })).toEqual({ status: "FAILED" });
    expect((await h.db.run.findUniqueOrThrow({ where: { id: runId } })).status).toBe("RUNNING");
    await reconcileRuns({ db: h.db, redis: h.redis, keys });
    expect(await api.runs.get({ runId })).toMatchObject({
      status: "FAILED",
      error: "the sink is gone",
      counters: { gen: { in: 0, out: 7, errors: 0 } },
    });
  });

  it("starts again from its version a run that was stopped before any worker planned it", async () => {
    const { api, id } = await pipelineWith(slice());
    const { id: runId } = await api.runs.start({ pipelineId: id });
    expect(await api.runs.stop({ runId })).toEqual({ status: "STOPPED" });
    expect(await api.runs.restart({ runId })).toEqual({ status: "QUEUED" });
    // Queued again in Redis, for the start job (which plans it) to find; a stop now would end it at once.
    expect(await h.redis.hget(h.deps.keys.runMeta(runId), "status")).toBe("queued");
    expect(await h.redis.pttl(h.deps.keys.runMeta(runId))).toBe(-1);
    const job = await h.deps.controlQueue.getJob(`start-${runId}-g2`);
    expect(job?.data).toMatchObject({ action: "start", runId, generation: 2 });
  });

  it("puts a run back as it was when its restart cannot be queued", async () => {
    const { api, runId, keys } = await withState("completed");
    // The version no longer starts (a connection it names is gone), so the reset's start job is never queued.
    const version = await h.db.run.findUniqueOrThrow({ where: { id: runId }, select: { versionId: true } });
    const def = slice();
    def.spec.nodes.push({ id: "db", type: "sink.postgres", config: { connection: "gone", table: "t" } });
    def.spec.edges.push({ from: "keep", to: "db" });
    await h.db.pipelineVersion.update({ where: { id: version.versionId }, data: { definition: def as object } });
    await h.redis.hdel(keys.runMeta(runId), "stages");
    const err = await rejects(api.runs.restart({ runId, reset: true }));
    expect(err.code).toBe("BAD_REQUEST");
    expect(await h.redis.hget(keys.runMeta(runId), "status")).toBe("completed");
    expect(await h.redis.pttl(keys.runMeta(runId))).toBeGreaterThan(0);
    expect((await h.db.run.findUniqueOrThrow({ where: { id: runId } })).status).toBe("COMPLETED");
  });
});
