import { type DataRecord, emptySchema } from "@sluice/pipeline/record-schema";
import type {
  Emit,
  JsonValue,
  OperatorInstance,
  RuntimeContext,
  StateStore,
  TransformRuntime,
} from "../runtime-contract";
import { NodeConfigError } from "../runtime-expressions";
import { AggregateSet } from "../stateful/aggregate-set";
import { resolveTimeField } from "../stateful/event-time";
import { GroupKey, keyValues } from "../stateful/group-key";
import { formatTime, LateRecordError, lateRecord, readEventTime } from "../stateful/late-record";
import { OperatorClock } from "../stateful/operator-clock";
import { byTimeThenKey, keyPart, Panes, stateKey, timePart } from "../stateful/panes";
import { TimerQueue } from "../stateful/timer-queue";
import type { FixedWindows, SessionWindows } from "../stateful/window-spec";
import { FINAL_FIELD, keyItemName, keyItemSource, LATE_PORT, type WindowConfig } from "./window.def";

// Keyed window aggregation. State (committed with every batch, reloaded on a takeover):
// - tumbling and hopping windows, store "panes": `${paneEnd}/${key}` → accumulators (see Panes: a record updates
//   one entry however many windows overlap, and a window's result merges its panes);
// - sessions, store "sessions": key → [[start, end, ...accumulators], …], the key's sessions by start;
// - store "clock": the last watermark and processing time (see OperatorClock);
// - with early results, store "early": what changed since the last early results, and when those went out.
// Whether a window has fired follows from the clock (its end is at or before it), so entries carry no status.
// The timer queues that say what closes when are rebuilt from the stores on start, so a watermark touches only
// the windows it closes.

type Row = JsonValue[];

/** Key of the early-results store that holds when they were last emitted; no state key is empty. */
const LAST_EARLY = "";

function isDue(timers: TimerQueue, time: number): boolean {
  const next = timers.peek();
  return next !== undefined && next <= time;
}

abstract class WindowOperator implements OperatorInstance {
  protected readonly clock: OperatorClock;
  /** Open windows by end. */
  protected readonly fire = new TimerQueue();
  /** Fired windows by end + allowed lateness. */
  protected readonly expire = new TimerQueue();
  /**
   * With early results, store "early": the state keys changed since the last early results (→ 1), and under ""
   * when those were emitted (processing time), so a takeover continues the same early results.
   */
  private readonly changed: StateStore<number> | undefined;
  protected readonly key: GroupKey;
  protected readonly aggregates: AggregateSet;
  protected readonly eventTime: boolean;
  protected readonly lateness: number;
  protected readonly early: number | undefined;
  private readonly timeField: string;
  private readonly keyNames: readonly string[];
  private readonly late: WindowConfig["late"];

  constructor(ctx: RuntimeContext<WindowConfig>) {
    const c = ctx.config;
    this.clock = new OperatorClock(ctx.state<number>("clock"));
    this.key = new GroupKey(ctx, "in", c.key.map(keyItemSource), "key");
    this.keyNames = c.key.map((item, i) => keyItemName(item) ?? `key${i + 1}`);
    this.aggregates = new AggregateSet(ctx, "in", c.aggregates, "aggregates");
    this.eventTime = c.time === "event";
    this.lateness = this.eventTime ? c.allowedLateness : 0;
    this.late = c.late;
    this.early = c.emitEarly;
    this.changed = c.emitEarly !== undefined ? ctx.state<number>("early") : undefined;
    const timeField = this.eventTime ? resolveTimeField(c.timeField, ctx.inputs.in ?? emptySchema, ctx.settings) : "";
    if (timeField === undefined) {
      throw new NodeConfigError(ctx.nodeId, "timeField", "the input has no event-time field; set timeField");
    }
    this.timeField = timeField;
  }

  /** Windows that end at or before this have fired: the watermark, or the processing clock. */
  protected get closedThrough(): number {
    return this.eventTime ? this.clock.watermark : this.clock.processingTime;
  }

  process(record: DataRecord, emit: Emit): void {
    const time = this.eventTime ? readEventTime(record, this.timeField) : this.clock.now();
    this.place(record, time, emit);
  }

  onWatermark(watermark: number, emit: Emit): void {
    if (!this.eventTime) {
      if (watermark === Number.POSITIVE_INFINITY) this.closeThrough(watermark, emit);
      return;
    }
    if (this.clock.advance(watermark)) this.closeThrough(watermark, emit);
  }

  onTick(now: number, emit: Emit): void {
    if (!this.eventTime) {
      const time = this.clock.now(now);
      // The clock is committed only when it closes something: that is what must not be undone by a new owner
      // whose wall clock is behind. (Committing it every second would make idle partitions commit every second.)
      if (isDue(this.fire, time) || isDue(this.expire, time)) {
        this.clock.reached(time);
        this.closeThrough(time, emit);
      }
    }
    const every = this.early;
    const last = this.changed?.get(LAST_EARLY);
    if (this.changed !== undefined && every !== undefined && (last === undefined || now - last >= every)) {
      this.changed.set(LAST_EARLY, now);
      this.emitEarly(emit);
    }
  }

  onEnd(emit: Emit): void {
    if (this.eventTime) this.clock.advance(Number.POSITIVE_INFINITY);
    this.closeThrough(Number.POSITIVE_INFINITY, emit);
  }

  private closeThrough(limit: number, emit: Emit): void {
    this.fire.drain(limit, (end, key) => this.fireWindow(end, key, limit, emit));
    this.expire.drain(limit, (time, key) => this.expireWindow(time, key));
  }

  /** Notes (with early results on) that the state under `stateKey` changed. */
  protected markChanged(stateKey: string): void {
    if (this.changed !== undefined && !this.changed.has(stateKey)) this.changed.set(stateKey, 1);
  }

  protected forgetChanged(stateKey: string): void {
    this.changed?.delete(stateKey);
  }

  /** The state keys changed since the last early results, sorted; forgets them. */
  protected takeChanged(): string[] {
    if (this.changed === undefined) return [];
    const keys = [...this.changed.keys()].filter((k) => k !== LAST_EARLY).sort();
    for (const k of keys) this.changed.delete(k);
    return keys;
  }

  protected rejectLate(record: DataRecord, time: number, emit: Emit, consequence: string): void {
    lateRecord(
      this.late,
      LATE_PORT,
      emit,
      record,
      () => new LateRecordError(this.timeField, time, this.clock.watermark, this.lateness, consequence),
    );
  }

  /** A result row: key fields, window bounds, aggregates (and `final` with early results). */
  protected emitRow(emit: Emit, keyText: string, start: number, end: number, row: Row, offset: number, final: boolean) {
    const out: DataRecord = {};
    const values = keyValues(keyText);
    for (let i = 0; i < this.keyNames.length; i++) out[this.keyNames[i]!] = values[i];
    out.window_start = start;
    out.window_end = end;
    out.window_time = end - 1;
    this.aggregates.results(out, row, offset);
    if (this.early !== undefined) out[FINAL_FIELD] = final;
    emit(out);
  }

  protected abstract place(record: DataRecord, time: number, emit: Emit): void;
  protected abstract fireWindow(end: number, stateKey: string, limit: number, emit: Emit): void;
  protected abstract expireWindow(time: number, stateKey: string): void;
  protected abstract emitEarly(emit: Emit): void;
}

/** Tumbling and hopping windows, accumulated per pane and key. */
class FixedWindowOperator extends WindowOperator {
  private readonly store: StateStore<Row>;
  private readonly panes: Panes;

  constructor(ctx: RuntimeContext<WindowConfig>, windows: FixedWindows) {
    super(ctx);
    this.panes = new Panes(windows);
    this.store = ctx.state<Row>("panes");
    for (const key of this.store.keys()) {
      this.panes.schedule(this.fire, this.expire, timePart(key), keyPart(key), this.closedThrough, this.lateness);
    }
  }

  protected place(record: DataRecord, time: number, emit: Emit): void {
    const panes = this.panes;
    const closed = this.closedThrough;
    const firstEnd = panes.firstEnd(time);
    if (this.eventTime && firstEnd + this.lateness <= closed) {
      const window = `[${formatTime(firstEnd - panes.size)}, ${formatTime(firstEnd)})`;
      this.rejectLate(record, time, emit, `its window ${window} was already closed`);
      return;
    }
    const keyText = this.key.text(record);
    this.aggregates.check(record);
    const paneEnd = panes.paneEnd(time);
    const key = stateKey(paneEnd, keyText);
    const existing = this.store.get(key);
    const row = existing ?? this.aggregates.init([]);
    this.aggregates.add(row, 0, record);
    this.store.set(key, row);
    if (existing === undefined) panes.schedule(this.fire, this.expire, paneEnd, keyText, closed, this.lateness);
    this.markChanged(key);
    // Windows that fired already (the record is within the allowed lateness) emit their updated result now.
    const n = panes.count(time);
    for (let i = 0, end = firstEnd; i < n && end <= closed; i++, end += panes.every) {
      this.emitWindow(emit, end, keyText, true);
    }
  }

  /** Merges the key's panes of the window ending at `end` into its result row, if it holds any record. */
  private emitWindow(emit: Emit, end: number, keyText: string, final: boolean): void {
    let acc: Row | undefined;
    for (const paneEnd of this.panes.panesOf(end)) {
      const row = this.store.get(stateKey(paneEnd, keyText));
      if (row !== undefined) acc = acc === undefined ? row : this.aggregates.merge(acc, row, 0);
    }
    if (acc !== undefined) this.emitRow(emit, keyText, end - this.panes.size, end, acc, 0, final);
  }

  protected fireWindow(end: number, keyText: string, _limit: number, emit: Emit): void {
    this.emitWindow(emit, end, keyText, true);
  }

  protected expireWindow(_time: number, key: string): void {
    this.store.delete(key);
    this.forgetChanged(key);
  }

  protected emitEarly(emit: Emit): void {
    const closed = this.closedThrough;
    const windows = new Set<string>();
    for (const key of this.takeChanged()) {
      for (const end of this.panes.openWindows(timePart(key), closed)) windows.add(stateKey(end, keyPart(key)));
    }
    for (const window of [...windows].sort(byTimeThenKey))
      this.emitWindow(emit, timePart(window), keyPart(window), false);
  }
}

/** [start, end, ...accumulators]: start is the first record's time, end the last one's plus the gap. */
type Session = JsonValue[];
const S_START = 0;
const S_END = 1;
const S_ACCS = 2;

const startOf = (s: Session) => s[S_START] as number;
const endOf = (s: Session) => s[S_END] as number;

/** Session windows: a key's sessions are one state entry, merged when a record bridges them. */
class SessionWindowOperator extends WindowOperator {
  private readonly store: StateStore<Session[]>;

  constructor(
    ctx: RuntimeContext<WindowConfig>,
    private readonly windows: SessionWindows,
  ) {
    super(ctx);
    this.store = ctx.state<Session[]>("sessions");
    for (const [keyText, sessions] of this.store.entries()) {
      for (const s of sessions) this.schedule(s, keyText);
    }
  }

  /** An open session fires at its end; a fired one is kept for the allowed lateness. */
  private schedule(s: Session, keyText: string): void {
    const end = endOf(s);
    if (end <= this.closedThrough) this.expire.add(end + this.lateness, keyText);
    else this.fire.add(end, keyText);
  }

  private unschedule(s: Session, keyText: string): void {
    const end = endOf(s);
    if (end <= this.closedThrough) this.expire.delete(end + this.lateness, keyText);
    else this.fire.delete(end, keyText);
  }

  protected place(record: DataRecord, time: number, emit: Emit): void {
    const closed = this.closedThrough;
    // Once the watermark is more than the allowed lateness past a record, a session it would have joined may be
    // gone already, so it cannot be placed correctly.
    if (this.eventTime && time < closed - this.lateness) {
      this.rejectLate(record, time, emit, "a session it belongs to may already be closed");
      return;
    }
    const keyText = this.key.text(record);
    this.aggregates.check(record);
    const sessions = this.store.get(keyText) ?? [];
    const end = time + this.windows.gap;
    const hits: Session[] = [];
    const rest: Session[] = [];
    for (const s of sessions) {
      if (startOf(s) < end && time < endOf(s)) hits.push(s);
      else rest.push(s);
    }
    let merged: Session;
    if (hits.length === 0) {
      merged = this.aggregates.init([time, end]);
      this.aggregates.add(merged, S_ACCS, record);
    } else {
      // Earlier sessions first: first() and last() take merge's first argument as the earlier window.
      merged = hits[0]!;
      for (let i = 1; i < hits.length; i++) merged = [0, 0, ...this.aggregates.merge(merged, hits[i]!, S_ACCS)];
      this.aggregates.add(merged, S_ACCS, record);
      for (const s of hits) this.unschedule(s, keyText);
      merged[S_START] = Math.min(time, ...hits.map(startOf));
      merged[S_END] = Math.max(end, ...hits.map(endOf));
    }
    this.schedule(merged, keyText);
    rest.push(merged);
    rest.sort((a, b) => startOf(a) - startOf(b));
    this.store.set(keyText, rest);
    if (endOf(merged) <= closed) {
      // Fired already, and this record is within the allowed lateness: the updated result goes out now.
      this.emitRow(emit, keyText, startOf(merged), endOf(merged), merged, S_ACCS, true);
    } else {
      this.markChanged(keyText);
    }
  }

  protected fireWindow(end: number, keyText: string, limit: number, emit: Emit): void {
    const sessions = this.store.get(keyText);
    const i = sessions?.findIndex((s) => endOf(s) === end) ?? -1;
    if (sessions === undefined || i < 0) return;
    const s = sessions[i]!;
    this.emitRow(emit, keyText, startOf(s), end, s, S_ACCS, true);
    if (end + this.lateness > limit) this.expire.add(end + this.lateness, keyText);
    else {
      sessions.splice(i, 1);
      this.save(keyText, sessions);
    }
  }

  protected expireWindow(time: number, keyText: string): void {
    const sessions = this.store.get(keyText);
    const i = sessions?.findIndex((s) => endOf(s) + this.lateness === time) ?? -1;
    if (sessions === undefined || i < 0) return;
    sessions.splice(i, 1);
    this.save(keyText, sessions);
  }

  protected emitEarly(emit: Emit): void {
    const closed = this.closedThrough;
    for (const keyText of this.takeChanged()) {
      for (const s of this.store.get(keyText) ?? []) {
        if (endOf(s) > closed) this.emitRow(emit, keyText, startOf(s), endOf(s), s, S_ACCS, false);
      }
    }
  }

  private save(keyText: string, sessions: Session[]): void {
    if (sessions.length > 0) this.store.set(keyText, sessions);
    else this.store.delete(keyText);
  }
}

export const windowRuntime: TransformRuntime<WindowConfig> = {
  kind: "transform",
  type: "transform.window",
  create(ctx) {
    const w = ctx.config.window;
    const op = w.kind === "session" ? new SessionWindowOperator(ctx, w) : new FixedWindowOperator(ctx, w);
    const ticks = ctx.config.time === "processing" || ctx.config.emitEarly !== undefined;
    // The engine calls onTick only on operators that have it: event-time windows without early results do not.
    return {
      process: (record, emit) => op.process(record, emit),
      onWatermark: (watermark, emit) => op.onWatermark(watermark, emit),
      ...(ticks ? { onTick: (now: number, emit: Emit) => op.onTick(now, emit) } : {}),
      onEnd: (emit) => op.onEnd(emit),
    };
  },
};
