"use client";

import { allows, type RunStatus } from "@sluice/pipeline/control/run-status";
import { useState } from "react";
import { Dialog } from "@/components/dialog";
import { useWorkspaceRole } from "@/lib/use-workspace-role";
import { useRunCommands } from "@/runs/use-run-commands";

// Pause, resume, stop and restart one run on the run page: the buttons the run's status allows, each saying what it
// does. The editor's toolbar sends the same commands through useRunCommands; the caller learns the status each
// action leads to.

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
  const commands = useRunCommands(runId, onStatus);
  const [confirmReset, setConfirmReset] = useState(false);
  const { pending, error } = commands;
  const { can, why } = useWorkspaceRole();
  // Shown to every member, usable by editors and above; the title says why not.
  const refusal = why("controlRuns");
  const busy = commands.busy || !can("controlRuns");
  const restarting = pending === "restart";

  return (
    <div className="run-controls">
      <fieldset className="run-buttons">
        <legend className="visually-hidden">Run controls</legend>
        {allows(status, "pause") ? (
          <button
            type="button"
            className="button button-small"
            disabled={busy}
            title={refusal}
            onClick={() => void commands.send("pause")}
          >
            <span className="pause-bars" aria-hidden="true" />
            {pending === "pause" ? "Pausing…" : "Pause"}
          </button>
        ) : null}
        {allows(status, "resume") ? (
          <button
            type="button"
            className="button button-small button-primary"
            disabled={busy}
            title={refusal}
            onClick={() => void commands.send("resume")}
          >
            <span className="play-triangle" aria-hidden="true" />
            {pending === "resume" ? "Resuming…" : "Resume"}
          </button>
        ) : null}
        {allows(status, "stop") || status === "stopping" ? (
          <button
            type="button"
            className="button button-small button-danger"
            disabled={busy || !allows(status, "stop")}
            onClick={() => void commands.send("stop")}
            title={refusal ?? "Drain what is in flight, commit, and stop"}
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
              onClick={() => void commands.send("restart", { reset: false })}
              title={refusal ?? "Run again from the last commit: state, offsets and output so far are kept"}
            >
              {restarting && !confirmReset ? "Restarting…" : "Restart (continue)"}
            </button>
            <button
              type="button"
              className="button button-small button-ghost button-ghost-danger"
              disabled={busy}
              title={refusal}
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
        dismissible={!restarting}
        description={
          <p>
            The run’s state and source offsets are deleted and it reads its sources from the beginning again. Records
            its sinks already wrote stay where they are, so a sink that appends may receive them twice.
          </p>
        }
      >
        <div className="dialog-actions">
          <button type="button" className="button" onClick={() => setConfirmReset(false)} disabled={restarting}>
            Cancel
          </button>
          <button
            type="button"
            className="button button-danger"
            disabled={restarting}
            onClick={() => void commands.send("restart", { reset: true }).finally(() => setConfirmReset(false))}
          >
            {restarting ? "Restarting…" : "Restart from scratch"}
          </button>
        </div>
      </Dialog>
    </div>
  );
}
