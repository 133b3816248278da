import {
  type BatchInfo,
  ConnectionUnavailableError,
  PermanentConnectorError,
  type SinkWriter,
} from "@sluice/nodes/runtime-contract";
import type { TaskRef } from "@sluice/pipeline/control/keys";
import type { OffsetLag } from "@sluice/pipeline/control/node-figures";
import type { DesiredState } from "@sluice/pipeline/control/protocol";
import { readDesired, registeredStores } from "@sluice/pipeline/control/run-state";
import { errorMessage } from "./engine-logger";
import { edgeId, type FusedStage, type StageReport } from "./fused-stage";
import type { TaskFigures, TaskGauges } from "./node-figure-publisher";
import { CRASHES_FIELD } from "./partition-crashes";
import { type SinkWriteControl, sinksCommitted, writeSinks } from "./sink-writes";
import { sleep } from "./sleep";
import { type BatchIntent, DeadLetterLimitError, FencedError, type StoreChanges } from "./task-commit";
import { type InputRead, NOTHING_READ } from "./task-input";
import { clearTaskRetry, recordTaskRetry } from "./task-retry";
import { commitStopped, setUpTask, type TaskEnvironment, type TaskRuntime } from "./task-setup";

// One partition of one stage of one run, leased by this worker (task-setup.ts): read a batch from its input (the
// stage's sources, or the shuffle streams feeding it) after the committed position, push it through the fused
// chain, let operators react to the watermark, write the sinks, and commit everything in one atomic step; repeat
// until the input ends, the user stops the run (drained in stage order), or this worker shuts down (the partition
// is released for another worker to continue from the last commit).

export type TaskOutcome = "finished" | "released" | "fenced" | "failed";

/** How often a partition looks for dead letters sent back for another try. */
const REPLAY_POLL_MS = 500;
const WATERMARK_APPLY_EVERY_MS = 100;
const TICK_EVERY_MS = 1000;
/** A batch that read nothing because the next stage is behind on this one's shuffles: it looks again soon. */
const BACKLOGGED: Readonly<InputRead> = Object.freeze({ ...NOTHING_READ, idleMs: 5 });
/** How often a producer looks at its outgoing shuffle streams' lengths: near the backlog limit, and far from it. */
const BACKLOG_CHECK_NEAR_MS = 20;
const BACKLOG_CHECK_FAR_MS = 100;
/** Commit a watermark of +Infinity (input ended) as the largest valid time. */
const END_OF_TIME = 8.64e15;
/** Sources are asked for their offset lag at most this often. */
const OFFSET_LAG_EVERY_MS = 1000;
/** An offset lag answer that took longer than this is out of date when it comes: it is dropped. */
const OFFSET_LAG_SLOW_MS = 3000;
/** A published offset lag is at most this old; older (its sources stopped answering) it is left out. */
const OFFSET_LAG_FRESH_MS = 5000;
const NO_OFFSET_LAG: ReadonlyMap<string, OffsetLag> = new Map();

export async function runPartitionTask(
  env: TaskEnvironment,
  task: TaskRef,
  shutdown: AbortSignal,
): Promise<TaskOutcome> {
  const rt = await setUpTask(env, task);
  if (typeof rt === "string") return rt;
  const loop = new PartitionLoop(rt, shutdown);
  try {
    return await loop.run();
  } catch (err) {
    if (err instanceof FencedError) {
      env.log.warn("lease lost to another worker; stopping this copy", { task: rt.id });
      return "fenced";
    }
    if (err instanceof ConnectionUnavailableError || err instanceof PermanentConnectorError) {
      await env.controller.fail(task.runId, rt.scrub(errorMessage(err)));
      return "failed";
    }
    throw new Error(rt.scrub(errorMessage(err)));
  } finally {
    loop.closeFigures();
    await rt.crashes.release();
    await rt.input.settle?.();
    await rt.stage.close();
  }
}

/** One turn of the loop: what the batch commits besides what its input, stage and sinks report. */
interface Batch {
  seq: number;
  /** How the sinks know the batch: its id is the same whichever worker writes it. */
  info: BatchInfo;
  now: number;
  /** The run is stopping and this partition may stop now: the batch reads nothing and marks it stopped. */
  stopNow: boolean;
  /** Task-state fields to commit: positions, watermark, flags. */
  set: Record<string, string>;
  /** Replayed dead letters (entry ids) the batch processed, removed with its commit. */
  replayed: string[];
  /** The input is idle: downstream stages do not wait for this partition's watermark. */
  idle: boolean;
  /** When processing began (performance.now()), for the batch latency in the node figures. */
  started: number;
}

class PartitionLoop {
  private readonly pollMs: number;
  private readonly maxBacklog: number;
  private readonly replayKey: string;
  private readonly sinkControl: SinkWriteControl;
  private sequence: number;
  private watermark: number;
  private lastWatermarkAt = 0;
  private lastTick = Date.now();
  private lastPoll = 0;
  private desired = "running" as DesiredState;
  private backlogCheckedAt = 0;
  /** The longest outgoing shuffle stream at the last check. */
  private backlogLongest = 0;
  private backlogged = false;
  private lastReplayCheck = 0;
  /** A batch its sinks wrote but the last owner never committed: read exactly its input again (see recordIntent). */
  private bound: BatchIntent | null;
  /** The stores a new owner must load: written whenever they differ from what the task state lists. */
  private persistedStores: string;
  /** This partition's node figures, unless the worker publishes none. */
  private readonly figures: TaskFigures | undefined;
  /** Outgoing shuffle edges, by writer, and the entries waiting in each at the last backlog check. */
  private readonly edges: string[];
  private readonly nodeIds: string[];
  private readonly backlog = new Map<string, number>();
  private inputLag: Record<string, number> | undefined;
  private lagAt = 0;
  private lagInFlight = false;
  /** The sources' offset lag at the last sample that answered in time, and when that sample began. */
  private offsetLag: ReadonlyMap<string, OffsetLag> = new Map();
  private offsetLagAt = 0;
  private offsetLagAskedAt = 0;
  private offsetLagInFlight = false;
  /** Every source has ended: nothing is left to read, whatever a sample still on its way says. */
  private offsetLagEnded = false;

  constructor(
    private readonly rt: TaskRuntime,
    private readonly shutdown: AbortSignal,
  ) {
    const { env, task, state } = rt;
    this.pollMs = env.controlPollMs ?? 250;
    this.maxBacklog = env.maxShuffleBacklog ?? 48;
    this.replayKey = env.keys.taskReplay(task);
    this.sequence = Number(state.initial.seq ?? 0);
    this.watermark = state.initial.wm !== undefined ? Number(state.initial.wm) : Number.NEGATIVE_INFINITY;
    this.persistedStores = JSON.stringify(registeredStores(state.initial));
    this.bound = state.pendingIntent();
    this.edges = rt.writers.map(({ shuffle: s }) => edgeId(s.fromNode, s.fromPort, s.toNode, s.toPort));
    this.nodeIds = rt.stage.nodeIds;
    this.figures = env.figures?.open(task, () => this.gauges());
    if (this.bound) {
      env.log.info("replaying a written, uncommitted batch with its recorded input", {
        task: rt.id,
        seq: this.bound.seq,
      });
    }
    this.sinkControl = {
      log: env.log,
      taskId: rt.id,
      scrub: rt.scrub,
      maxRetryDelayMs: env.maxRetryDelayMs ?? 30_000,
      shutdown,
      checkControl: (force) => this.checkControl(force),
      stopRequested: () => this.desired === "stopped",
      onRetry: async (error, delayMs) => {
        rt.retrying = true;
        await recordTaskRetry(env, task, error, delayMs);
      },
    };
  }

  async run(): Promise<TaskOutcome> {
    const { rt, shutdown } = this;
    const { stage, input } = rt;
    while (true) {
      if (shutdown.aborted) return "released";
      await this.checkControl();
      this.sampleOffsetLag();
      if (this.desired === "paused") {
        await sleep(this.pollMs, shutdown);
        continue;
      }
      const batch = this.begin();
      const read = batch.stopNow ? NOTHING_READ : await this.read(batch);
      batch.started = performance.now();
      await this.process(batch, read);
      const sinks = await this.writeSinks(batch, read);
      if (sinks.outcome === "released") return "released";
      if (sinks.outcome === "stopped") {
        // Nothing of this batch is committed; the input stays where it was. A stage that cannot write cannot drain
        // either: it stops here, and a restart continues from its last commit.
        await commitStopped(rt.state, rt.writers, rt.generation, this.watermark, batch.seq);
        return await this.finish();
      }
      const report = stage.report();
      if ((await this.commit(batch, read, report, sinks.wrote)) === "failed") return "failed";
      if (read.ended) this.endOffsetLag();
      if (read.ended || batch.stopNow) return await this.finish();
      if (read.records === 0 && !report.active) {
        await rt.crashes.idle();
        // Nothing arrived: wait a little, longer the longer it stays quiet.
        await sleep(input.quietWait(read.idleMs, this.pollMs), shutdown);
      } else {
        input.busy();
      }
    }
  }

  private begin(): Batch {
    const { rt } = this;
    // A source stage stops at once; the others drain until every upstream has stopped or ended.
    const stopNow = this.desired === "stopped" && rt.input.drained(rt.generation);
    const seq = this.sequence + 1;
    rt.stage.begin(seq);
    for (const w of rt.writers) w.begin(seq);
    const info = { batchId: `${rt.task.runId}:${rt.task.stage}:${rt.task.partition}:${seq}`, sequence: seq };
    return { seq, info, now: Date.now(), stopNow, set: {}, replayed: [], idle: false, started: 0 };
  }

  /** Reads the batch's input (unless the next stage is behind) and the dead letters sent back for another try. */
  private async read(batch: Batch): Promise<InputRead> {
    const { rt } = this;
    let read: InputRead = BACKLOGGED;
    await this.checkBacklog();
    if (!this.backlogged) {
      await rt.crashes.beforeFirstRead();
      read = await rt.input.read({ set: batch.set, now: batch.now, bound: this.bound, shutdown: this.shutdown });
    }
    // Dead letters a user sent back: each goes in again where it failed, and leaves the replay stream with the
    // commit of the batch that processed it. A batch built again after a crash takes exactly the letters the
    // first attempt took (they are still in the stream: it never committed), so its sinks see the same records.
    const takeLetter = (entryId: string, fields: string[]) => {
      const letter = JSON.parse(fields[fields.indexOf("e") + 1] ?? "null") as
        | Parameters<FusedStage["replay"]>[0]
        | null;
      if (letter) rt.stage.replay(letter);
      batch.replayed.push(entryId);
    };
    if (this.bound) {
      for (const id of this.bound.replayed ?? []) {
        const [entry] = await rt.env.redis.xrange(this.replayKey, id, id);
        if (entry) takeLetter(entry[0], entry[1]);
      }
    } else if (batch.now - this.lastReplayCheck >= REPLAY_POLL_MS) {
      this.lastReplayCheck = batch.now;
      for (const [entryId, fields] of await rt.env.redis.xrange(this.replayKey, "-", "+", "COUNT", 200)) {
        takeLetter(entryId, fields);
      }
      if (batch.replayed.length > 0) this.lastReplayCheck = 0;
    }
    // It reads again: the run no longer shows it as retrying.
    if (rt.retrying && !this.backlogged) {
      await clearTaskRetry(rt.env, rt.task);
      rt.retrying = false;
    }
    return read;
  }

  /** Event time, timers and the end of input reach the operators; then the batch operators (I/O) run. */
  private async process(batch: Batch, read: InputRead): Promise<void> {
    const { stage } = this.rt;
    const { now, set } = batch;
    // Operators see the watermark once it moved (throttled when it moves only with the clock).
    const wm = this.rt.input.watermark(now, this.watermark);
    batch.idle = wm.idle;
    if (
      !read.ended &&
      wm.value > this.watermark &&
      (read.records > 0 || now - this.lastWatermarkAt >= WATERMARK_APPLY_EVERY_MS)
    ) {
      this.watermark = wm.value;
      this.lastWatermarkAt = now;
      stage.watermark(this.watermark);
      set.wm = String(Number.isFinite(this.watermark) ? this.watermark : END_OF_TIME);
    }
    if (stage.hasTickers && now - this.lastTick >= TICK_EVERY_MS) {
      this.lastTick = now;
      stage.tick(now);
    }
    if (read.ended) {
      stage.end();
      this.watermark = Number.POSITIVE_INFINITY;
      set.wm = String(END_OF_TIME);
      set.done = "1";
    } else if (batch.stopNow) {
      set.stopped = String(this.rt.generation);
    }
    // Operators doing I/O (lookups) get this batch's records now, after the hooks had their say.
    await stage.flush();
  }

  /**
   * Sinks first: a batch is committed only after its records are durably written. What the batch read is recorded
   * before they write, so that if this worker dies before the commit, the next owner builds the same batch.
   */
  private async writeSinks(batch: Batch, read: InputRead) {
    const { rt } = this;
    const pending = rt.stage.pendingWrites();
    if (!this.bound && pending.length > 0) {
      const replayed = batch.replayed.length > 0 ? { replayed: batch.replayed } : {};
      await rt.state.recordIntent({ seq: batch.seq, ...read.extent, ...replayed });
    }
    this.bound = null;
    return writeSinks(rt.stage, pending, batch.info, this.sinkControl);
  }

  /** Commits the batch in one atomic step (when it did anything), then tells the input and the sinks. */
  private async commit(
    batch: Batch,
    read: InputRead,
    report: StageReport,
    wrote: readonly SinkWriter[],
  ): Promise<"committed" | "failed"> {
    const { rt } = this;
    const { set } = batch;
    const appends = rt.writers.flatMap((w) =>
      w.entries(
        {
          watermark: this.watermark,
          idle: batch.idle,
          end: read.ended,
          stopGeneration: batch.stopNow ? rt.generation : 0,
        },
        batch.now,
      ),
    );
    const dirty = rt.stores.dirty();
    const storeNames = JSON.stringify(rt.stores.names());
    if (storeNames !== this.persistedStores) set.stores = storeNames;
    const mustCommit =
      read.records > 0 || report.active || dirty.length > 0 || appends.length > 0 || Object.keys(set).length > 0;
    if (!mustCommit) return "committed";
    const storeChanges: StoreChanges[] = dirty.map((s) => ({ key: s.hashKey, ...s.changes() }));
    set.stateSize = String(rt.stores.size);
    // A finished batch: takeovers before it no longer count towards a crash loop.
    if (rt.crashCount > 0) set[CRASHES_FIELD] = "0";
    try {
      this.sequence = await rt.state.commit({
        set,
        increments: report.increments,
        deadLetters: report.deadLetters,
        deadLetterLimit: rt.deadLetterLimit,
        stores: storeChanges,
        appends,
        deletes: batch.replayed.length > 0 ? [{ key: this.replayKey, ids: batch.replayed }] : [],
      });
      rt.crashes.committed();
    } catch (err) {
      if (!(err instanceof DeadLetterLimitError)) throw err;
      // The batch was refused whole: offsets did not move, so a restart reads its input again.
      rt.env.log.warn("dead-letter limit reached; failing the run", {
        task: rt.id,
        held: err.held,
        limit: err.limit,
      });
      const where = { stage: rt.task.stage, partition: rt.task.partition, worker: rt.env.workerId };
      await rt.env.controller.recordEvent(rt.task.runId, "dead-letter-limit", where);
      await rt.env.controller.fail(rt.task.runId, err.message);
      return "failed";
    }
    rt.crashCount = 0;
    if (this.figures) this.countFigures(report, batch, read);
    for (const s of dirty) s.committed();
    if (set.stores !== undefined) this.persistedStores = set.stores;
    await rt.input.committed();
    await sinksCommitted(wrote, batch.info);
    return "committed";
  }

  private async finish(): Promise<"finished"> {
    const { rt } = this;
    // Sinks complete their output on close (a file sink renames its last part): the run may only be reported
    // finished once that has happened, so close the stage before the task counts as done.
    await rt.stage.close();
    const status = await rt.env.controller.finishTask(rt.task.runId, rt.id);
    rt.env.log.info("task finished", { task: rt.id, status });
    return "finished";
  }

  private async checkControl(force = false): Promise<void> {
    const now = Date.now();
    if (!force && now - this.lastPoll < this.pollMs) return;
    this.lastPoll = now;
    // Failed, expired, or restarted elsewhere (this lease is stale) stop it as the user's stop does.
    this.desired = await readDesired(this.rt.env.redis, this.rt.env.keys, this.rt.task.runId, this.rt.generation);
  }

  /** Whether the next stage has fallen behind: a producer pauses while any of its shuffle streams is too long. */
  private async checkBacklog(): Promise<void> {
    const { writers, env } = this.rt;
    if (writers.length === 0) return;
    const now = Date.now();
    // Streams far from the limit are looked at less often: a producer adds at most one entry per batch to each.
    const every = this.backlogLongest > this.maxBacklog / 2 ? BACKLOG_CHECK_NEAR_MS : BACKLOG_CHECK_FAR_MS;
    if (now - this.backlogCheckedAt < every) return;
    this.backlogCheckedAt = now;
    // A producer's streams share its hash tag, so one pipeline (one round trip) asks for them all, on a cluster too.
    const keys = writers.flatMap((w) => w.streamKeys);
    const replies = (await env.redis.pipeline(keys.map((k) => ["xlen", k])).exec()) ?? [];
    const flat = replies.map(([err, n]) => {
      if (err) throw err;
      return Number(n);
    });
    const lengths: number[][] = [];
    for (const w of writers) lengths.push(flat.splice(0, w.streamKeys.length));
    this.backlogLongest = Math.max(0, ...lengths.flat());
    this.backlogged = this.backlogLongest > this.maxBacklog;
    if (!this.figures) return;
    lengths.forEach((perConsumer, i) => {
      this.backlog.set(
        this.edges[i]!,
        perConsumer.reduce((a, b) => a + b, 0),
      );
    });
    if (this.backlogged) {
      this.figures.backpressured(this.edges.filter((_, i) => lengths[i]!.some((n) => n > this.maxBacklog)));
    }
  }

  /** A committed batch's figures; the input's lag is asked for at most once a second, without waiting for it. */
  private countFigures(report: StageReport, batch: Batch, read: InputRead): void {
    const sent = new Map<string, number>();
    this.rt.writers.forEach((w, i) => {
      sent.set(this.edges[i]!, w.pending);
    });
    this.figures!.batch(report.increments, performance.now() - batch.started, sent);
    if (this.lagInFlight || batch.now - this.lagAt < 1000 || read.ended) return;
    this.lagAt = batch.now;
    this.lagInFlight = true;
    this.rt.input
      .lag()
      .then(
        (lag) => {
          this.inputLag = lag;
        },
        () => {},
      )
      .finally(() => {
        this.lagInFlight = false;
      });
  }

  /**
   * Asks the sources for their offset lag, at most once a second and never while an earlier ask is unanswered; the
   * loop does not wait for it. An answer that took longer than OFFSET_LAG_SLOW_MS is dropped as out of date.
   */
  private sampleOffsetLag(): void {
    const { input, env, id } = this.rt;
    if (!this.figures || !input.offsetLag || this.offsetLagInFlight || this.offsetLagEnded) return;
    const askedAt = Date.now();
    if (askedAt - this.offsetLagAskedAt < OFFSET_LAG_EVERY_MS) return;
    this.offsetLagAskedAt = askedAt;
    this.offsetLagInFlight = true;
    input
      .offsetLag()
      .then(
        (lag) => {
          const tookMs = Date.now() - askedAt;
          if (this.offsetLagEnded) return;
          if (tookMs > OFFSET_LAG_SLOW_MS) {
            env.log.debug("offset lag sample too slow; dropped", { task: id, tookMs });
            return;
          }
          this.offsetLag = lag;
          this.offsetLagAt = askedAt;
        },
        (err: unknown) =>
          env.log.debug("offset lag not sampled", { task: id, error: this.rt.scrub(errorMessage(err)) }),
      )
      .finally(() => {
        this.offsetLagInFlight = false;
      });
  }

  /** The input ended: every source that had an offset lag has none left. */
  private endOffsetLag(): void {
    this.offsetLagEnded = true;
    this.offsetLag = new Map([...this.offsetLag].map(([node, lag]) => [node, { value: 0, unit: lag.unit }]));
    this.offsetLagAt = Date.now();
  }

  private gauges(): TaskGauges {
    const fresh = this.offsetLagEnded || Date.now() - this.offsetLagAt <= OFFSET_LAG_FRESH_MS;
    return {
      nodes: this.nodeIds,
      watermark: this.watermark,
      stateKeys: this.rt.stores.keysByNode(),
      inputLag: this.inputLag,
      backlog: this.backlog,
      offsetLag: fresh ? this.offsetLag : NO_OFFSET_LAG,
    };
  }

  /** The partition is done here: its last figures go out with the publisher's next write. */
  closeFigures(): void {
    if (this.figures) this.figures.closed = true;
  }
}
