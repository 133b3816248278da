"use client";

import { allows, parseRunStatus, type RunStatus } from "@sluice/pipeline/control/run-status";
import { useMutation, useQueryClient } from "@tanstack/react-query";
import { useState } from "react";
import { Dialog } from "@/components/dialog";
import { errorMessage } from "@/lib/errors";
import { useTRPC } from "@/trpc/react";

// Pause, resume, stop and restart one run: the buttons the run's status allows, each saying what it does. Used by
// the editor's run panel and the run page; the caller learns the status each action leads to.

export function RunControls({
  runId,
  status,
  onStatus,
}: {
  runId: string;
  status: RunStatus;
  /** The status the server answered with, to show until the live stream reports the next one. */
  onStatus: (status: RunStatus) => void;
}) {
  const trpc = useTRPC();
  const queryClient = useQueryClient();
  const [error, setError] = useState<string | null>(null);
  const [confirmReset, setConfirmReset] = useState(false);
  const done = (next: { status: string }) => {
    setError(null);
    const status = parseRunStatus(next.status);
    if (status) onStatus(status);
    void queryClient.invalidateQueries(trpc.runs.get.queryFilter({ runId }));
    void queryClient.invalidateQueries(trpc.runs.list.queryFilter());
    void queryClient.invalidateQueries(trpc.pipelines.list.queryFilter());
  };
  const fail = (what: string) => (err: unknown) => setError(`Could not ${what}: ${errorMessage(err)}`);
  const pause = useMutation(trpc.runs.pause.mutationOptions({ onSuccess: done, onError: fail("pause") }));
  const resume = useMutation(trpc.runs.resume.mutationOptions({ onSuccess: done, onError: fail("resume") }));
  const stop = useMutation(trpc.runs.stop.mutationOptions({ onSuccess: done, onError: fail("stop") }));
  const restart = useMutation(trpc.runs.restart.mutationOptions({ onSuccess: done, onError: fail("restart") }));
  const busy = pause.isPending || resume.isPending || stop.isPending || restart.isPending;

  return (
    <div className="run-controls">
      <fieldset className="run-buttons">
        <legend className="visually-hidden">Run controls</legend>
        {allows(status, "pause") ? (
          <button type="button" className="button button-small" disabled={busy} onClick={() => pause.mutate({ runId })}>
            <span className="pause-bars" aria-hidden="true" />
            {pause.isPending ? "Pausing…" : "Pause"}
          </button>
        ) : null}
        {allows(status, "resume") ? (
          <button
            type="button"
            className="button button-small button-primary"
            disabled={busy}
            onClick={() => resume.mutate({ runId })}
          >
            <span className="play-triangle" aria-hidden="true" />
            {resume.isPending ? "Resuming…" : "Resume"}
          </button>
        ) : null}
        {allows(status, "stop") || status === "stopping" ? (
          <button
            type="button"
            className="button button-small button-danger"
            disabled={busy || !allows(status, "stop")}
            onClick={() => stop.mutate({ runId })}
            title="Drain what is in flight, commit, and stop"
          >
            <span className="stop-square" aria-hidden="true" />
            {status === "stopping" ? "Stopping…" : "Stop run"}
          </button>
        ) : null}
        {allows(status, "restart") ? (
          <>
            <button
              type="button"
              className="button button-small"
              disabled={busy}
              onClick={() => restart.mutate({ runId, reset: false })}
              title="Run again from the last commit: state, offsets and output so far are kept"
            >
              {restart.isPending && !confirmReset ? "Restarting…" : "Restart (continue)"}
            </button>
            <button
              type="button"
              className="button button-small button-ghost button-ghost-danger"
              disabled={busy}
              onClick={() => setConfirmReset(true)}
            >
              Restart from scratch…
            </button>
          </>
        ) : null}
      </fieldset>
      {error ? (
        <p className="form-error run-error" role="alert">
          {error}
        </p>
      ) : null}
      <Dialog
        open={confirmReset}
        onClose={() => setConfirmReset(false)}
        title="Restart from scratch?"
        role="alertdialog"
        dismissible={!restart.isPending}
        description={
          <p>
            The run’s state and source offsets are deleted and it reads its sources from the beginning again. Records
            its sinks already wrote stay where they are, so a sink that appends may receive them twice.
          </p>
        }
      >
        <div className="dialog-actions">
          <button type="button" className="button" onClick={() => setConfirmReset(false)} disabled={restart.isPending}>
            Cancel
          </button>
          <button
            type="button"
            className="button button-danger"
            disabled={restart.isPending}
            onClick={() => restart.mutate({ runId, reset: true }, { onSettled: () => setConfirmReset(false) })}
          >
            {restart.isPending ? "Restarting…" : "Restart from scratch"}
          </button>
        </div>
      </Dialog>
    </div>
  );
}
