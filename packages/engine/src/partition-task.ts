import type { DestinationPolicy } from "@sluice/nodes/destination-policy";
import {
  bundleResolver,
  bundleSecrets,
  ConnectionUnavailableError,
  PermanentConnectorError,
  type RejectedRecord,
  type RuntimeContext,
  type RuntimeRegistry,
  type SinkWriter,
  type SourceBatch,
  type SourceOffset,
  type SourceReader,
} from "@sluice/nodes/runtime-contract";
import { NodeConfigError } from "@sluice/nodes/runtime-expressions";
import { type Keys, type TaskRef, taskId } from "@sluice/pipeline/control/keys";
import {
  connectionsContext,
  isTerminal,
  parseRunMeta,
  stopWanted,
  TASK_RETRY_FIELD,
} from "@sluice/pipeline/control/protocol";
import { secretScrubber } from "@sluice/pipeline/control/secret-scrub";
import { DEFAULT_BATCH_BYTES, type PipelineDefinition } from "@sluice/pipeline/definition";
import { parseDuration } from "@sluice/pipeline/duration";
import type { ParameterInfo } from "@sluice/pipeline/expr/types";
import type { NodeCatalog } from "@sluice/pipeline/node-definition";
import type { PhysicalPlan } from "@sluice/pipeline/plan";
import { type DataRecord, emptySchema, type RecordSchema } from "@sluice/pipeline/record-schema";
import { type ValidationResult, validate } from "@sluice/pipeline/validate";
import type { Redis } from "ioredis";
import { BatchBudget } from "./batch-budget";
import { type EngineLogger, errorMessage } from "./engine-logger";
import { edgeId, FusedStage, type Outlet, StageBuildError } from "./fused-stage";
import { RedisLiveTail } from "./live-tail";
import {
  CRASHES_FIELD,
  crashLoopMessage,
  DEFAULT_CRASH_LIMIT,
  PartitionCrashes,
  takeoverOf,
} from "./partition-crashes";
import type { RunController } from "./run-controller";
import { type OpenedConnections, openSealedConnections } from "./sealed-connections";
import { createPartitioner, PartitionerError } from "./shuffle-partitioner";
import { ShuffleReader } from "./shuffle-reader";
import { ShuffleWriter } from "./shuffle-writer";
import { TaskStores } from "./state-store";
import { DeadLetterLimitError, FencedError, type StoreChanges, TaskState } from "./task-commit";
import { clearTaskRetry, recordTaskRetry } from "./task-retry";

// One partition of one stage of one run, leased by this worker: read a batch (from the stage's sources, or from
// the shuffle streams feeding it) after the committed position, push it through the fused chain, let operators
// react to the watermark, write the sinks, and commit everything in one atomic step; repeat until the input
// ends, the user stops the run (drained in stage order), or this worker shuts down (the partition is released
// for another worker to continue from the last commit).

export type TaskOutcome = "finished" | "released" | "fenced" | "failed";

export interface TaskEnvironment {
  redis: Redis;
  keys: Keys;
  catalog: NodeCatalog;
  runtimes: RuntimeRegistry;
  controller: RunController;
  log: EngineLogger;
  workerId: string;
  /** How often the task looks at the run's desired state. */
  controlPollMs?: number;
  /** Longest wait between sink retries. */
  maxRetryDelayMs?: number;
  /** A producer pauses while any of its shuffle streams holds more entries than this. */
  maxShuffleBacklog?: number;
  /** Opens the connection bundles of runs that use connections (SLUICE_SECRET_KEY). */
  secretKey?: Uint8Array;
  /** Where connections may go (see destination-policy.ts); without it, the strict default. */
  destinations?: DestinationPolicy;
  /** A partition that stops its worker this many times in a row without finishing a batch fails its run. */
  crashLimit?: number;
  /** The files directory file nodes work in (SLUICE_FILES_DIR); each workspace's runs get their own folder in it. */
  filesDir?: string;
}

const OFFSET_PREFIX = "o:";
const PROGRESS_PREFIX = "p:";
/** How often a partition looks for dead letters sent back for another try. */
const REPLAY_POLL_MS = 500;
const WATERMARK_APPLY_EVERY_MS = 100;
const TICK_EVERY_MS = 1000;
const MAX_IDLE_SLEEP_MS = 25;

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted) return resolve();
    const done = () => {
      clearTimeout(timer);
      signal.removeEventListener("abort", done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    signal.addEventListener("abort", done, { once: true });
  });
}

function readOffsets(state: Readonly<Record<string, string>>): Record<string, SourceOffset | null> {
  const offsets: Record<string, SourceOffset | null> = {};
  for (const [k, v] of Object.entries(state)) {
    if (k.startsWith(OFFSET_PREFIX)) offsets[k.slice(OFFSET_PREFIX.length)] = JSON.parse(v) as SourceOffset;
  }
  return offsets;
}

function inputsOf(def: PipelineDefinition, schemas: ValidationResult["schemas"], nodeId: string) {
  const inputs: Record<string, RecordSchema> = {};
  for (const e of def.spec.edges) {
    if (e.to !== nodeId) continue;
    const schema = schemas[e.from]?.[e.fromPort ?? "out"];
    if (schema) inputs[e.toPort ?? "in"] = schema;
  }
  return inputs;
}

/** Everything a running partition holds; built once per lease. */
interface TaskRuntime {
  env: TaskEnvironment;
  task: TaskRef;
  id: string;
  state: TaskState;
  stage: FusedStage;
  stores: TaskStores;
  writers: ShuffleWriter[];
  reader: ShuffleReader | undefined;
  generation: number;
  batchSize: number;
  /** Sizes each source's read so a batch stays within settings.batchBytes. */
  budget: BatchBudget;
  /** Dead letters one partition may hold (settings.deadLetterLimit; the commit applies the default). */
  deadLetterLimit: number | undefined;
  maxOutOfOrder: number;
  idleTimeout: number | undefined;
  /** Marks the partition as held while it reads, so a worker dying with it in hand is counted. */
  crashes: PartitionCrashes;
  /** Takeovers in a row without a finished batch, reset by this lease's first commit. */
  crashCount: number;
  /** The partition was retrying after an error when this lease began (or a sink write is retrying now). */
  retrying: boolean;
  /** Cuts the run's secrets out of text. */
  scrub: (text: string) => string;
}

export async function runPartitionTask(
  env: TaskEnvironment,
  task: TaskRef,
  shutdown: AbortSignal,
): Promise<TaskOutcome> {
  const { redis, keys, log } = env;
  const id = taskId(task);
  const rawMeta = await redis.hgetall(keys.runMeta(task.runId));
  const meta = parseRunMeta(rawMeta);
  if (!meta || isTerminal(meta.status)) return "finished";
  const generation = Number(rawMeta.gen ?? 1);

  const state = await TaskState.acquire(redis, keys, task, env.workerId);
  if (state.initial.done || Number(state.initial.stopped ?? 0) >= generation) {
    await env.controller.finishTask(task.runId, id);
    return "finished";
  }

  const definition = JSON.parse(rawMeta.definition ?? "null") as PipelineDefinition;
  const parameters = JSON.parse(rawMeta.parameters ?? "{}") as Record<string, string | number | boolean>;
  const validation = validate(definition, env.catalog, { parameters });
  const plan = JSON.parse(rawMeta.plan ?? "{}") as PhysicalPlan;
  const stagePlan = plan.stages?.find((s) => s.index === task.stage);
  if (!validation.definition || !stagePlan) {
    await env.controller.fail(task.runId, `run ${task.runId} has no usable plan for stage ${task.stage}`);
    return "failed";
  }
  const crashes = new PartitionCrashes(redis, keys, task, state.epoch, env.workerId);
  const takeover = takeoverOf(state.initial);
  if (takeover.crashes >= (env.crashLimit ?? DEFAULT_CRASH_LIMIT)) {
    log.error("partition keeps stopping its worker; failing the run", { task: id, crashes: takeover.crashes });
    await env.controller.fail(task.runId, crashLoopMessage(task, takeover, stagePlan.nodes));
    return "failed";
  }
  const def = validation.definition;
  const settings = def.spec.settings;
  const paramInfo: Record<string, ParameterInfo> = Object.fromEntries(
    Object.entries(parameters).map(([name, value]) => [name, { type: typeof value as ParameterInfo["type"], value }]),
  );

  const stores = new TaskStores(keys, task);
  await stores.load(redis, TaskStores.registered(state.initial));

  const writers: ShuffleWriter[] = [];
  const outlets = new Map<string, Outlet>();
  const reader =
    stagePlan.inputs.length > 0
      ? new ShuffleReader(
          stagePlan.inputs.map((i) => plan.shuffles[i]!),
          (stage) => plan.stages[stage]!.partitions,
          keys,
          task.runId,
          task.partition,
          state.initial,
        )
      : undefined;

  const sealed = rawMeta.connections;
  if (sealed && !env.secretKey) {
    await env.controller.fail(
      task.runId,
      `worker ${env.workerId} has no SLUICE_SECRET_KEY, so it cannot open the run's connections; give every worker the key the web app uses`,
    );
    return "failed";
  }
  // Where connections may go: the worker's policy, refusing also the web app's own database sealed with the run.
  let opened: OpenedConnections;
  try {
    opened = await openSealedConnections(
      env.destinations,
      sealed && env.secretKey
        ? { box: sealed, secretKey: env.secretKey, context: connectionsContext(task.runId) }
        : undefined,
    );
  } catch (err) {
    await env.controller.fail(task.runId, `worker ${env.workerId}: ${errorMessage(err)}`);
    return "failed";
  }
  const { connections: bundle, destinations } = opened;
  const connections = bundleResolver(bundle);
  // Whatever a node or driver says may quote a secret (a connection string in an error): cut them out.
  const scrub = secretScrubber(bundleSecrets(bundle));
  const fail = (message: string) => env.controller.fail(task.runId, scrub.text(message));
  const tail = new RedisLiveTail(redis, keys, task.runId);
  const nodeTypes = new Map(def.spec.nodes.map((n) => [n.id, n.type]));
  const context = (nodeId: string, config: unknown): RuntimeContext<unknown> => ({
    nodeId,
    config,
    runId: task.runId,
    runStartedAt: meta.createdAt ?? 0,
    partition: task.partition,
    partitions: stagePlan.partitions,
    parameters,
    settings,
    inputs: inputsOf(def, validation.schemas, nodeId),
    outputs: validation.schemas[nodeId] ?? {},
    log: {
      info: (m, f) => log.info(scrub.text(m), scrub.value({ ...f, task: id, node: nodeId })),
      warn: (m, f) => log.warn(scrub.text(m), scrub.value({ ...f, task: id, node: nodeId })),
      error: (m, f) => log.error(scrub.text(m), scrub.value({ ...f, task: id, node: nodeId })),
    },
    services: {
      tail,
      connections,
      destinations,
      ingest: { redis, prefix: keys.prefix, pipelineId: meta.pipelineId ?? undefined },
      // The workspace comes from the run's start job, written by the API: the definition cannot choose it.
      files: { root: env.filesDir, workspaceId: meta.workspaceId ?? undefined },
    },
    state: (name) => stores.get(nodeId, name) as never,
  });

  let stage: FusedStage;
  try {
    for (const shuffleId of stagePlan.outputs) {
      const shuffle = plan.shuffles[shuffleId]!;
      const consumers = plan.stages[shuffle.toStage]!.partitions;
      const schema = validation.schemas[shuffle.fromNode]?.[shuffle.fromPort] ?? emptySchema;
      const writer = new ShuffleWriter(
        shuffle,
        keys,
        task,
        consumers,
        createPartitioner(shuffle.keys, schema, consumers, paramInfo),
      );
      writers.push(writer);
      outlets.set(edgeId(shuffle.fromNode, shuffle.fromPort, shuffle.toNode, shuffle.toPort), writer.add);
    }
    // Stopped while waiting to try again: stop without the source or sink that kept failing.
    if (state.initial[TASK_RETRY_FIELD] && stopWanted(rawMeta.desired, rawMeta.status, rawMeta.gen, generation)) {
      return await stopUnopened(env, task, state, writers, generation);
    }
    stage = await FusedStage.open({
      nodeIds: stagePlan.nodes,
      definition: def,
      validation,
      runtimes: env.runtimes,
      offsets: readOffsets(state.initial),
      outlets,
      // The pipeline's timeField, when set, names event time for every source; else each source says.
      eventTimeField: (nodeId) =>
        settings.timeField ??
        env.catalog.get(nodeTypes.get(nodeId) ?? "")?.eventTimeField?.(validation.configs[nodeId]),
      context,
      scrub: scrub.text,
    });
  } catch (err) {
    // Errors no retry can fix fail the run; anything else (a server down) is retried.
    if (
      err instanceof NodeConfigError ||
      err instanceof StageBuildError ||
      err instanceof PartitionerError ||
      err instanceof ConnectionUnavailableError ||
      err instanceof PermanentConnectorError
    ) {
      await fail(errorMessage(err));
      return "failed";
    }
    // A stage that cannot open (its server is down) stops when asked to, instead of being retried.
    if (await stopRequested(env, task, generation).catch(() => false)) {
      return await stopUnopened(env, task, state, writers, generation);
    }
    throw new Error(scrub.text(errorMessage(err)));
  }

  log.info("task leased", { task: id, epoch: state.epoch });
  const rt: TaskRuntime = {
    env,
    task,
    id,
    state,
    stage,
    stores,
    writers,
    reader,
    generation,
    batchSize: settings.batchSize,
    budget: new BatchBudget(settings.batchBytes ?? DEFAULT_BATCH_BYTES),
    deadLetterLimit: settings.deadLetterLimit,
    maxOutOfOrder: parseDuration(settings.maxOutOfOrder ?? 0) ?? 0,
    idleTimeout: settings.idleTimeout === undefined ? undefined : parseDuration(settings.idleTimeout),
    crashes,
    crashCount: takeover.crashes,
    retrying: Boolean(state.initial[TASK_RETRY_FIELD]),
    scrub: scrub.text,
  };
  try {
    return await loop(rt, shutdown);
  } catch (err) {
    if (err instanceof FencedError) {
      log.warn("lease lost to another worker; stopping this copy", { task: id });
      return "fenced";
    }
    if (err instanceof ConnectionUnavailableError || err instanceof PermanentConnectorError) {
      await fail(errorMessage(err));
      return "failed";
    }
    throw new Error(scrub.text(errorMessage(err)));
  } finally {
    await crashes.release();
    await stage.close();
  }
}

/** Whether the run no longer wants this partition to go on: stopped, failed, expired or restarted elsewhere. */
async function stopRequested(env: TaskEnvironment, task: TaskRef, generation: number): Promise<boolean> {
  const [desired, status, gen] = await env.redis.hmget(env.keys.runMeta(task.runId), "desired", "status", "gen");
  return stopWanted(desired, status, gen, generation);
}

/**
 * Stops a partition whose stage never opened (its source or sink unreachable): nothing is read or written, the
 * committed position stays, and the stages downstream get its stop markers so they stop too.
 */
async function stopUnopened(
  env: TaskEnvironment,
  task: TaskRef,
  state: TaskState,
  writers: ShuffleWriter[],
  generation: number,
): Promise<TaskOutcome> {
  const watermark = state.initial.wm !== undefined ? Number(state.initial.wm) : Number.NEGATIVE_INFINITY;
  await commitStopped(state, writers, generation, watermark, Number(state.initial.seq ?? 0) + 1);
  const status = await env.controller.finishTask(task.runId, taskId(task));
  env.log.info("task stopped while retrying", { task: taskId(task), run: status });
  return "finished";
}

/**
 * Commits the partition as stopped for `generation` without committing a batch: its position stays where it is, its
 * retry record goes, and the stages downstream get its stop markers (batch `seq`) so they stop too.
 */
async function commitStopped(
  state: TaskState,
  writers: ShuffleWriter[],
  generation: number,
  watermark: number,
  seq: number,
): Promise<void> {
  await state.commit({
    set: { stopped: String(generation), [TASK_RETRY_FIELD]: "" },
    increments: {},
    deadLetters: [],
    appends: stopMarkers(writers, generation, watermark, seq),
  });
}

interface SourceClock {
  maxEventTime: number;
  lastRecordAt: number;
}

async function loop(rt: TaskRuntime, shutdown: AbortSignal): Promise<TaskOutcome> {
  const { env, task, state, stage, stores, writers, reader } = rt;
  const { redis, keys, log } = env;
  const pollMs = env.controlPollMs ?? 250;
  const maxBacklog = env.maxShuffleBacklog ?? 48;
  let sequence = Number(state.initial.seq ?? 0);
  let watermark = state.initial.wm !== undefined ? Number(state.initial.wm) : Number.NEGATIVE_INFINITY;
  let lastWatermarkAt = 0;
  let lastTick = Date.now();
  let lastPoll = 0;
  let desired = "running";
  let idleSleep = 1;
  let backlogCheckedAt = 0;
  let backlogged = false;
  let lastReplayCheck = 0;
  const replayKey = keys.taskReplay(task);
  // A batch its sinks wrote but the last owner never committed: read exactly its input again (see recordIntent).
  let bound = state.pendingIntent();
  if (bound)
    log.info("replaying a written, uncommitted batch with its recorded input", { task: rt.id, seq: bound.seq });
  // The stores a new owner must load: written whenever they differ from what the task state lists.
  let persistedStores = JSON.stringify(TaskStores.registered(state.initial));
  const clocks = new Map<string, SourceClock>(
    stage.sources.map((s) => [s.nodeId, { maxEventTime: Number.NEGATIVE_INFINITY, lastRecordAt: Date.now() }]),
  );

  const checkControl = async (force = false) => {
    const now = Date.now();
    if (!force && now - lastPoll < pollMs) return;
    lastPoll = now;
    const [d, status, gen] = await redis.hmget(keys.runMeta(task.runId), "desired", "status", "gen");
    // Failed, expired, or restarted elsewhere (this lease is stale) stop it as the user's stop does.
    desired = stopWanted(d, status, gen, rt.generation) ? "stopped" : (d ?? "running");
  };

  const checkBacklog = async () => {
    if (writers.length === 0) return;
    const now = Date.now();
    if (now - backlogCheckedAt < 20) return;
    backlogCheckedAt = now;
    const lengths = await Promise.all(writers.flatMap((w) => w.streamKeys.map((k) => redis.xlen(k))));
    backlogged = lengths.some((n) => n > maxBacklog);
  };

  /** The stage's event-time position from its sources (source stage) or its upstreams (other stages). */
  const currentWatermark = (now: number): { value: number; idle: boolean } => {
    if (reader) {
      const idle = reader.upstreams.every((u) => u.ended || u.idle);
      return { value: reader.watermark(), idle };
    }
    let min = Number.POSITIVE_INFINITY;
    let active = 0;
    for (const s of stage.sources) {
      if (s.ended) continue;
      const clock = clocks.get(s.nodeId)!;
      if (rt.idleTimeout !== undefined && now - clock.lastRecordAt > rt.idleTimeout) continue;
      active++;
      // Without an event-time field the source's time is the time its records arrive.
      const wm = s.eventTimeField === undefined ? now - rt.maxOutOfOrder : clock.maxEventTime - rt.maxOutOfOrder;
      if (wm < min) min = wm;
    }
    if (active === 0 && stage.sources.some((s) => !s.ended)) return { value: watermark, idle: true };
    return { value: min, idle: false };
  };

  const finishTask = async () => {
    // Sinks complete their output on close (a file sink renames its last part): the run may only be reported
    // finished once that has happened, so close the stage before the task counts as done.
    await stage.close();
    const status = await env.controller.finishTask(task.runId, rt.id);
    log.info("task finished", { task: rt.id, run: status });
    return "finished" as const;
  };

  while (true) {
    if (shutdown.aborted) return "released";
    await checkControl();
    if (desired === "paused") {
      await sleep(pollMs, shutdown);
      continue;
    }
    const stopping = desired === "stopped";
    // A source stage stops at once; the others drain until every upstream has stopped or ended.
    const stopNow = stopping && (!reader || reader.allStopped(rt.generation));

    const now = Date.now();
    const seq = sequence + 1;
    stage.begin(seq);
    for (const w of writers) w.begin(seq);
    const set: Record<string, string> = {};
    const replayed: string[] = [];
    const sourceCounts: Record<string, number> = {};
    let read = 0;
    let idleHint = MAX_IDLE_SLEEP_MS;
    let ended = false;

    if (!stopNow) {
      await checkBacklog();
      if (!backlogged) {
        await rt.crashes.beforeFirstRead();
        if (reader) {
          const perUpstream = rt.budget.entriesFor(Math.max(1, Math.ceil(rt.batchSize / 256)), reader.upstreams.length);
          const batches = await reader.read(redis, perUpstream, bound?.upstreams);
          for (const { upstream, entries } of batches) {
            for (const { id, entry } of entries) {
              if (entry.records.length > 0) {
                stage.enter(upstream.shuffle.toNode, upstream.shuffle.toPort, entry.records);
                rt.budget.observeEntry(entry.records);
              }
              read += entry.records.length;
              reader.advance(upstream, id, entry);
            }
          }
          Object.assign(set, reader.positions());
          ended = reader.allEnded;
        } else {
          const active = stage.sources.filter((s) => !s.ended);
          const share = Math.max(1, Math.floor(rt.batchSize / Math.max(1, active.length)));
          for (const source of active) {
            const want = bound
              ? (bound.sources[source.nodeId] ?? 0)
              : rt.budget.recordsFor(source.nodeId, share, active.length, source.reader.recordBytes);
            if (want === 0) continue;
            const batch = bound
              ? await readExactly(source.reader, want, shutdown, log, rt.id)
              : await source.reader.read(want, shutdown);
            sourceCounts[source.nodeId] = batch.records.length + (batch.rejected?.length ?? 0);
            const n = batch.records.length;
            rt.budget.observe(source.nodeId, batch.records);
            if (n > 0) {
              const clock = clocks.get(source.nodeId)!;
              clock.lastRecordAt = now;
              const field = source.eventTimeField;
              if (field !== undefined) {
                for (let i = 0; i < n; i++) {
                  const t = batch.records[i]![field];
                  if (typeof t === "number" && t > clock.maxEventTime) clock.maxEventTime = t;
                }
              }
              stage.push(source.nodeId, batch.records, batch.ports);
            }
            const rejected = batch.rejected?.length ?? 0;
            if (rejected > 0) stage.rejectFromSource(source.nodeId, batch.rejected!);
            read += n;
            if (batch.idleMs !== undefined) idleHint = Math.min(idleHint, batch.idleMs);
            if (batch.end) source.ended = true;
            if (n > 0 || rejected > 0 || batch.end) {
              source.offset = batch.offset;
              set[`${OFFSET_PREFIX}${source.nodeId}`] = JSON.stringify(batch.offset);
              if (batch.progress) set[`${PROGRESS_PREFIX}${source.nodeId}`] = JSON.stringify(batch.progress);
            }
          }
          ended = stage.sources.every((s) => s.ended);
        }
      } else {
        idleHint = 5;
      }
      // Dead letters a user sent back: each goes in again where it failed, and leaves the replay stream with
      // the commit of the batch that processed it.
      if (!bound && now - lastReplayCheck >= REPLAY_POLL_MS) {
        lastReplayCheck = now;
        for (const [entryId, fields] of await redis.xrange(replayKey, "-", "+", "COUNT", 200)) {
          const letter = JSON.parse(fields[fields.indexOf("e") + 1] ?? "null") as
            | Parameters<FusedStage["replay"]>[0]
            | null;
          if (letter) stage.replay(letter);
          replayed.push(entryId);
        }
        if (replayed.length > 0) lastReplayCheck = 0;
      }
      // It reads again: the run no longer shows it as retrying.
      if (rt.retrying && !backlogged) {
        await clearTaskRetry(env, task);
        rt.retrying = false;
      }
    }

    // Event time: operators see the watermark once it moved (throttled when it moves only with the clock).
    const wm = currentWatermark(now);
    if (!ended && wm.value > watermark && (read > 0 || now - lastWatermarkAt >= WATERMARK_APPLY_EVERY_MS)) {
      watermark = wm.value;
      lastWatermarkAt = now;
      stage.watermark(watermark);
      set.wm = String(Number.isFinite(watermark) ? watermark : 8.64e15);
    }
    if (stage.hasTickers && now - lastTick >= TICK_EVERY_MS) {
      lastTick = now;
      stage.tick(now);
    }
    if (ended) {
      stage.end();
      watermark = Number.POSITIVE_INFINITY;
      set.wm = String(8.64e15);
      set.done = "1";
    } else if (stopNow) {
      set.stopped = String(rt.generation);
    }

    // Operators doing I/O (lookups) get this batch's records now, after the hooks had their say.
    await stage.flush();
    // Sinks first: a batch is committed only after its records are durably written. What the batch read is recorded
    // before they write, so that if this worker dies before the commit, the next owner builds the same batch.
    if (!bound && stage.sinks.some((s) => s.buffer.length > 0)) {
      await state.recordIntent({ seq, sources: sourceCounts, upstreams: reader ? reader.extent() : {} });
    }
    bound = null;
    const batchInfo = { batchId: `${task.runId}:${task.stage}:${task.partition}:${seq}`, sequence: seq };
    const wrote: SinkWriter[] = [];
    for (const sink of stage.sinks) {
      if (sink.buffer.length === 0) continue;
      // What the target refused in the attempt that succeeded; a failed attempt's refusals are decided again.
      let refused: { record: DataRecord; error: unknown }[] = [];
      const written = await writeWithRetry(
        env,
        rt.scrub,
        rt.id,
        sink.nodeId,
        () => {
          refused = [];
          return sink.writer.write(sink.buffer, batchInfo, (record, error) => refused.push({ record, error }));
        },
        shutdown,
        checkControl,
        () => desired === "stopped",
        async (error, delayMs) => {
          rt.retrying = true;
          await recordTaskRetry(env, task, error, delayMs);
        },
      );
      if (written === "written") {
        if (refused.length > 0) stage.rejectAtSink(sink.nodeId, refused);
        wrote.push(sink.writer);
      }
      if (written === "released") return "released";
      if (written === "stopped") {
        // Nothing of this batch is committed; the source offsets (or shuffle positions) stay where they were. A
        // stage that cannot write cannot drain either: it stops here, and a restart continues from its last commit.
        await commitStopped(state, writers, rt.generation, watermark, seq);
        return await finishTask();
      }
    }

    const appends = writers.flatMap((w) =>
      w.entries({ watermark, idle: wm.idle, end: ended, stopGeneration: stopNow ? rt.generation : 0 }, now),
    );
    const dirty = stores.dirty();
    const storeNames = JSON.stringify(stores.names());
    if (storeNames !== persistedStores) set.stores = storeNames;
    const mustCommit =
      read > 0 || stage.hasOutput || dirty.length > 0 || appends.length > 0 || Object.keys(set).length > 0;
    if (mustCommit) {
      const storeChanges: StoreChanges[] = dirty.map((s) => ({ key: s.hashKey, ...s.changes() }));
      set.stateSize = String(stores.size);
      // A finished batch: takeovers before it no longer count towards a crash loop.
      if (rt.crashCount > 0) set[CRASHES_FIELD] = "0";
      try {
        sequence = await state.commit({
          set,
          increments: stage.counterIncrements(),
          deadLetters: stage.takeDeadLetters(),
          deadLetterLimit: rt.deadLetterLimit,
          stores: storeChanges,
          appends,
          deletes: replayed.length > 0 ? [{ key: replayKey, ids: replayed }] : [],
        });
      } catch (err) {
        if (!(err instanceof DeadLetterLimitError)) throw err;
        // The batch was refused whole: offsets did not move, so a restart reads its input again.
        log.warn("dead-letter limit reached; failing the run", { task: rt.id, held: err.held, limit: err.limit });
        await env.controller.fail(task.runId, err.message);
        return "failed";
      }
      rt.crashCount = 0;
      for (const s of dirty) s.committed();
      if (set.stores !== undefined) persistedStores = set.stores;
      if (reader) await reader.trim(redis);
      for (const source of stage.sources) {
        if (source.reader.committed && source.offset !== null) await source.reader.committed(source.offset);
      }
      for (const writer of wrote) await writer.committed?.(batchInfo);
    }
    if (ended || stopNow) return await finishTask();

    if (read === 0 && !stage.hasOutput) {
      await rt.crashes.idle();
      // Nothing arrived: wait a little, longer the longer it stays quiet.
      await sleep(reader ? idleSleep : Math.min(Math.max(idleHint, 1), pollMs), shutdown);
      idleSleep = Math.min(idleSleep * 2, MAX_IDLE_SLEEP_MS);
    } else {
      idleSleep = 1;
    }
  }
}

/**
 * Reads `count` records (and rejects) from a source, as the batch being replayed read them: in several reads if the
 * source hands them over in smaller pieces. Gives up waiting after 30 s (a source that cannot give the same input
 * again, e.g. a broker that has not yet redelivered) and goes on with what it has.
 */
async function readExactly(
  reader: SourceReader,
  count: number,
  shutdown: AbortSignal,
  log: EngineLogger,
  task: string,
): Promise<SourceBatch> {
  const records: DataRecord[] = [];
  const ports: string[] = [];
  const rejected: RejectedRecord[] = [];
  let anyPorts = false;
  let last: SourceBatch | undefined;
  const deadline = Date.now() + 30_000;
  while (records.length + rejected.length < count) {
    const batch = await reader.read(count - records.length - rejected.length, shutdown);
    if (batch.ports) anyPorts = true;
    for (let i = 0; i < batch.records.length; i++) {
      records.push(batch.records[i]!);
      ports.push(batch.ports?.[i] ?? "out");
    }
    if (batch.rejected) rejected.push(...batch.rejected);
    last = batch;
    if (batch.end || shutdown.aborted) break;
    if (records.length + rejected.length >= count) break;
    if (Date.now() > deadline) {
      log.warn("the source did not give the replayed batch's input again in 30 s; going on with what it gave", {
        task,
        want: count,
        got: records.length + rejected.length,
      });
      break;
    }
    await sleep(Math.max(1, Math.min(batch.idleMs ?? 5, 100)), shutdown);
  }
  return {
    records,
    offset: last!.offset,
    end: last!.end,
    ...(anyPorts ? { ports } : {}),
    ...(rejected.length > 0 ? { rejected } : {}),
    ...(last!.progress ? { progress: last!.progress } : {}),
  };
}

function stopMarkers(writers: ShuffleWriter[], generation: number, watermark: number, seq: number) {
  return writers.flatMap((w) => {
    w.begin(seq);
    return w.entries({ watermark, idle: false, end: false, stopGeneration: generation }, Date.now());
  });
}

async function writeWithRetry(
  env: TaskEnvironment,
  scrub: (text: string) => string,
  id: string,
  nodeId: string,
  write: () => Promise<void>,
  shutdown: AbortSignal,
  checkControl: (force?: boolean) => Promise<void>,
  stopRequested: () => boolean,
  onRetry: (error: string, delayMs: number) => Promise<void>,
): Promise<"written" | "released" | "stopped"> {
  let delay = 100;
  const maxDelay = env.maxRetryDelayMs ?? 30_000;
  for (let attempt = 1; ; attempt++) {
    try {
      await write();
      return "written";
    } catch (err) {
      // Refused credentials, a missing table: retrying cannot help, the run fails with the reason.
      if (err instanceof PermanentConnectorError) throw err;
      const error = scrub(errorMessage(err));
      env.log.warn("sink write failed; retrying", { task: id, node: nodeId, attempt, error, retryInMs: delay });
      await onRetry(`node ${nodeId}: ${error}`, delay);
    }
    // The wait looks at the run's desired state every second, so a stop is honoured at once.
    const until = Date.now() + delay;
    while (Date.now() < until) {
      await sleep(Math.min(until - Date.now(), 1000), shutdown);
      if (shutdown.aborted) return "released";
      await checkControl(true);
      if (stopRequested()) return "stopped";
    }
    delay = Math.min(delay * 2, maxDelay);
  }
}
