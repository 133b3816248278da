import type { NodeFigureView, RunFiguresView } from "@sluice/pipeline/control/node-figures";
import type { RunSnapshot } from "@sluice/pipeline/control/protocol";
import { emptyDefinition } from "@sluice/pipeline/definition";
import { describe, expect, it } from "vitest";
import { overlayGraph } from "../canvas/live-overlay";
import { runtime } from "../editor-runtime";
import { createEditorStore, isDirty } from "./editor-store";
import { createRunStore, isActive } from "./run-store";

function definition() {
  const def = emptyDefinition("live");
  def.spec.nodes.push(
    { id: "gen", type: "source.generator", config: { rate: 10 }, ui: { x: 0, y: 0 } },
    { id: "out", type: "sink.console", config: {}, ui: { x: 300, y: 0 } },
  );
  def.spec.edges.push({ from: "gen", to: "out" });
  return def;
}

function snapshot(runId: string, inGen: number, status: RunSnapshot["status"] = "running"): RunSnapshot {
  return {
    runId,
    status,
    error: null,
    delivery: null,
    tasks: { total: 2, done: 0 },
    nodes: { gen: { in: 0, out: inGen, errors: 0 }, out: { in: inGen, out: 0, errors: 0 } },
    progress: null,
    watermark: null,
    retrying: [],
    startedAt: 1,
    finishedAt: null,
    at: 2,
  };
}

describe("the run store", () => {
  it("takes live updates without touching the document's undo history or dirty flag", () => {
    const editor = createEditorStore(runtime, {
      id: "p1",
      name: "live",
      version: { number: 1, definition: definition() },
    });
    const runs = createRunStore();
    editor.getState().setConfigValue("gen", "rate", 20);
    const before = editor.getState();
    expect(before.canUndo).toBe(true);
    expect(isDirty(before)).toBe(true);

    runs.getState().setRun({ id: "r1", status: "queued", counters: {}, error: null });
    runs.getState().applySnapshot(snapshot("r1", 5));
    runs.getState().applySnapshot(snapshot("r1", 9));

    const after = editor.getState();
    expect(after).toBe(before); // not one field of the document's state changed
    expect(runs.getState().run?.counters.out).toEqual({ in: 9, out: 0, errors: 0 });
    expect(isActive(runs.getState().run)).toBe(true);

    // Undo takes back the config edit, and the run's figures stay as they are.
    editor.getState().undo();
    expect(editor.getState().canUndo).toBe(false);
    expect(isDirty(editor.getState())).toBe(false);
    expect(runs.getState().run?.counters.gen?.out).toBe(9);
  });

  it("ignores a snapshot of another run", () => {
    const runs = createRunStore();
    runs.getState().setRun({ id: "r1", status: "running", counters: {}, error: null });
    runs.getState().applySnapshot(snapshot("r0", 5, "stopped"));
    expect(runs.getState().run).toEqual({ id: "r1", status: "running", counters: {}, error: null });
  });

  it("keeps a renamed node's counters under its new id through later snapshots, and under the old for an undo", () => {
    const runs = createRunStore();
    runs.getState().setRun({ id: "r1", status: "running", counters: {}, error: null });
    runs.getState().renameNode("out", "console");
    runs.getState().renameNode("console", "sink");
    runs.getState().applySnapshot(snapshot("r1", 4));
    const counters = runs.getState().run?.counters;
    expect(counters?.sink).toEqual({ in: 4, out: 0, errors: 0 });
    expect(counters?.out).toEqual({ in: 4, out: 0, errors: 0 });
    // A new run starts from the draft's ids.
    runs.getState().setRun({ id: "r2", status: "queued", counters: {}, error: null });
    expect(runs.getState().renamed).toEqual({});
  });

  it("keeps the active run's figures apart from the document, and drops the rates when the run ends", () => {
    const editor = createEditorStore(runtime, {
      id: "p1",
      name: "live",
      version: { number: 1, definition: definition() },
    });
    const before = editor.getState();
    const runs = createRunStore();
    const graph = overlayGraph(editor.getState().edges, 0);
    runs.getState().setRun({ id: "r1", status: "running", counters: {}, error: null });
    runs.getState().renameNode("out", "sink");
    runs.getState().applyFigures(figures("r0", 100, 7), graph); // another run's
    expect(runs.getState().figures).toBeNull();

    runs.getState().applyFigures(figures("r1", 100, 7), graph);
    expect(runs.getState().figures?.nodes.gen?.outPerSec).toBe(7);
    expect(runs.getState().figures?.nodes.sink?.inPerSec).toBe(7); // under the renamed id too
    expect(runs.getState().tracks.gen?.activeSec).toBe(100);
    expect(editor.getState()).toBe(before);

    // Upstream gives out records, `out` takes none for 10 seconds: it stands out as stalled.
    for (let sec = 101; sec <= 110; sec++) runs.getState().applyFigures(figures("r1", sec, 7, 0), graph);
    expect(runs.getState().conditions).toEqual({ out: "stalled" });

    // The run ends: its final counters stay, the rates and conditions go, and later figures are not taken.
    runs.getState().applySnapshot(snapshot("r1", 9, "completed"));
    expect(runs.getState().run?.counters.out?.in).toBe(9);
    expect(runs.getState().figures).toBeNull();
    expect(runs.getState().conditions).toEqual({});
    runs.getState().applyFigures(figures("r1", 111, 7), graph);
    expect(runs.getState().figures).toBeNull();
  });

  it("shows a scrubbed moment in place of live figures, keeps taking live seconds, and returns to them", () => {
    const runs = createRunStore();
    const graph = overlayGraph([], 0);
    runs.getState().setRun({ id: "r1", status: "running", counters: {}, error: null });
    runs.getState().renameNode("out", "sink");
    runs.getState().applyFigures(figures("r1", 100, 7), graph);

    const { runId: _, ...past } = figures("r1", 50, 3);
    runs.getState().showMoment({ runId: "r1", at: 50_000 }, past);
    expect(runs.getState().scrubbed).toEqual({ runId: "r1", at: 50_000 });
    expect(runs.getState().figures?.nodes.gen?.outPerSec).toBe(3);
    expect(runs.getState().figures?.nodes.sink?.inPerSec).toBe(3); // renames apply to the current run's moments
    expect(runs.getState().conditions).toEqual({});

    // Live seconds keep coming while scrubbed, beside the shown moment.
    runs.getState().applyFigures(figures("r1", 101, 9), graph);
    expect(runs.getState().figures?.sec).toBe(50);
    expect(runs.getState().liveFigures?.nodes.gen?.outPerSec).toBe(9);

    // The run ends: the moment stays on show; "Live" then shows no rates.
    runs.getState().applySnapshot(snapshot("r1", 9, "completed"));
    expect(runs.getState().figures?.sec).toBe(50);
    runs.getState().showLive();
    expect(runs.getState().scrubbed).toBeNull();
    expect(runs.getState().figures).toBeNull();
  });

  it("returns from a moment to the newest live second", () => {
    const runs = createRunStore();
    const graph = overlayGraph([], 0);
    runs.getState().setRun({ id: "r1", status: "running", counters: {}, error: null });
    const { runId: _, ...past } = figures("r0", 50, 3);
    runs.getState().showMoment({ runId: "r0", at: 50_000 }, past);
    runs.getState().applyFigures(figures("r1", 102, 4), graph);
    runs.getState().showLive();
    expect(runs.getState().figures?.sec).toBe(102);
    expect(runs.getState().figures?.nodes.gen?.outPerSec).toBe(4);
  });
});

function rate(inPerSec: number, outPerSec: number): NodeFigureView {
  return {
    inPerSec,
    outPerSec,
    errPerSec: 0,
    totalIn: 0,
    totalOut: 0,
    totalErr: 0,
    p50Ms: 1,
    p99Ms: 2,
    watermark: null,
    watermarkLagMs: null,
    stateKeys: null,
    inputLag: null,
    offsetLag: null,
    offsetLagUnit: null,
  };
}

/** One second in which `gen` gives out `perSec` records and `out` takes `outTakes` of them. */
function figures(runId: string, sec: number, perSec: number, outTakes = perSec): RunFiguresView {
  return { runId, sec, nodes: { gen: rate(0, perSec), out: rate(outTakes, 0) }, edges: {} };
}
