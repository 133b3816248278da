import { describe, expect, it } from "vitest";
import { sparklinePath } from "./sparkline-path";

describe("sparklinePath", () => {
  it("scales to the largest value, bottom to top", () => {
    expect(sparklinePath([0, 5, 10], 100, 22)).toBe("M0 21 L50 11 L100 1");
  });

  it("leaves a gap for nulls and starts again after them", () => {
    expect(sparklinePath([null, 2, null, 2], 30, 12)).toBe("M10 1 M30 1");
  });

  it("draws a flat line at the bottom for a run that moves nothing", () => {
    expect(sparklinePath([0, 0], 10, 10)).toBe("M0 9 L10 9");
  });

  it("draws nothing for no points", () => {
    expect(sparklinePath([], 10, 10)).toBe("");
  });
});
