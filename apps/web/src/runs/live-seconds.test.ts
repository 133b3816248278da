import type { RunFiguresView } from "@sluice/pipeline/control/node-figures";
import { describe, expect, it } from "vitest";
import { addSecond, withLiveSeconds } from "./live-seconds";

const view = (sec: number): RunFiguresView => ({ runId: "r", sec, nodes: {}, edges: {} });
const secs = (list: readonly RunFiguresView[]) => list.map((s) => s.sec);

describe("addSecond", () => {
  it("keeps seconds in order, each once, replayed ones put in their place", () => {
    let kept: RunFiguresView[] = [];
    for (const s of [100, 101, 105, 106]) kept = addSecond(kept, view(s), 900);
    // Back after a drop: the server replays 102–104, then goes on live; 105 comes again and replaces itself.
    for (const s of [102, 103, 104, 105, 107]) kept = addSecond(kept, view(s), 900);
    expect(secs(kept)).toEqual([100, 101, 102, 103, 104, 105, 106, 107]);
  });

  it("drops seconds older than the span kept", () => {
    let kept: RunFiguresView[] = [];
    for (const s of [1, 2, 3, 4, 5]) kept = addSecond(kept, view(s), 3);
    expect(secs(kept)).toEqual([3, 4, 5]);
    expect(secs(addSecond(kept, view(2), 3))).toEqual([3, 4, 5]);
  });
});

describe("withLiveSeconds", () => {
  const history = { label: "in", t: [0, 10_000, 20_000], values: [1, 2, 3] };
  const live = (from: number, to: number, skip: number[] = []) =>
    Array.from({ length: to - from + 1 }, (_, i) => from + i)
      .filter((s) => !skip.includes(s))
      .map((s) => ({ t: s * 1000, value: s }));

  it("appends the seconds after the history's last bucket, with no gap where they meet", () => {
    const line = withLiveSeconds(history, live(25, 32), 10_000);
    expect(line.t).toEqual([0, 10_000, 20_000, 30_000, 31_000, 32_000]);
    expect(line.values).toEqual([1, 2, 3, 30, 31, 32]);
  });

  it("shows a hole neither history nor the live seconds cover as a gap, not a line across it", () => {
    // Disconnected from 33 to 36 s, and the history, read again, ends at its 20 s bucket still.
    const line = withLiveSeconds(history, live(30, 40, [33, 34, 35, 36]), 10_000);
    expect(line.t).toEqual([0, 10_000, 20_000, 30_000, 31_000, 32_000, 33_000, 37_000, 38_000, 39_000, 40_000]);
    expect(line.values).toEqual([1, 2, 3, 30, 31, 32, null, 37, 38, 39, 40]);
  });

  it("leaves a hole the refetched history has filled to the history", () => {
    const refetched = { label: "in", t: [0, 10_000, 20_000, 30_000], values: [1, 2, 3, 4] };
    const line = withLiveSeconds(refetched, live(30, 42, [33, 34, 35, 36]), 10_000);
    expect(line.t).toEqual([0, 10_000, 20_000, 30_000, 40_000, 41_000, 42_000]);
    expect(line.values).toEqual([1, 2, 3, 4, 40, 41, 42]);
  });

  it("marks a gap between the history's end and live seconds that start later", () => {
    const line = withLiveSeconds(history, live(45, 46), 10_000);
    expect(line.t).toEqual([0, 10_000, 20_000, 30_000, 45_000, 46_000]);
    expect(line.values).toEqual([1, 2, 3, null, 45, 46]);
  });

  it("draws live seconds alone when there is no history yet", () => {
    const line = withLiveSeconds({ label: "in", t: [], values: [] }, live(5, 6), 10_000);
    expect(line.t).toEqual([5000, 6000]);
  });
});
