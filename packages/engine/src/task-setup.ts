import type { DestinationPolicy } from "@sluice/nodes/destination-policy";
import {
  bundleResolver,
  bundleSecrets,
  ConnectionUnavailableError,
  PermanentConnectorError,
  type RuntimeContext,
  type RuntimeRegistry,
  type SourceOffset,
} from "@sluice/nodes/runtime-contract";
import { NodeConfigError } from "@sluice/nodes/runtime-expressions";
import { type Keys, type TaskRef, taskId } from "@sluice/pipeline/control/keys";
import { connectionsContext, parseRunMeta, TASK_RETRY_FIELD } from "@sluice/pipeline/control/protocol";
import { readDesired, registeredStores, stopWanted } from "@sluice/pipeline/control/run-state";
import { isTerminal } from "@sluice/pipeline/control/run-status";
import type { SecretKeys } from "@sluice/pipeline/control/secret-box";
import { secretScrubber } from "@sluice/pipeline/control/secret-scrub";
import { DEFAULT_BATCH_BYTES, type PipelineDefinition } from "@sluice/pipeline/definition";
import { parseDuration } from "@sluice/pipeline/duration";
import type { ParameterInfo } from "@sluice/pipeline/expr/types";
import type { NodeCatalog } from "@sluice/pipeline/node-definition";
import { expressionParameters, expressionParameterValues } from "@sluice/pipeline/parameters";
import type { PhysicalPlan } from "@sluice/pipeline/plan";
import { emptySchema, type RecordSchema } from "@sluice/pipeline/record-schema";
import { type ValidationResult, validate } from "@sluice/pipeline/validate";
import type { Redis } from "ioredis";
import { BatchBudget } from "./batch-budget";
import { type EngineLogger, errorMessage } from "./engine-logger";
import { edgeId, FusedStage, type Outlet, StageBuildError } from "./fused-stage";
import { RedisLiveTail } from "./live-tail";
import type { NodeFigurePublisher } from "./node-figure-publisher";
import { crashLoopMessage, DEFAULT_CRASH_LIMIT, PartitionCrashes, takeoverOf } from "./partition-crashes";
import type { RunController } from "./run-controller";
import { type OpenedConnections, openSealedConnections } from "./sealed-connections";
import { ShuffleInput } from "./shuffle-input";
import { createPartitioner, PartitionerError } from "./shuffle-partitioner";
import { ShuffleReader } from "./shuffle-reader";
import { ShuffleWriter } from "./shuffle-writer";
import { OFFSET_PREFIX, SourceInput } from "./source-input";
import { TaskStores } from "./state-store";
import { TaskState } from "./task-commit";
import type { TaskInput } from "./task-input";

// Taking a partition in hand: acquire its lease (a new fencing epoch), read the run's definition and plan, refuse
// a partition caught in a crash loop, load its operator stores, open the run's connections, and open the fused
// stage with its input and its shuffle outputs. What cannot work fails the run; a stop that came while the
// partition was waiting to try again is honoured without opening anything.

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
  /** Opens the connection bundles of runs that use connections (SLUICE_SECRET_KEY and the previous keys). */
  secretKey?: SecretKeys;
  /** Where connections may go (see destination-policy.ts); without it, the strict default. */
  destinations?: DestinationPolicy;
  /** A partition that stops its worker this many times in a row without finishing a batch fails its run. */
  crashLimit?: number;
  /** The files directory file nodes work in (SLUICE_FILES_DIR); each workspace's runs get their own folder in it. */
  filesDir?: string;
  /** Where partitions report their node figures; without it, none are published (SLUICE_NODE_FIGURES=off). */
  figures?: NodeFigurePublisher;
}

/** Everything a running partition holds; built once per lease. */
export interface TaskRuntime {
  env: TaskEnvironment;
  task: TaskRef;
  id: string;
  state: TaskState;
  stage: FusedStage;
  input: TaskInput;
  stores: TaskStores;
  writers: ShuffleWriter[];
  generation: number;
  /** Dead letters one partition may hold (settings.deadLetterLimit; the commit applies the default). */
  deadLetterLimit: number | undefined;
  /** Marks the partition as held while it reads, so a worker dying with it in hand is counted. */
  crashes: PartitionCrashes;
  /** Takeovers in a row without a finished batch, reset by this lease's first commit. */
  crashCount: number;
  /** The partition was retrying after an error when this lease began (or a sink write is retrying now). */
  retrying: boolean;
  /** Cuts the run's secrets out of text. */
  scrub: (text: string) => string;
}

/** A partition that needs no loop: already done or stopped, or failed its run while being set up. */
type SetUpEnded = "finished" | "failed";

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

/** Leases the partition and opens everything its batches need, or says why there is nothing to run. */
export async function setUpTask(env: TaskEnvironment, task: TaskRef): Promise<TaskRuntime | SetUpEnded> {
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
  const takeover = takeoverOf(state.initial);
  const crashes = new PartitionCrashes(redis, keys, task, state.epoch, env.workerId, takeover.crashes > 0);
  if (takeover.crashes > 0) {
    const from = takeover.lastWorker || undefined;
    const where = { stage: task.stage, partition: task.partition, worker: env.workerId, previousWorker: from };
    await env.controller.recordEvent(task.runId, "takeover", where);
  }
  if (takeover.crashes >= (env.crashLimit ?? DEFAULT_CRASH_LIMIT)) {
    log.error("partition keeps stopping its worker; failing the run", { task: id, crashes: takeover.crashes });
    await env.controller.fail(task.runId, crashLoopMessage(task, takeover, stagePlan.nodes));
    return "failed";
  }
  const def = validation.definition;
  const settings = def.spec.settings;
  const paramInfo: Record<string, ParameterInfo> = expressionParameters(def.spec.parameters, parameters);
  const expressionValues = expressionParameterValues(def.spec.parameters, parameters);

  const stores = new TaskStores(keys, task);
  await stores.load(redis, registeredStores(state.initial));

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
    parameters: expressionValues,
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

  const budget = new BatchBudget(settings.batchBytes ?? DEFAULT_BATCH_BYTES);
  const input: TaskInput = reader
    ? new ShuffleInput(redis, reader, stage, budget, settings.batchSize)
    : new SourceInput({
        stage,
        budget,
        batchSize: settings.batchSize,
        maxOutOfOrder: parseDuration(settings.maxOutOfOrder ?? 0) ?? 0,
        idleTimeout: settings.idleTimeout === undefined ? undefined : parseDuration(settings.idleTimeout),
        log,
        taskId: id,
        scrub: scrub.text,
      });
  log.info("task leased", { task: id, epoch: state.epoch });
  return {
    env,
    task,
    id,
    state,
    stage,
    input,
    stores,
    writers,
    generation,
    deadLetterLimit: settings.deadLetterLimit,
    crashes,
    crashCount: takeover.crashes,
    retrying: Boolean(state.initial[TASK_RETRY_FIELD]),
    scrub: scrub.text,
  };
}

/** Whether the run no longer wants this partition to go on: stopped, failed, expired or restarted elsewhere. */
async function stopRequested(env: TaskEnvironment, task: TaskRef, generation: number): Promise<boolean> {
  return (await readDesired(env.redis, env.keys, task.runId, generation)) === "stopped";
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
): Promise<"finished"> {
  const watermark = state.initial.wm !== undefined ? Number(state.initial.wm) : Number.NEGATIVE_INFINITY;
  await commitStopped(state, writers, generation, watermark, Number(state.initial.seq ?? 0) + 1);
  const status = await env.controller.finishTask(task.runId, taskId(task));
  env.log.info("task stopped while retrying", { task: taskId(task), status });
  return "finished";
}

/**
 * Commits the partition as stopped for `generation` without committing a batch: its position stays where it is, its
 * retry record goes, and the stages downstream get its stop markers (batch `seq`) so they stop too.
 */
export async function commitStopped(
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
    appends: writers.flatMap((w) => {
      w.begin(seq);
      return w.entries({ watermark, idle: false, end: false, stopGeneration: generation }, Date.now());
    }),
  });
}
