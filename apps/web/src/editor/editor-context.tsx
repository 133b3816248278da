"use client";

import type { NodeCatalog } from "@sluice/pipeline/node-definition";
import { createContext, type ReactNode, useContext, useMemo } from "react";
import { useStore } from "zustand";
import type { EditorRuntime } from "./runtime-types";
import type { EditorState, EditorStore } from "./store/editor-store";
import type { RunState, RunStore } from "./store/run-store";

interface EditorContextValue {
  store: EditorStore;
  /** The current run's live figures, apart from the document (see run-store.ts). */
  runStore: RunStore;
  runtime: EditorRuntime;
}

const EditorContext = createContext<EditorContextValue | null>(null);

export function EditorProvider({ store, runStore, runtime, children }: EditorContextValue & { children: ReactNode }) {
  const value = useMemo(() => ({ store, runStore, runtime }), [store, runStore, runtime]);
  return <EditorContext.Provider value={value}>{children}</EditorContext.Provider>;
}

function useEditorContext(): EditorContextValue {
  const value = useContext(EditorContext);
  if (!value) throw new Error("editor components must be rendered inside <EditorProvider>");
  return value;
}

/** Subscribes to one slice of the editor state; re-renders only when that slice changes (Object.is). */
export function useEditor<T>(selector: (state: EditorState) => T): T {
  return useStore(useEditorContext().store, selector);
}

/** The store itself, for event handlers that read state at call time without subscribing. */
export function useEditorStore(): EditorStore {
  return useEditorContext().store;
}

/** Subscribes to one slice of the current run (status, counters); re-renders only when that slice changes. */
export function useRun<T>(selector: (state: RunState) => T): T {
  return useStore(useEditorContext().runStore, selector);
}

/** The run store itself, for event handlers and streams that write to it. */
export function useRunStore(): RunStore {
  return useEditorContext().runStore;
}

/** The node catalog, validator and expression functions (loaded with the editor, see editor-runtime.ts). */
export function useRuntime(): EditorRuntime {
  return useEditorContext().runtime;
}

export function useCatalog(): NodeCatalog {
  return useEditorContext().runtime.catalog;
}
