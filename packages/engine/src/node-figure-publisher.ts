import type { Keys, TaskRef } from "@sluice/pipeline/control/keys";
import { FIGURES_TTL_MS, figureField, latencyBucket, type OffsetLag } from "@sluice/pipeline/control/node-figures";
import type { Redis } from "ioredis";
import { type EngineLogger, errorMessage } from "./engine-logger";

// Node figures (see @sluice/pipeline/control/node-figures for the key layout): each partition adds up what its
// committed batches did in memory (TaskFigures, a few map updates per batch), and one publisher per worker writes
// every partition's figures once a second, just after the second turns, in one pipeline (one per run on Redis
// Cluster, where a pipeline stays within one hash tag). Figures are best-effort: a failed publish is logged at
// debug and dropped; nothing a batch does waits on it.

/** What a partition reports at each publish besides its batches' counts: values at that moment. */
export interface TaskGauges {
  /** The partition's nodes, each shown with its watermark. */
  nodes: readonly string[];
  watermark: number;
  /** Keys held by each stateful node's stores. */
  stateKeys: ReadonlyMap<string, number>;
  /** How far the input is behind per node it feeds (TaskInput.lag), if it can say. */
  inputLag: Readonly<Record<string, number>> | undefined;
  /** Entries waiting in each outgoing shuffle edge's streams. */
  backlog: ReadonlyMap<string, number>;
  /** Per source node of the stage, its offset lag at the last sample (SourceReader.offsetLag). */
  offsetLag: ReadonlyMap<string, OffsetLag>;
}

/** The largest valid time, which the engine commits for "input ended": not a watermark to show. */
const END_OF_TIME = 8.64e15;

/** One partition's figures since the last publish. */
export class TaskFigures {
  /** Per unix second, per field: increments. */
  private pending = new Map<number, Map<string, number>>();
  /** Counter field (`n:<node>:in`) → [figures field, node]: parsed once per node. */
  private readonly fields = new Map<string, [string, string]>();
  private readonly edgesBackpressured = new Set<string>();
  closed = false;

  constructor(
    readonly task: TaskRef,
    readonly gauges: () => TaskGauges,
  ) {}

  /**
   * A committed batch: its counter increments (StageReport.increments), how long it took, and the records each
   * outgoing shuffle edge carried.
   */
  batch(increments: Readonly<Record<string, number>>, latencyMs: number, sent: ReadonlyMap<string, number>): void {
    const sec = Math.floor(Date.now() / 1000);
    const counts = this.pending.get(sec) ?? new Map<string, number>();
    this.pending.set(sec, counts);
    const bucket = latencyBucket(latencyMs);
    let lastNode = "";
    for (const [counter, n] of Object.entries(increments)) {
      const [field, node] = this.fields.get(counter) ?? this.parse(counter);
      counts.set(field, (counts.get(field) ?? 0) + n);
      // Increments come grouped by node: one latency sample per node that took part.
      if (node === lastNode) continue;
      lastNode = node;
      const h = figureField.latency(node, bucket);
      counts.set(h, (counts.get(h) ?? 0) + 1);
    }
    for (const [edge, n] of sent) {
      if (n === 0) continue;
      const field = figureField.edgeSent(edge);
      counts.set(field, (counts.get(field) ?? 0) + n);
    }
  }

  /** The partition skipped reading because the next stage was behind on these edges. */
  backpressured(edges: Iterable<string>): void {
    for (const e of edges) this.edgesBackpressured.add(e);
  }

  private parse(counter: string): [string, string] {
    // counterField: `n:<node>:<in|out|err>`
    const cut = counter.lastIndexOf(":");
    const node = counter.slice(2, cut);
    const parsed: [string, string] = [figureField.count(node, counter.slice(cut + 1) as "in"), node];
    this.fields.set(counter, parsed);
    return parsed;
  }

  /** Takes what accumulated: counts per second, and the gauges to write into the last complete second. */
  take(): { counts: Map<number, Map<string, number>>; gauges: Map<string, number> } {
    const counts = this.pending;
    this.pending = new Map();
    const gauges = new Map<string, number>();
    const p = this.task.partition;
    let g: TaskGauges;
    try {
      g = this.gauges();
    } catch {
      return { counts, gauges };
    }
    if (Number.isFinite(g.watermark) && g.watermark < END_OF_TIME) {
      for (const node of g.nodes) gauges.set(figureField.watermark(node, p), g.watermark);
    }
    for (const [node, n] of g.stateKeys) gauges.set(figureField.stateKeys(node, p), n);
    for (const [node, n] of Object.entries(g.inputLag ?? {})) gauges.set(figureField.inputLag(node, p), n);
    for (const [node, lag] of g.offsetLag) gauges.set(figureField.offsetLag(node, p, lag.unit), lag.value);
    for (const [edge, n] of g.backlog) {
      gauges.set(figureField.edgeBacklog(edge, p), n);
      gauges.set(figureField.edgeBackpressured(edge, p), this.edgesBackpressured.has(edge) ? 1 : 0);
    }
    this.edgesBackpressured.clear();
    return { counts, gauges };
  }
}

const STOP_WAIT_MS = 2000;

export interface NodeFigurePublisherOptions {
  redis: Redis;
  keys: Keys;
  log: EngineLogger;
  /** How long each second's hash lives (default FIGURES_TTL_MS). */
  ttlMs?: number;
}

export class NodeFigurePublisher {
  private readonly tasks = new Set<TaskFigures>();
  private timer: ReturnType<typeof setTimeout> | undefined;
  private flushing: Promise<void> | undefined;
  private stopped = false;
  private readonly ttlMs: number;

  constructor(private readonly options: NodeFigurePublisherOptions) {
    this.ttlMs = options.ttlMs ?? FIGURES_TTL_MS;
  }

  /** A partition starts: its figures are published until it closes them (and once more after). */
  open(task: TaskRef, gauges: () => TaskGauges): TaskFigures {
    const figures = new TaskFigures(task, gauges);
    this.tasks.add(figures);
    return figures;
  }

  start(): void {
    this.schedule();
  }

  /** Publishes what is left and stops; gives up after STOP_WAIT_MS when Redis is away (commands wait for it). */
  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    let timer: ReturnType<typeof setTimeout> | undefined;
    const gaveUp = new Promise<void>((resolve) => {
      timer = setTimeout(resolve, STOP_WAIT_MS);
    });
    await Promise.race([
      (async () => {
        await this.flushing;
        await this.flush();
      })(),
      gaveUp,
    ]);
    clearTimeout(timer);
  }

  private schedule(): void {
    if (this.stopped) return;
    // Just after the second turns, so a reader of the last complete second finds it whole.
    const wait = 1000 - (Date.now() % 1000) + 20;
    this.timer = setTimeout(() => {
      // A publish still waiting on Redis is not stacked on: its successor takes both seconds' figures.
      this.flushing ??= this.flush().finally(() => {
        this.flushing = undefined;
      });
      this.schedule();
    }, wait);
    this.timer.unref();
  }

  /** Writes every partition's figures; never throws. */
  async flush(): Promise<void> {
    const gaugeSec = Math.floor(Date.now() / 1000) - 1;
    const byRun = new Map<string, Map<number, { incr: Map<string, number>; set: Map<string, number> }>>();
    const slot = (runId: string, sec: number) => {
      const run = byRun.get(runId) ?? new Map<number, { incr: Map<string, number>; set: Map<string, number> }>();
      byRun.set(runId, run);
      const s = run.get(sec) ?? { incr: new Map<string, number>(), set: new Map<string, number>() };
      run.set(sec, s);
      return s;
    };
    for (const t of this.tasks) {
      if (t.closed) this.tasks.delete(t);
      const { counts, gauges } = t.take();
      for (const [sec, fields] of counts) {
        const { incr } = slot(t.task.runId, sec);
        for (const [f, n] of fields) incr.set(f, (incr.get(f) ?? 0) + n);
      }
      if (gauges.size > 0) {
        const { set } = slot(t.task.runId, gaugeSec);
        for (const [f, v] of gauges) set.set(f, v);
      }
    }
    if (byRun.size === 0) return;
    const { redis, keys, log } = this.options;
    const cluster = (redis as { isCluster?: boolean }).isCluster === true;
    let pipeline = redis.pipeline();
    const sends: Promise<unknown>[] = [];
    for (const [runId, seconds] of byRun) {
      for (const [sec, { incr, set }] of seconds) {
        const key = keys.runFigures(runId, sec);
        for (const [f, n] of incr) pipeline.hincrby(key, f, n);
        if (set.size > 0) pipeline.hset(key, set);
        pipeline.pexpire(key, this.ttlMs);
      }
      if (cluster) {
        sends.push(pipeline.exec());
        pipeline = redis.pipeline();
      }
    }
    if (!cluster) sends.push(pipeline.exec());
    try {
      await Promise.all(sends);
    } catch (err) {
      log.debug("node figures not published; dropping them", { error: errorMessage(err) });
    }
  }
}
