import { emptySchema } from "@sluice/pipeline/record-schema";
import type { TransformRuntime } from "../runtime-contract";
import { NodeConfigError } from "../runtime-expressions";
import { resolveTimeField } from "../stateful/event-time";
import { GroupKey } from "../stateful/group-key";
import { LateRecordError, lateRecord, readEventTime } from "../stateful/late-record";
import { OperatorClock } from "../stateful/operator-clock";
import { TimerQueue } from "../stateful/timer-queue";
import { type DedupeConfig, DUPLICATES_PORT, LATE_PORT } from "./dedupe.def";

// State: store "seen", key → expiry (the first record's time + within); store "clock" (see OperatorClock). A key
// is forgotten when the clock passes expiry + allowed lateness; the queue of those times is rebuilt on start.

export const dedupeRuntime: TransformRuntime<DedupeConfig> = {
  kind: "transform",
  type: "transform.dedupe",
  create(ctx) {
    const c = ctx.config;
    const eventTime = c.time === "event";
    const lateness = eventTime ? c.allowedLateness : 0;
    const timeField = eventTime ? resolveTimeField(c.timeField, ctx.inputs.in ?? emptySchema, ctx.settings) : "";
    if (timeField === undefined) {
      throw new NodeConfigError(ctx.nodeId, "timeField", "the input has no event-time field; set timeField");
    }
    const key = new GroupKey(ctx, "in", c.key, "key");
    const clock = new OperatorClock(ctx.state<number>("clock"));
    const seen = ctx.state<number>("seen");
    const forget = new TimerQueue();
    for (const [k, expiry] of seen.entries()) forget.add(expiry + lateness, k);
    const passDuplicates = c.duplicates === "output";

    const forgetThrough = (limit: number) => forget.drain(limit, (_time, k) => seen.delete(k));

    const onTick = (now: number) => {
      const time = clock.now(now);
      const next = forget.peek();
      // Committed only when it forgets something, so idle partitions do not commit every second.
      if (next === undefined || next > time) return;
      clock.reached(time);
      forgetThrough(time);
    };

    return {
      ...(eventTime ? {} : { onTick }),
      process(record, emit) {
        const time = eventTime ? readEventTime(record, timeField) : clock.now();
        const k = key.text(record);
        const expiry = seen.get(k);
        if (expiry !== undefined && time < expiry) {
          if (passDuplicates) emit(record, DUPLICATES_PORT);
          return;
        }
        if (expiry === undefined && eventTime && time < clock.watermark - lateness) {
          lateRecord(
            c.late,
            LATE_PORT,
            emit,
            record,
            () =>
              new LateRecordError(
                timeField,
                time,
                clock.watermark,
                lateness,
                "an earlier record of its key that it may duplicate may already be forgotten, so it cannot be checked",
              ),
          );
          return;
        }
        if (expiry !== undefined) forget.delete(expiry + lateness, k);
        seen.set(k, time + c.within);
        forget.add(time + c.within + lateness, k);
        emit(record);
      },
      onWatermark(watermark) {
        if (eventTime && clock.advance(watermark)) forgetThrough(watermark);
      },
    };
  },
};
