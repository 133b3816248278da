import { compileExpression } from "@sluice/pipeline/expr/compile";
import { type DataRecord, emptySchema } from "@sluice/pipeline/record-schema";
import { setField } from "../record-fields";
import type { Emit, JsonValue, TransformRuntime } from "../runtime-contract";
import { NodeConfigError, runtimeCompileOptions, unwrapCompiled } from "../runtime-expressions";
import { resolveTimeField } from "../stateful/event-time";
import { GroupKey, keyText } from "../stateful/group-key";
import { formatTime, LateRecordError, lateRecord, readEventTime } from "../stateful/late-record";
import { OperatorClock } from "../stateful/operator-clock";
import { keyPart, Panes, stateKey, timePart } from "../stateful/panes";
import { TimerQueue } from "../stateful/timer-queue";
import { INHERITED_WINDOW_FIELDS, LATE_PORT, type TopNConfig } from "./topn.def";

// State: store "top", `${paneEnd}/${key}` → the pane's best candidates so far, at most N, best first, each
// [rank value, arrival number, record]; the top N of a window is the top N of its panes' candidates. Store
// "clock" keeps the watermark and the arrival counter that breaks ties (see OperatorClock). Timers are rebuilt
// from the stores on start.

type Candidate = [value: JsonValue, sequence: number, record: JsonValue];

const TYPE_ORDER: Record<string, number> = { boolean: 0, number: 1, string: 2 };

/** A total order on rank values: by type (boolean, number, string, other), then by value. */
function compareValues(a: JsonValue, b: JsonValue): number {
  const ta = TYPE_ORDER[typeof a] ?? 3;
  const tb = TYPE_ORDER[typeof b] ?? 3;
  if (ta !== tb) return ta - tb;
  if (ta === 3) {
    const ja = JSON.stringify(a);
    const jb = JSON.stringify(b);
    return ja < jb ? -1 : ja > jb ? 1 : 0;
  }
  return (a as number) < (b as number) ? -1 : (a as number) > (b as number) ? 1 : 0;
}

/** Best first: by value in the configured direction with NULLs last, then by arrival. */
function rankOrder(descending: boolean) {
  return (a: Candidate, b: Candidate): number => {
    const va = a[0];
    const vb = b[0];
    if (va === null || vb === null) {
      if (va !== vb) return va === null ? 1 : -1;
    } else {
      const c = compareValues(va, vb);
      if (c !== 0) return descending ? -c : c;
    }
    return a[1] - b[1];
  };
}

/** JSON has no NaN or infinities; a value that would not survive a failover as itself ranks as NULL. */
function rankValue(v: unknown): JsonValue {
  if (v === undefined || (typeof v === "number" && !Number.isFinite(v))) return null;
  return v as JsonValue;
}

/** Inserts `candidate` into `list` (best first, at most `n`); false when it does not make the cut. */
function insertCandidate(
  list: Candidate[],
  candidate: Candidate,
  n: number,
  order: (a: Candidate, b: Candidate) => number,
) {
  if (list.length >= n && order(candidate, list[n - 1]!) >= 0) return false;
  let i = list.length;
  while (i > 0 && order(candidate, list[i - 1]!) < 0) i--;
  list.splice(i, 0, candidate);
  if (list.length > n) list.length = n;
  return true;
}

/** The output row: the record's fields, then `added` (same-named fields keep their place, the rest are appended). */
function rankedRow(record: DataRecord, added: DataRecord): DataRecord {
  const out: DataRecord = {};
  for (const field in record) if (Object.hasOwn(record, field)) setField(out, field, record[field]);
  for (const field in added) out[field] = added[field];
  return out;
}

export const topnRuntime: TransformRuntime<TopNConfig> = {
  kind: "transform",
  type: "transform.topn",
  create(ctx) {
    const c = ctx.config;
    const inherited = c.window === undefined;
    const timeField = inherited
      ? INHERITED_WINDOW_FIELDS[1]
      : resolveTimeField(c.timeField, ctx.inputs.in ?? emptySchema, ctx.settings);
    if (timeField === undefined) {
      throw new NodeConfigError(ctx.nodeId, "timeField", "the input has no event-time field; set timeField");
    }
    const key = new GroupKey(ctx, "in", c.key, "key");
    const orderBy = unwrapCompiled(compileExpression(c.orderBy, runtimeCompileOptions(ctx, "in")), ctx, "orderBy");
    const order = rankOrder(c.descending);
    const n = c.n;
    const lateness = c.allowedLateness;
    const clock = new OperatorClock(ctx.state<number>("clock"));
    const store = ctx.state<Candidate[]>("top");
    const fire = new TimerQueue();
    const expire = new TimerQueue();

    // With a window configured: panes of it, keyed `${paneEnd}/${key}`. Without: the record's own window, keyed
    // `${window_end}/${[window_start, ...key]}` (its one pane).
    const panes = c.window !== undefined ? new Panes(c.window) : undefined;
    const schedule = (end: number, group: string) => {
      if (panes) panes.schedule(fire, expire, end, group, clock.watermark, lateness);
      else {
        if (end > clock.watermark) fire.add(end, group);
        expire.add(end + lateness, stateKey(end, group));
      }
    };
    for (const k of store.keys()) schedule(timePart(k), keyPart(k));

    const emitWindow = (emit: Emit, end: number, group: string) => {
      if (!panes) {
        const list = store.get(stateKey(end, group)) ?? [];
        for (const [i, cand] of list.entries()) emit(rankedRow(cand[2] as DataRecord, { rank: i + 1 }));
        return;
      }
      const lists: Candidate[][] = [];
      for (const paneEnd of panes.panesOf(end)) {
        const list = store.get(stateKey(paneEnd, group));
        if (list !== undefined) lists.push(list);
      }
      const top = lists.length === 1 ? lists[0]! : lists.flat().sort(order).slice(0, n);
      const start = end - panes.size;
      top.forEach((cand, i) => {
        emit(
          rankedRow(cand[2] as DataRecord, { rank: i + 1, window_start: start, window_end: end, window_time: end - 1 }),
        );
      });
    };

    const closeThrough = (limit: number, emit: Emit) => {
      fire.drain(limit, (end, group) => emitWindow(emit, end, group));
      expire.drain(limit, (_time, k) => store.delete(k));
    };

    return {
      process(record, emit) {
        const time = readEventTime(record, timeField);
        const closed = clock.watermark;
        // The earliest window holding the record, and how many windows (every `every`) hold it.
        let firstEnd: number;
        let count: number;
        let every = 0;
        let paneEnd: number;
        let group: string;
        if (panes) {
          firstEnd = panes.firstEnd(time);
          count = panes.count(time);
          every = panes.every;
          paneEnd = panes.paneEnd(time);
          group = key.text(record);
        } else {
          firstEnd = paneEnd = time;
          count = 1;
          group = keyText([readEventTime(record, INHERITED_WINDOW_FIELDS[0]), ...key.values(record)]);
        }
        if (firstEnd + lateness <= closed) {
          const window = panes
            ? `[${formatTime(firstEnd - panes.size)}, ${formatTime(firstEnd)})`
            : `ending ${formatTime(firstEnd)}`;
          lateRecord(
            c.late,
            LATE_PORT,
            emit,
            record,
            () => new LateRecordError(timeField, time, closed, lateness, `its window ${window} was already closed`),
          );
          return;
        }
        const candidate: Candidate = [rankValue(orderBy.evaluate(record)), clock.nextSequence(), record as JsonValue];
        const k = stateKey(paneEnd, group);
        const list = store.get(k);
        if (list === undefined) {
          store.set(k, [candidate]);
          schedule(paneEnd, group);
        } else if (insertCandidate(list, candidate, n, order)) {
          store.set(k, list);
        } else {
          // Not better than the pane's Nth: in no window holding the pane can it make the top N.
          return;
        }
        // Windows that fired already (the record is within the allowed lateness) emit their new ranking now.
        for (let i = 0, end = firstEnd; i < count && end <= closed; i++, end += every) emitWindow(emit, end, group);
      },
      onWatermark(watermark, emit) {
        if (clock.advance(watermark)) closeThrough(watermark, emit);
      },
      onEnd(emit) {
        clock.advance(Number.POSITIVE_INFINITY);
        closeThrough(Number.POSITIVE_INFINITY, emit);
      },
    };
  },
};
