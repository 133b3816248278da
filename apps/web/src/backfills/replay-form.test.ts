import { describe, expect, it } from "vitest";
import { localInput, localTime, replayChoice } from "./replay-form";

describe("replay form", () => {
  it("turns local times into epoch ms and back", () => {
    const ms = localTime("2024-05-01T12:30:15");
    expect(ms).toBe(new Date(2024, 4, 1, 12, 30, 15).getTime());
    expect(localInput(ms!)).toBe("2024-05-01T12:30:15");
    expect(localTime("yesterday")).toBeUndefined();
  });

  it("makes bounds by time, with an optional end", () => {
    const r = replayChoice({ by: "time", from: "2024-05-01T12:00", to: "" });
    expect(r).toEqual({ ok: true, choice: { from: { time: new Date(2024, 4, 1, 12).getTime() } } });
  });

  it("makes bounds by offset, trimmed", () => {
    expect(replayChoice({ by: "offset", from: " 1700000000000-0 ", to: "1700000009000-0" })).toEqual({
      ok: true,
      choice: { from: { offset: "1700000000000-0" }, to: { offset: "1700000009000-0" } },
    });
  });

  it("names each field that is wrong", () => {
    expect(replayChoice({ by: "offset", from: "", to: "" })).toEqual({
      ok: false,
      from: "give the offset to start at",
    });
    expect(replayChoice({ by: "time", from: "2024-05-02T00:00", to: "2024-05-01T00:00" })).toEqual({
      ok: false,
      to: "the end is before the start",
    });
    expect(replayChoice({ by: "time", from: "soon", to: "" })).toEqual({ ok: false, from: "choose a date and time" });
  });
});
