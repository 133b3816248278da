"use client";

import { useQuery } from "@tanstack/react-query";
import type { EditorRuntime } from "./runtime-types";

/**
 * The node catalog, validator and plan functions (editor-runtime.ts), loaded as a chunk of their own once per page
 * and shared by the editor and the run page.
 */
export function useEditorRuntime() {
  return useQuery({
    queryKey: ["editor-runtime"],
    queryFn: async (): Promise<EditorRuntime> => (await import("./editor-runtime")).runtime,
    staleTime: Number.POSITIVE_INFINITY,
  });
}
