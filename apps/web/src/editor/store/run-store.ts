import type { NodeCounters, RunSnapshot } from "@sluice/pipeline/control/protocol";
import { isActive as isActiveStatus, type RunStatus } from "@sluice/pipeline/control/run-status";
import { createStore, type StoreApi } from "zustand/vanilla";

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
  /** Node ids renamed in the draft since the run started, new → old: their counters show under the new name. */
  renamed: Readonly<Record<string, string>>;
  setRun(run: EditorRun | null): void;
  /** Takes a live snapshot of the current run (one of another run is ignored). */
  applySnapshot(snapshot: RunSnapshot): void;
  /** A node of the draft was renamed: keep showing the run's counters (keyed by the old id) under the new one. */
  renameNode(from: string, to: string): void;
}

export type RunStore = StoreApi<RunState>;

/** Whether the run is under way (paused included): its pipeline cannot start another. */
export function isActive(run: EditorRun | null): boolean {
  return run !== null && isActiveStatus(run.status);
}

/** The counters with each renamed node's figures also under its new id (the old id stays, for an undo). */
function withRenames(
  counters: Record<string, NodeCounters>,
  renamed: Readonly<Record<string, string>>,
): Record<string, NodeCounters> {
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
    renamed: {},
    setRun(run) {
      const { renamed } = get();
      const sameRun = run !== null && run.id === get().run?.id;
      // Renames are relative to the run's pipeline version: a new run starts from the draft's ids.
      const nextRenamed = sameRun ? renamed : {};
      set({ run: run && { ...run, counters: withRenames(run.counters, nextRenamed) }, renamed: nextRenamed });
    },
    applySnapshot(snapshot) {
      const { run, renamed } = get();
      if (!run || run.id !== snapshot.runId) return;
      set({
        run: { ...run, status: snapshot.status, counters: withRenames(snapshot.nodes, renamed), error: snapshot.error },
      });
    },
    renameNode(from, to) {
      if (from === to) return;
      const { run, renamed } = get();
      // A node renamed twice still maps to the id the run knows it by.
      const original = renamed[from] ?? from;
      const next = { ...renamed, [to]: original };
      set({ renamed: next, run: run && { ...run, counters: withRenames(run.counters, next) } });
    },
  }));
}
