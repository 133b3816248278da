"use client";

import { useQueryClient } from "@tanstack/react-query";
import { useEffect } from "react";
import { useRunSnapshot } from "@/runs/use-run-snapshot";
import { useTRPC } from "@/trpc/react";
import { useRun, useRunStore } from "../editor-context";
import { isActive } from "./run-store";

/**
 * Streams the active run's snapshot (status and per-node counters, once a second over SSE) into the run store. The
 * server ends the stream when the run ends; the last snapshot stays in the store, so final counts stay visible.
 */
export function RunLive() {
  const trpc = useTRPC();
  const runStore = useRunStore();
  const queryClient = useQueryClient();
  const runId = useRun((s) => (isActive(s.run) ? (s.run?.id ?? null) : null));
  const lastRunId = useRun((s) => s.run?.id ?? null);

  useRunSnapshot(runId, runId !== null, (snapshot) => runStore.getState().applySnapshot(snapshot));

  // When a run ends, lists elsewhere (last run status) are out of date.
  const ended = lastRunId !== null && runId === null;
  useEffect(() => {
    if (ended) void queryClient.invalidateQueries(trpc.pipelines.list.queryFilter());
  }, [ended, queryClient, trpc]);
  return null;
}
