import { type DataRecord, emptySchema } from "@sluice/pipeline/record-schema";
import { setField } from "../record-fields";
import type { Emit, JsonValue, RuntimeContext, StateStore, TransformRuntime } from "../runtime-contract";
import { NodeConfigError } from "../runtime-expressions";
import { resolveTimeField } from "../stateful/event-time";
import { GroupKey, keyText } from "../stateful/group-key";
import { formatTime, LateRecordError, lateRecord, readEventTime } from "../stateful/late-record";
import { OperatorClock } from "../stateful/operator-clock";
import { Panes } from "../stateful/panes";
import { TimerQueue } from "../stateful/timer-queue";
import { JOIN_TIME, type JoinConfig, joinLayout, LATE_PORTS } from "./join.def";

// State: stores "left" and "right", one entry per buffered record under its arrival number (fixed-width base 36,
// so text order is arrival order): [key, time, record] and, on the left, what it matched — 0/1 in an interval
// join, the ends of the windows it matched in for a window join. Store "clock" keeps the watermark and the
// arrival counter. The per-key index and the expiry timers are rebuilt from the stores on start.

type Side = "left" | "right";
type Entry = JsonValue[];
const E_KEY = 0;
const E_TIME = 1;
const E_RECORD = 2;
const E_MATCHED = 3;

function arrivalKey(sequence: number): string {
  return sequence.toString(36).padStart(11, "0");
}

/** One side's buffered records: in a state store, indexed by key in arrival order, with expiry timers. */
class JoinBuffer {
  readonly timers = new TimerQueue();
  private readonly byKey = new Map<string, Map<string, Entry>>();

  constructor(readonly store: StateStore<Entry>) {
    const entries = [...store.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    for (const [id, entry] of entries) this.index(id, entry);
  }

  private index(id: string, entry: Entry): void {
    const k = entry[E_KEY] as string;
    let bucket = this.byKey.get(k);
    if (!bucket) {
      bucket = new Map();
      this.byKey.set(k, bucket);
    }
    bucket.set(id, entry);
  }

  entries(): IterableIterator<[string, Entry]> {
    return this.store.entries();
  }

  add(id: string, entry: Entry, expiry: number): void {
    this.store.set(id, entry);
    this.index(id, entry);
    this.timers.add(expiry, id);
  }

  delete(id: string, entry: Entry): void {
    this.store.delete(id);
    const k = entry[E_KEY] as string;
    const bucket = this.byKey.get(k);
    bucket?.delete(id);
    if (bucket?.size === 0) this.byKey.delete(k);
  }

  /** The buffered records of key `k`, in arrival order. */
  withKey(k: string): Iterable<[string, Entry]> {
    return this.byKey.get(k) ?? [];
  }
}

class JoinOperator {
  private readonly clock: OperatorClock;
  private readonly buffers: Record<Side, JoinBuffer>;
  private readonly keys: Record<Side, GroupKey>;
  private readonly timeFields: Record<Side, string>;
  private readonly lateness: number;
  private readonly lower: number;
  private readonly upper: number;
  private readonly panes: Panes | undefined;
  private readonly outer: boolean;
  private readonly rightNames: ReadonlyMap<string, string>;
  private readonly added: ReadonlySet<string>;
  private readonly prefix: string;
  private readonly late: JoinConfig["late"];

  constructor(ctx: RuntimeContext<JoinConfig>) {
    const c = ctx.config;
    const left = ctx.inputs.left ?? emptySchema;
    const right = ctx.inputs.right ?? emptySchema;
    const timeField = (side: Side) => {
      const name = resolveTimeField(c.timeField[side], side === "left" ? left : right, ctx.settings);
      if (name === undefined) {
        throw new NodeConfigError(ctx.nodeId, `timeField.${side}`, `the ${side} input has no event-time field`);
      }
      return name;
    };
    this.timeFields = { left: timeField("left"), right: timeField("right") };
    this.keys = {
      left: new GroupKey(ctx, "left", c.on.left, "on.left"),
      right: new GroupKey(ctx, "right", c.on.right, "on.right"),
    };
    this.clock = new OperatorClock(ctx.state<number>("clock"));
    this.lateness = c.allowedLateness;
    this.lower = c.between?.lower ?? 0;
    this.upper = c.between?.upper ?? 0;
    this.panes = c.type === "window" && c.window !== undefined ? new Panes(c.window) : undefined;
    this.outer = c.kind === "left";
    this.late = c.late;
    this.prefix = c.rightPrefix;
    const layout = joinLayout(c, left, right);
    this.rightNames = layout.rightNames;
    this.added = new Set(layout.added);
    this.buffers = {
      left: new JoinBuffer(ctx.state<Entry>("left")),
      right: new JoinBuffer(ctx.state<Entry>("right")),
    };
    for (const side of ["left", "right"] as const) {
      for (const [id, entry] of this.buffers[side].entries()) {
        this.buffers[side].timers.add(this.expiry(side, entry, this.clock.watermark), id);
      }
    }
  }

  /**
   * When a buffered record can no longer match (timers of interval joins fire strictly after it, of window joins
   * at it). A left record of a window left join comes up at each window's close, to emit its NULL row.
   */
  private expiry(side: Side, entry: Entry, closed: number): number {
    const time = entry[E_TIME] as number;
    const panes = this.panes;
    if (!panes) return side === "left" ? time + this.upper + this.lateness : time - this.lower + this.lateness;
    const firstEnd = panes.firstEnd(time);
    const lastEnd = firstEnd + (panes.count(time) - 1) * panes.every;
    if (side === "right" || !this.outer) return lastEnd + this.lateness;
    let end = firstEnd;
    while (end < lastEnd && end + this.lateness <= closed) end += panes.every;
    return end + this.lateness;
  }

  process(record: DataRecord, emit: Emit, side: Side): void {
    const time = readEventTime(record, this.timeFields[side]);
    const closed = this.clock.watermark;
    const panes = this.panes;
    const tooLate = panes ? panes.firstEnd(time) + this.lateness <= closed : time < closed - this.lateness;
    if (tooLate) {
      const consequence = panes
        ? `its window [${formatTime(panes.firstEnd(time) - panes.size)}, ${formatTime(panes.firstEnd(time))}) was already closed`
        : "records it could have matched may already be gone";
      lateRecord(
        this.late,
        LATE_PORTS[side],
        emit,
        record,
        () => new LateRecordError(this.timeFields[side], time, closed, this.lateness, consequence),
      );
      return;
    }
    const values = this.keys[side].values(record);
    if (values.includes(null)) {
      // A NULL key matches nothing; only a left join has something to say about such a record, at once.
      if (side === "left" && this.outer) this.emitUnmatched(emit, record, time, undefined);
      return;
    }
    const k = keyText(values);
    const id = arrivalKey(this.clock.nextSequence());
    const entry: Entry = [k, time, record as JsonValue];
    if (side === "left") entry.push(panes ? [] : 0);
    const other = side === "left" ? this.buffers.right : this.buffers.left;
    for (const [otherId, o] of other.withKey(k)) {
      const [l, r] = side === "left" ? [entry, o] : [o, entry];
      // What a buffered left record matched decides its NULL rows in a left join, so it is state.
      if (this.matchPair(emit, l, r) && side === "right" && this.outer) other.store.set(otherId, o);
    }
    const expiry = this.expiry(side, entry, closed);
    if (!panes && expiry < closed) {
      // Nothing that is not late can match it any more (an interval entirely before the watermark).
      if (side === "left" && this.outer && entry[E_MATCHED] === 0) this.emitUnmatched(emit, record, time, undefined);
      return;
    }
    this.buffers[side].add(id, entry, expiry);
  }

  /**
   * Emits the pair (once per shared window in a window join) and notes the match on the left entry; true when
   * that note changed.
   */
  private matchPair(emit: Emit, l: Entry, r: Entry): boolean {
    const lt = l[E_TIME] as number;
    const rt = r[E_TIME] as number;
    const lr = l[E_RECORD] as DataRecord;
    const rr = r[E_RECORD] as DataRecord;
    const panes = this.panes;
    if (!panes) {
      if (rt < lt + this.lower || rt > lt + this.upper) return false;
      emit(this.row(lr, rr, { [JOIN_TIME]: Math.max(lt, rt) }));
      if (l[E_MATCHED] === 1) return false;
      l[E_MATCHED] = 1;
      return true;
    }
    const from = Math.max(panes.firstEnd(lt), panes.firstEnd(rt));
    const to = Math.min(
      panes.firstEnd(lt) + (panes.count(lt) - 1) * panes.every,
      panes.firstEnd(rt) + (panes.count(rt) - 1) * panes.every,
    );
    if (from > to) return false;
    const matched = l[E_MATCHED] as number[];
    let changed = false;
    for (let end = from; end <= to; end += panes.every) {
      emit(this.row(lr, rr, { window_start: end - panes.size, window_end: end, window_time: end - 1 }));
      if (!matched.includes(end)) {
        matched.push(end);
        changed = true;
      }
    }
    return changed;
  }

  /** Left fields, then right fields (renamed where they clash), then the join's own fields. */
  private row(l: DataRecord, r: DataRecord | undefined, added: Record<string, number>): DataRecord {
    const out: DataRecord = {};
    for (const f in l) if (Object.hasOwn(l, f)) setField(out, f, l[f]);
    if (r === undefined) {
      for (const name of this.rightNames.values()) out[name] = null;
    } else {
      for (const f in r) {
        if (!Object.hasOwn(r, f)) continue;
        const name = this.rightNames.get(f) ?? (Object.hasOwn(out, f) || this.added.has(f) ? `${this.prefix}${f}` : f);
        setField(out, name, r[f]);
      }
    }
    for (const f in added) out[f] = added[f];
    return out;
  }

  /** A left record's row with NULL right fields: for an interval join, or for window `end`. */
  private emitUnmatched(emit: Emit, l: DataRecord, time: number, end: number | undefined): void {
    const panes = this.panes;
    if (!panes) {
      emit(this.row(l, undefined, { [JOIN_TIME]: time + Math.max(this.upper, 0) }));
    } else if (end !== undefined) {
      emit(this.row(l, undefined, { window_start: end - panes.size, window_end: end, window_time: end - 1 }));
    } else {
      const firstEnd = panes.firstEnd(time);
      for (let i = 0; i < panes.count(time); i++) this.emitUnmatched(emit, l, time, firstEnd + i * panes.every);
    }
  }

  onWatermark(watermark: number, emit: Emit): void {
    if (!this.clock.advance(watermark)) return;
    const strict = this.panes === undefined;
    const left = this.buffers.left;
    left.timers.drain(
      watermark,
      (due, id) => {
        const entry = left.store.get(id);
        if (entry !== undefined) this.expireLeft(emit, id, entry, due, watermark);
      },
      strict,
    );
    const right = this.buffers.right;
    right.timers.drain(
      watermark,
      (_due, id) => {
        const entry = right.store.get(id);
        if (entry !== undefined) right.delete(id, entry);
      },
      strict,
    );
  }

  private expireLeft(emit: Emit, id: string, entry: Entry, due: number, watermark: number): void {
    const left = this.buffers.left;
    const panes = this.panes;
    const record = entry[E_RECORD] as DataRecord;
    const time = entry[E_TIME] as number;
    if (!panes || !this.outer) {
      if (this.outer && entry[E_MATCHED] === 0) this.emitUnmatched(emit, record, time, undefined);
      left.delete(id, entry);
      return;
    }
    // Window left join: each window closed for good since `due` gets its NULL row if nothing matched in it.
    const matched = entry[E_MATCHED] as number[];
    const firstEnd = panes.firstEnd(time);
    const count = panes.count(time);
    let next: number | undefined;
    for (let i = 0; i < count; i++) {
      const end = firstEnd + i * panes.every;
      if (end + this.lateness < due) continue;
      if (end + this.lateness > watermark) {
        next = end + this.lateness;
        break;
      }
      if (!matched.includes(end)) this.emitUnmatched(emit, record, time, end);
    }
    if (next === undefined) left.delete(id, entry);
    else left.timers.add(next, id);
  }
}

export const joinRuntime: TransformRuntime<JoinConfig> = {
  kind: "transform",
  type: "transform.join",
  create(ctx) {
    const join = new JoinOperator(ctx);
    return {
      process: (record, emit, port) => {
        if (port !== "left" && port !== "right") throw new Error(`transform.join has no input "${port}"`);
        join.process(record, emit, port);
      },
      onWatermark: (watermark, emit) => join.onWatermark(watermark, emit),
      onEnd: (emit) => join.onWatermark(Number.POSITIVE_INFINITY, emit),
    };
  },
};
