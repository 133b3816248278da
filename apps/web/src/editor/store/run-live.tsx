"use client";

import { useQueryClient } from "@tanstack/react-query";
import { useEffect } from "react";
import { useLiveFigures } from "@/runs/use-live-figures";
import { useRunSnapshot } from "@/runs/use-run-snapshot";
import { useTRPC } from "@/trpc/react";
import { overlayGraph } from "../canvas/live-overlay";
import { useEditorStore, useRun, useRunStore, useRuntime } from "../editor-context";
import { isActive } from "./run-store";

/**
 * Streams the active run into the run store over SSE, once a second each: its snapshot (status and per-node
 * counters) and its figures (rates, latency, lag, backlog) for the canvas overlay. The server ends both streams when
 * the run ends; the last snapshot stays in the store, so final counts stay visible, and the rates go. A dropped stream
 * (a server restart) is reopened by the tRPC client, the seconds missed first.
 */
export function RunLive() {
  const trpc = useTRPC();
  const runStore = useRunStore();
  const editorStore = useEditorStore();
  const { parseDuration } = useRuntime();
  const queryClient = useQueryClient();
  const runId = useRun((s) => (isActive(s.run) ? (s.run?.id ?? null) : null));
  const lastRunId = useRun((s) => s.run?.id ?? null);

  useRunSnapshot(runId, runId !== null, (snapshot) => runStore.getState().applySnapshot(snapshot));

  useLiveFigures(runId, (view) => {
    // The graph as drawn now: edges added or removed since the start simply have no figures.
    const { edges, frame } = editorStore.getState();
    const maxOutOfOrder = frame.spec.settings.maxOutOfOrder;
    const outOfOrderMs = maxOutOfOrder === undefined ? 0 : (parseDuration(maxOutOfOrder) ?? 0);
    runStore.getState().applyFigures(view, overlayGraph(edges, outOfOrderMs));
  });

  // When a run ends, lists elsewhere (last run status) are out of date.
  const ended = lastRunId !== null && runId === null;
  useEffect(() => {
    if (ended) void queryClient.invalidateQueries(trpc.pipelines.list.queryFilter());
  }, [ended, queryClient, trpc]);
  return null;
}
