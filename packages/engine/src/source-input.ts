import type { RejectedRecord, SourceBatch, SourceReader } from "@sluice/nodes/runtime-contract";
import type { OffsetLag, OffsetLagUnit } from "@sluice/pipeline/control/node-figures";
import type { DataRecord } from "@sluice/pipeline/record-schema";
import type { BatchBudget } from "./batch-budget";
import { type EngineLogger, errorMessage } from "./engine-logger";
import type { FusedStage } from "./fused-stage";
import { sleep } from "./sleep";
import { type InputBatch, type InputRead, MAX_IDLE_SLEEP_MS, type TaskInput } from "./task-input";

// The input of a stage that starts at its sources: each batch reads a share of the batch from every source that
// has not ended, after the offset committed last, and pushes it into the fused chain. The offsets (and progress)
// each read reached are committed with the batch; the sources hear of it after the commit.

export const OFFSET_PREFIX = "o:";
const PROGRESS_PREFIX = "p:";

/** A source's event-time position: the highest event time it read, and when it last gave a record. */
interface SourceClock {
  maxEventTime: number;
  lastRecordAt: number;
}

interface SourceInputOptions {
  stage: FusedStage;
  budget: BatchBudget;
  batchSize: number;
  /** Event time lags the highest seen by this much (settings.maxOutOfOrder), in ms. */
  maxOutOfOrder: number;
  /** A source that gave nothing for this long no longer holds the watermark back (settings.idleTimeout). */
  idleTimeout: number | undefined;
  log: EngineLogger;
  taskId: string;
  /** Cuts the run's secrets out of a source's error before it is logged. */
  scrub?: (text: string) => string;
}

/** The longest a task waits, when it ends, for a read ahead still running before its sources are closed. */
const READ_AHEAD_SETTLE_MS = 2000;

export class SourceInput implements TaskInput {
  private readonly clocks = new Map<string, SourceClock>();
  /** The next batch of a source that reads ahead (SourceReader.readAhead), asked for when the last one came. */
  private readonly ahead = new Map<string, Promise<SourceBatch>>();
  /** The unit each source's offset lag came in, so a source that ended can say it has none left. */
  private readonly lagUnits = new Map<string, OffsetLagUnit>();

  constructor(private readonly o: SourceInputOptions) {
    for (const s of o.stage.sources) {
      this.clocks.set(s.nodeId, { maxEventTime: Number.NEGATIVE_INFINITY, lastRecordAt: Date.now() });
    }
  }

  async read({ set, now, bound, shutdown }: InputBatch): Promise<InputRead> {
    const { stage, budget } = this.o;
    const counts: Record<string, number> = {};
    let records = 0;
    let idleMs = MAX_IDLE_SLEEP_MS;
    const active = stage.sources.filter((s) => !s.ended);
    const share = Math.max(1, Math.floor(this.o.batchSize / Math.max(1, active.length)));
    for (const source of active) {
      const want = bound
        ? (bound.sources[source.nodeId] ?? 0)
        : budget.recordsFor(source.nodeId, share, active.length, source.reader.recordBytes);
      if (want === 0) continue;
      const early = this.ahead.get(source.nodeId);
      this.ahead.delete(source.nodeId);
      // A batch is bound only on a task's first read, before anything was read ahead.
      const batch = bound
        ? await readExactly(source.reader, want, shutdown, this.o.log, this.o.taskId)
        : await (early ?? source.reader.read(want, shutdown));
      counts[source.nodeId] = batch.records.length + (batch.rejected?.length ?? 0);
      const n = batch.records.length;
      budget.observe(source.nodeId, batch.records);
      if (n > 0) {
        const clock = this.clocks.get(source.nodeId)!;
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
      records += n;
      if (batch.idleMs !== undefined) idleMs = Math.min(idleMs, batch.idleMs);
      if (batch.end) source.ended = true;
      // The next batch is read while this one is processed, written and committed. A failed read ahead fails the
      // batch that takes it, as a read made then would have.
      else if (source.reader.readAhead && n > 0 && !shutdown.aborted) {
        const more = budget.recordsFor(source.nodeId, share, active.length, source.reader.recordBytes);
        const next = source.reader.read(more, shutdown);
        next.catch(() => {});
        this.ahead.set(source.nodeId, next);
      }
      if (n > 0 || rejected > 0 || batch.end) {
        source.offset = batch.offset;
        set[`${OFFSET_PREFIX}${source.nodeId}`] = JSON.stringify(batch.offset);
        if (batch.progress) set[`${PROGRESS_PREFIX}${source.nodeId}`] = JSON.stringify(batch.progress);
      }
    }
    return {
      records,
      ended: stage.sources.every((s) => s.ended),
      idleMs,
      extent: { sources: counts, upstreams: {} },
    };
  }

  drained(): boolean {
    return true;
  }

  /** Waits (a while) for reads ahead still running, so that sources are not closed under them. */
  async settle(): Promise<void> {
    if (this.ahead.size === 0) return;
    const reads = Promise.allSettled(this.ahead.values());
    this.ahead.clear();
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([reads, new Promise((r) => (timer = setTimeout(r, READ_AHEAD_SETTLE_MS)))]);
    clearTimeout(timer);
  }

  watermark(now: number, held: number): { value: number; idle: boolean } {
    const { stage, idleTimeout, maxOutOfOrder } = this.o;
    let min = Number.POSITIVE_INFINITY;
    let active = 0;
    for (const s of stage.sources) {
      if (s.ended) continue;
      const clock = this.clocks.get(s.nodeId)!;
      if (idleTimeout !== undefined && now - clock.lastRecordAt > idleTimeout) continue;
      active++;
      // Without an event-time field the source's time is the time its records arrive.
      const wm = s.eventTimeField === undefined ? now - maxOutOfOrder : clock.maxEventTime - maxOutOfOrder;
      if (wm < min) min = wm;
    }
    if (active === 0 && stage.sources.some((s) => !s.ended)) return { value: held, idle: true };
    return { value: min, idle: false };
  }

  async committed(): Promise<void> {
    for (const source of this.o.stage.sources) {
      if (source.reader.committed && source.offset !== null) await source.reader.committed(source.offset);
    }
  }

  quietWait(idleMs: number, pollMs: number): number {
    return Math.min(Math.max(idleMs, 1), pollMs);
  }

  busy(): void {}

  /** A source's own backlog is its offset lag (below), not an input lag. */
  lag(): Promise<undefined> {
    return Promise.resolve(undefined);
  }

  /**
   * Every source's offset lag that its reader can tell, asked of all at once. A source that ended has nothing left
   * (0, once it has said its unit); one whose ask failed is left out (logged at debug), so that second shows no
   * figure for it rather than a wrong one.
   */
  async offsetLag(): Promise<Map<string, OffsetLag>> {
    const out = new Map<string, OffsetLag>();
    await Promise.all(
      this.o.stage.sources.map(async (s) => {
        if (!s.reader.offsetLag) return;
        const unit = this.lagUnits.get(s.nodeId);
        if (s.ended) {
          if (unit) out.set(s.nodeId, { value: 0, unit });
          return;
        }
        try {
          const lag = await s.reader.offsetLag();
          if (!lag || !Number.isFinite(lag.value)) return;
          this.lagUnits.set(s.nodeId, lag.unit);
          out.set(s.nodeId, { value: Math.max(0, lag.value), unit: lag.unit });
        } catch (err) {
          const error = (this.o.scrub ?? String)(errorMessage(err));
          this.o.log.debug("offset lag not sampled", { task: this.o.taskId, node: s.nodeId, error });
        }
      }),
    );
    return out;
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
