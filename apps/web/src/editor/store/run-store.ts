import type { RunFiguresView } from "@sluice/pipeline/control/node-figures";
import type { NodeCounters, RunSnapshot } from "@sluice/pipeline/control/protocol";
import { isActive as isActiveStatus, type RunStatus } from "@sluice/pipeline/control/run-status";
import { createStore, type StoreApi } from "zustand/vanilla";
import { type NodeCondition, type NodeTrack, nextOverlay, type OverlayGraph } from "../canvas/live-overlay";

// The editor's current run and its live figures, in a store of their own beside the document's (editor-store.ts):
// a snapshot arrives every second while a run goes, and none of it is part of the draft, so undo/redo, the dirty
// flag and the browser-kept draft never see it. One per open editor, handed down with the document's store.

export interface EditorRun {
  id: string;
  /** The engine's lower-case status. */
  status: RunStatus;
  counters: Record<string, NodeCounters>;
  error: string | null;
}

export interface RunState {
  run: EditorRun | null;
  /**
   * The newest second of the active run's figures (runs.figures), node figures under the draft's ids; null when no
   * run is active: an ended run shows its final counters and no rates.
   */
  figures: LiveFigures | null;
  /** What the overlay remembers of each node between seconds (see live-overlay.ts). */
  tracks: Readonly<Record<string, NodeTrack>>;
  /** The nodes that stand out this second, by draft id. */
  conditions: Readonly<Record<string, NodeCondition>>;
  /** Node ids renamed in the draft since the run started, new → old: their counters show under the new name. */
  renamed: Readonly<Record<string, string>>;
  /**
   * The past moment the overlay shows (the time scrubber, dock/time-scrubber.tsx), null when it shows live figures.
   * While set, `figures` holds that moment's and live seconds go to `liveFigures`, so "Live" returns at once.
   */
  scrubbed: { runId: string; at: number } | null;
  liveFigures: LiveFigures | null;
  liveConditions: Readonly<Record<string, NodeCondition>>;
  setRun(run: EditorRun | null): void;
  /** Takes a live snapshot of the current run (one of another run is ignored). */
  applySnapshot(snapshot: RunSnapshot): void;
  /** Takes a second of the current run's figures, classified against the draft's graph (another run's is ignored). */
  applyFigures(view: RunFiguresView, graph: OverlayGraph): void;
  /** A node of the draft was renamed: keep showing the run's counters (keyed by the old id) under the new one. */
  renameNode(from: string, to: string): void;
  /** Shows a past moment's figures of a run (from its history) in place of live ones. */
  showMoment(moment: { runId: string; at: number }, figures: LiveFigures): void;
  /** Back to live figures. */
  showLive(): void;
}

export type RunStore = StoreApi<RunState>;

export type LiveFigures = Omit<RunFiguresView, "runId">;

const NO_FIGURES = { figures: null, tracks: {}, conditions: {}, liveFigures: null, liveConditions: {} } as const;

/** What the end of live figures clears; a scrubbed moment's figures stay on show. */
function noLiveFigures(scrubbed: RunState["scrubbed"]): Partial<RunState> {
  return scrubbed ? { tracks: {}, liveFigures: null, liveConditions: {} } : NO_FIGURES;
}

/** Whether the run is under way (paused included): its pipeline cannot start another. */
export function isActive(run: EditorRun | null): boolean {
  return run !== null && isActiveStatus(run.status);
}

/** The counters with each renamed node's figures also under its new id (the old id stays, for an undo). */
function withRenames<T>(counters: Record<string, T>, renamed: Readonly<Record<string, string>>): Record<string, T> {
  let out = counters;
  for (const [to, from] of Object.entries(renamed)) {
    const figures = counters[from];
    if (figures && counters[to] !== figures) {
      if (out === counters) out = { ...counters };
      out[to] = figures;
    }
  }
  return out;
}

export function createRunStore(): RunStore {
  return createStore<RunState>()((set, get) => ({
    run: null,
    ...NO_FIGURES,
    renamed: {},
    scrubbed: null,
    setRun(run) {
      const { renamed } = get();
      const sameRun = run !== null && run.id === get().run?.id;
      // Renames are relative to the run's pipeline version: a new run starts from the draft's ids.
      const nextRenamed = sameRun ? renamed : {};
      set({
        run: run && { ...run, counters: withRenames(run.counters, nextRenamed) },
        renamed: nextRenamed,
        ...(sameRun && isActiveStatus(run.status) ? {} : noLiveFigures(get().scrubbed)),
      });
    },
    applySnapshot(snapshot) {
      const { run, renamed } = get();
      if (!run || run.id !== snapshot.runId) return;
      set({
        run: { ...run, status: snapshot.status, counters: withRenames(snapshot.nodes, renamed), error: snapshot.error },
        // Rates of an ended run would be stale: its final counters stay, the rates go.
        ...(isActiveStatus(snapshot.status) ? {} : noLiveFigures(get().scrubbed)),
      });
    },
    applyFigures(view, graph) {
      const { run, renamed, tracks } = get();
      if (!run || run.id !== view.runId || !isActiveStatus(run.status)) return;
      const nodes = withRenames(view.nodes, renamed);
      const figures = { sec: view.sec, nodes, edges: view.edges };
      const overlay = nextOverlay(tracks, figures, graph, run.status === "running");
      if (get().scrubbed) set({ liveFigures: figures, liveConditions: overlay.conditions, tracks: overlay.tracks });
      else set({ figures, ...overlay });
    },
    renameNode(from, to) {
      if (from === to) return;
      const { run, renamed, figures } = get();
      // A node renamed twice still maps to the id the run knows it by.
      const original = renamed[from] ?? from;
      const next = { ...renamed, [to]: original };
      set({
        renamed: next,
        run: run && { ...run, counters: withRenames(run.counters, next) },
        figures: figures && { ...figures, nodes: withRenames(figures.nodes, next) },
      });
    },
    showMoment(moment, figures) {
      const { run, scrubbed, figures: shown, conditions, renamed } = get();
      // Renames are relative to the current run; another run's figures show under the ids it had.
      const nodes = run?.id === moment.runId ? withRenames(figures.nodes, renamed) : figures.nodes;
      set({
        scrubbed: moment,
        figures: { ...figures, nodes },
        // A past moment is not classified: stalled or lagging is about now.
        conditions: {},
        ...(scrubbed ? {} : { liveFigures: shown, liveConditions: conditions }),
      });
    },
    showLive() {
      const { scrubbed, liveFigures, liveConditions } = get();
      if (!scrubbed) return;
      set({ scrubbed: null, figures: liveFigures, conditions: liveConditions, liveFigures: null, liveConditions: {} });
    },
  }));
}
