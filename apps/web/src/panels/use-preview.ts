"use client";

import type { PipelineDefinition } from "@sluice/pipeline/definition";
import { useMutation } from "@tanstack/react-query";
import { useCallback, useEffect, useRef, useState } from "react";
import type { PreviewAnswer as PreviewResult } from "@/components/api-types";
import { useEditor, useEditorStore } from "@/editor/editor-context";
import { errorMessage } from "@/lib/errors";
import { useTRPC } from "@/trpc/react";

/** How long the draft must stay unchanged before the preview runs again. */
export const PREVIEW_DEBOUNCE_MS = 600;

export interface PreviewState {
  /** The last answer, with the draft it was computed from (for its schemas). */
  result: { data: PreviewResult; definition: PipelineDefinition; at: number } | null;
  running: boolean;
  error: string | null;
  refresh(): void;
}

/**
 * While `enabled`, previews the editor's draft on the server: at once when turned on, then again each time the
 * draft's semantics change (not on moves), once edits pause for PREVIEW_DEBOUNCE_MS. Answers to older drafts that
 * arrive late are dropped.
 */
export function usePreview(enabled: boolean, limit: number): PreviewState {
  const trpc = useTRPC();
  const store = useEditorStore();
  const revision = useEditor((s) => s.revision);
  const preview = useMutation(trpc.pipelines.preview.mutationOptions());
  const { mutateAsync } = preview;
  const [result, setResult] = useState<PreviewState["result"]>(null);
  const [error, setError] = useState<string | null>(null);
  const [running, setRunning] = useState(false);
  const seq = useRef(0);
  const wasEnabled = useRef(false);
  const lastLimit = useRef(limit);

  const run = useCallback(async () => {
    const mine = ++seq.current;
    const definition = store.getState().definition();
    setRunning(true);
    try {
      const data = await mutateAsync({ definition, limit });
      if (mine !== seq.current) return;
      setResult({ data, definition, at: Date.now() });
      setError(null);
    } catch (err) {
      if (mine !== seq.current) return;
      setError(errorMessage(err));
    } finally {
      if (mine === seq.current) setRunning(false);
    }
  }, [store, mutateAsync, limit]);

  // biome-ignore lint/correctness/useExhaustiveDependencies: `revision` is the trigger: every semantic edit re-runs it
  useEffect(() => {
    if (!enabled) {
      wasEnabled.current = false;
      seq.current++; // an answer still on its way is no longer wanted
      setRunning(false);
      return;
    }
    // Turned on, or the sample size changed: now. Edits: once they pause.
    const immediate = !wasEnabled.current || lastLimit.current !== limit;
    wasEnabled.current = true;
    lastLimit.current = limit;
    const timer = setTimeout(() => void run(), immediate ? 0 : PREVIEW_DEBOUNCE_MS);
    return () => clearTimeout(timer);
  }, [enabled, revision, limit, run]);

  const refresh = useCallback(() => void run(), [run]);
  return { result, running, error, refresh };
}
