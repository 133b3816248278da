"use client";

import type { NodeCatalog } from "@sluice/pipeline/node-definition";
import { createContext, type ReactNode, useContext, useMemo } from "react";
import { useStore } from "zustand";
import type { EditorState, EditorStore } from "./editor-store";
import type { EditorRuntime } from "./runtime-types";

interface EditorContextValue {
  store: EditorStore;
  runtime: EditorRuntime;
}

const EditorContext = createContext<EditorContextValue | null>(null);

export function EditorProvider({ store, runtime, children }: EditorContextValue & { children: ReactNode }) {
  const value = useMemo(() => ({ store, runtime }), [store, runtime]);
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

/** The node catalog, validator and expression functions (loaded with the editor, see editor-runtime.ts). */
export function useRuntime(): EditorRuntime {
  return useEditorContext().runtime;
}

export function useCatalog(): NodeCatalog {
  return useEditorContext().runtime.catalog;
}
