"use client";

import { parseRunStatus, type RunStatus } from "@sluice/pipeline/control/run-status";
import { useMutation, useQueryClient } from "@tanstack/react-query";
import { useState } from "react";
import { errorMessage } from "@/lib/errors";
import { useTRPC } from "@/trpc/react";

export type RunCommand = "pause" | "resume" | "stop" | "restart";

// Pause, resume, stop and restart one run, for the editor's toolbar and the run page alike. The server answers each
// with the status it leads to; `onStatus` hears it so a caller can show it until the live stream reports the next.

export function useRunCommands(runId: string | null, onStatus: (status: RunStatus, runId: string) => void) {
  const trpc = useTRPC();
  const queryClient = useQueryClient();
  const [error, setError] = useState<string | null>(null);
  const mutations = {
    pause: useMutation(trpc.runs.pause.mutationOptions()),
    resume: useMutation(trpc.runs.resume.mutationOptions()),
    stop: useMutation(trpc.runs.stop.mutationOptions()),
    restart: useMutation(trpc.runs.restart.mutationOptions()),
  };

  /** Sends the command; true when the server took it. `reset` only matters to a restart. */
  const send = async (command: RunCommand, options: { reset?: boolean } = {}): Promise<boolean> => {
    if (!runId) return false;
    setError(null);
    try {
      const answer =
        command === "restart"
          ? await mutations.restart.mutateAsync({ runId, reset: options.reset ?? false })
          : await mutations[command].mutateAsync({ runId });
      const status = parseRunStatus(answer.status);
      if (status) onStatus(status, runId);
      void queryClient.invalidateQueries(trpc.runs.get.queryFilter({ runId }));
      void queryClient.invalidateQueries(trpc.runs.list.queryFilter());
      void queryClient.invalidateQueries(trpc.pipelines.list.queryFilter());
      return true;
    } catch (err) {
      setError(`Could not ${command} the run: ${errorMessage(err)}`);
      return false;
    }
  };

  const pending = (Object.keys(mutations) as RunCommand[]).find((c) => mutations[c].isPending) ?? null;
  return { send, pending, busy: pending !== null, error, clearError: () => setError(null) };
}
