"use client";

import { skipToken, useQueryClient } from "@tanstack/react-query";
import { useSubscription } from "@trpc/tanstack-react-query";
import { useEffect } from "react";
import { useTRPC } from "@/trpc/react";
import { useEditor, useEditorStore } from "./editor-context";
import { isActive } from "./editor-store";

/**
 * Streams the active run's snapshot (status and per-node counters, once a second over SSE) into the store. The
 * server ends the stream when the run ends; the last snapshot stays in the store, so final counts stay visible.
 */
export function RunLive() {
  const trpc = useTRPC();
  const store = useEditorStore();
  const queryClient = useQueryClient();
  const runId = useEditor((s) => (isActive(s.run) ? (s.run?.id ?? null) : null));
  const lastRunId = useEditor((s) => s.run?.id ?? null);

  useSubscription(
    trpc.runs.live.subscriptionOptions(runId ? { runId } : skipToken, {
      onData: (event) => store.getState().applySnapshot(event.data),
    }),
  );

  // When a run ends, lists elsewhere (last run status) are out of date.
  const ended = lastRunId !== null && runId === null;
  useEffect(() => {
    if (ended) void queryClient.invalidateQueries(trpc.pipelines.list.queryFilter());
  }, [ended, queryClient, trpc]);
  return null;
}
