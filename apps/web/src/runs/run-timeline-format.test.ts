import { describe, expect, it } from "vitest";
import { describeRunEvent, type TimelineEvent } from "./run-timeline-format";

const at = 1_765_000_000_000;
const event = (e: Omit<TimelineEvent, "id" | "at">): TimelineEvent => ({ id: `${at}-0`, at, ...e });

describe("timeline lines", () => {
  it("says what a restart did, from its last commit or from scratch", () => {
    expect(describeRunEvent(event({ kind: "restarted", generation: 2, reset: false })).text).toBe(
      "Restarted from its last commit (attempt 2).",
    );
    expect(describeRunEvent(event({ kind: "restarted", generation: 3, reset: true })).text).toBe(
      "Restarted from scratch (attempt 3): every partition's state was cleared.",
    );
  });

  it("names the partition and the workers of a takeover", () => {
    const line = describeRunEvent(
      event({ kind: "takeover", stage: 1, partition: 3, worker: "w2", previousWorker: "w1" }),
    );
    expect(line).toEqual({
      text: "Worker w2 took over partition 3 of stage 1 after worker w1 stopped while holding it.",
      tone: "warn",
      mark: "worker",
    });
  });

  it("names a retry's partition and attempt, and marks failures as bad", () => {
    expect(describeRunEvent(event({ kind: "retry", stage: 0, partition: 1, attempt: 4, error: "x" })).text).toBe(
      "Partition 1 of stage 0 failed and is tried again (attempt 4).",
    );
    expect(describeRunEvent(event({ kind: "failed", error: "boom" })).tone).toBe("bad");
    expect(describeRunEvent(event({ kind: "dead-letter-limit", stage: 0, partition: 0 })).text).toBe(
      "Partition 0 of stage 0 reached the dead-letter limit (settings.deadLetterLimit); the run is failed.",
    );
  });

  it("says who did what with dead letters, how many and how", () => {
    expect(describeRunEvent(event({ kind: "dead-letters-replayed", by: "Ann", count: 1200, scope: "all" })).text).toBe(
      "Ann replayed 1,200 dead letters (all).",
    );
    expect(
      describeRunEvent(
        event({ kind: "dead-letters-fixed", by: "Ann", count: 5, scope: "selected", fix: "price = 1", replayed: true }),
      ).text,
    ).toBe("Ann fixed 5 dead letters (selected) with `price = 1` and replayed them.");
    const discard = describeRunEvent(
      event({ kind: "dead-letters-discarded", by: "Bo", count: 1, scope: "selected", reason: "test rows" }),
    );
    expect(discard).toEqual({
      text: "Bo discarded 1 dead letter (selected): test rows.",
      tone: "warn",
      mark: "discard",
    });
  });
});
