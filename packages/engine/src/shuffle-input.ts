import type { Redis } from "ioredis";
import type { BatchBudget } from "./batch-budget";
import type { FusedStage } from "./fused-stage";
import type { ShuffleReader } from "./shuffle-reader";
import { type InputBatch, type InputRead, MAX_IDLE_SLEEP_MS, type TaskInput } from "./task-input";

// The input of a stage fed by shuffles: each batch reads the entries after the committed position of every
// upstream (producer partition) and hands their records to the nodes the shuffles lead to. Positions are committed
// with the batch; the consumed entries are trimmed from the streams after the commit.
//
// A partition that found nothing does not poll: its next read waits in Redis (XREAD BLOCK on all its upstreams, on
// a connection of its own) until an entry arrives, so an idle or paced run costs a wake-up per entry, not per
// millisecond. It waits at most BLOCK_MS so that the loop still looks at the run's control, its timers and its
// watermark. On a cluster the upstreams live in different slots and cannot be waited for together: there it polls,
// backing off while nothing arrives.

/**
 * Consumed entries are trimmed from the streams at most this often, or once one stream holds this many: a trim per
 * batch would be a round trip per batch, and the producers' backlog check (XLEN against maxShuffleBacklog, 48 by
 * default) still sees streams that are short.
 */
const TRIM_EVERY_MS = 1000;
const TRIM_AFTER_ENTRIES = 16;

/** The longest a read waits for an entry before the loop takes its turn (control, timers, watermark). */
const BLOCK_MS = 100;

export class ShuffleInput implements TaskInput {
  /** The wait after a quiet batch, doubling while nothing arrives (cluster only: see above). */
  private idleSleep = 1;
  /**
   * The next read waits for an entry: the last one found nothing, or it waited and took a small batch (entries
   * trickle in, as in a paced run). A read that fills a batch sends the next one straight back.
   */
  private waitNext = false;
  /** The connection reads wait on, opened the first time one does; closed with settle(). */
  private blocking: Redis | undefined;
  private settled = false;
  /** When consumed entries were last trimmed. */
  private trimmedAt = 0;
  /** The last wait failed: the loop sleeps before reading again. */
  private waitFailed = false;

  constructor(
    private readonly redis: Redis,
    private readonly reader: ShuffleReader,
    private readonly stage: FusedStage,
    private readonly budget: BatchBudget,
    private readonly batchSize: number,
  ) {}

  async read({ set, bound, shutdown }: InputBatch): Promise<InputRead> {
    const { reader, stage, budget } = this;
    const perUpstream = budget.entriesFor(Math.max(1, Math.ceil(this.batchSize / 256)), reader.upstreams.length);
    const waited = this.canWait(bound, shutdown) && this.waitNext;
    const batches = waited
      ? await this.waitForEntries(perUpstream, shutdown)
      : await reader.read(this.redis, perUpstream, bound?.upstreams);
    this.waitNext = batches.length === 0 || (waited && batches.every((b) => b.entries.length < perUpstream));
    let records = 0;
    for (const { upstream, entries } of batches) {
      for (const { id, entry } of entries) {
        if (entry.records.length > 0) {
          stage.enter(upstream.shuffle.toNode, upstream.shuffle.toPort, entry.records);
          budget.observeEntry(entry.records);
        }
        records += entry.records.length;
        reader.advance(upstream, id, entry);
      }
    }
    Object.assign(set, reader.positions());
    return {
      records,
      ended: reader.allEnded,
      idleMs: MAX_IDLE_SLEEP_MS,
      extent: { sources: {}, upstreams: reader.extent() },
    };
  }

  /** Whether reads may wait in Redis for entries (one node; not while a recorded batch is read again). */
  private canWait(bound: InputBatch["bound"], shutdown: AbortSignal): boolean {
    return !bound && !this.redis.isCluster && !this.settled && !shutdown.aborted;
  }

  /** Entries after the committed positions, waiting up to BLOCK_MS for the first to arrive. */
  private async waitForEntries(perUpstream: number, shutdown: AbortSignal) {
    const { reader, redis } = this;
    if (!this.blocking) {
      this.blocking = redis.duplicate({ connectionName: "sluice-shuffle-wait", lazyConnect: false });
      // Errors surface on the read that waits (and the next batch reads on the shared connection again).
      this.blocking.on("error", () => {});
    }
    const client = this.blocking;
    // A shutdown must not wait out the block: closing the connection ends it at once.
    const onAbort = () => client.disconnect();
    shutdown.addEventListener("abort", onAbort, { once: true });
    try {
      const batches = await reader.read(redis, perUpstream, undefined, { client, ms: BLOCK_MS });
      // Nothing came for a while: a good moment to drop what was consumed.
      if (batches.length === 0 && reader.pendingTrim > 0) {
        this.trimmedAt = Date.now();
        await reader.trim(redis);
      }
      return batches;
    } catch {
      // The wait failed (the connection closed on shutdown, or went away): the loop takes its turn and sleeps
      // before the next read waits again, so a connection that keeps failing is not asked in a tight loop.
      this.waitFailed = true;
      return [];
    } finally {
      shutdown.removeEventListener("abort", onAbort);
    }
  }

  /** The task ends: the connection reads waited on is closed. */
  async settle(): Promise<void> {
    this.settled = true;
    const client = this.blocking;
    this.blocking = undefined;
    if (client) client.disconnect();
  }

  drained(generation: number): boolean {
    return this.reader.allStopped(generation);
  }

  watermark(): { value: number; idle: boolean } {
    const idle = this.reader.upstreams.every((u) => u.ended || u.idle);
    return { value: this.reader.watermark(), idle };
  }

  async committed(): Promise<void> {
    const { reader } = this;
    reader.committed();
    const now = Date.now();
    if (reader.pendingTrim === 0) return;
    if (reader.pendingTrim < TRIM_AFTER_ENTRIES && now - this.trimmedAt < TRIM_EVERY_MS && !reader.allEnded) return;
    this.trimmedAt = now;
    await reader.trim(this.redis);
  }

  quietWait(): number {
    // The read already waited in Redis for an entry: read again at once.
    if (!this.redis.isCluster && !this.waitFailed) return 0;
    this.waitFailed = false;
    const wait = this.idleSleep;
    this.idleSleep = Math.min(this.idleSleep * 2, MAX_IDLE_SLEEP_MS);
    return wait;
  }

  busy(): void {
    this.idleSleep = 1;
  }

  /** Entries waiting in the streams of the upstreams still open, per node they feed. */
  async lag(): Promise<Record<string, number>> {
    const open = this.reader.upstreams.filter((u) => !u.ended);
    const lengths = await Promise.all(open.map((u) => this.redis.xlen(u.key)));
    const out: Record<string, number> = {};
    open.forEach((u, i) => {
      out[u.shuffle.toNode] = (out[u.shuffle.toNode] ?? 0) + lengths[i]!;
    });
    return out;
  }
}
