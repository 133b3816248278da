"use client";

import { allowedActions, type RunAction } from "@sluice/pipeline/control/run-status";
import { useMutation, useQueryClient } from "@tanstack/react-query";
import Link from "next/link";
import { useRouter } from "next/navigation";
import { type FormEvent, useCallback, useEffect, useId, useState } from "react";
import { Dialog } from "@/components/dialog";
import { PipelineSettingsDialog } from "@/editor/dock/pipeline-settings";
import { StartProblemsDialog } from "@/editor/dock/start-problems";
import { browserProblems, type StartRefusal, serverProblems } from "@/editor/dock/start-refusal";
import { VersionsDialog } from "@/editor/dock/versions-dialog";
import { useEditor, useEditorStore, useRun, useRunStore } from "@/editor/editor-context";
import { isDirty } from "@/editor/store/editor-store";
import { isActive } from "@/editor/store/run-store";
import { errorCode, errorMessage } from "@/lib/errors";
import { useWorkspaceRole } from "@/lib/use-workspace-role";
import { useRunCommands } from "@/runs/use-run-commands";
import { PublishTemplateDialog } from "@/templates/publish-template-dialog";
import { useTRPC } from "@/trpc/react";

const DEFAULT_MESSAGE = "Saved from the editor";
const START_MESSAGE = "Saved to start a run";

/** No run yet: the one thing to do is start one. */
const FIRST_RUN_ACTIONS: readonly RunAction[] = ["start"];

/** Save, start, pause, resume and stop, with the errors and the save conflict they can end in. */
function useEditorCommands() {
  const trpc = useTRPC();
  const store = useEditorStore();
  const runStore = useRunStore();
  const queryClient = useQueryClient();
  const router = useRouter();
  const [error, setError] = useState<string | null>(null);
  const [conflict, setConflict] = useState<string | null>(null);
  const saveMutation = useMutation(trpc.pipelines.saveVersion.mutationOptions());
  const startMutation = useMutation(trpc.runs.start.mutationOptions());
  const runId = useRun((s) => s.run?.id ?? null);
  // Until the live stream catches up, show the status the server answered — if that run is still the one shown.
  const runCommands = useRunCommands(runId, (answered, id) => {
    const current = runStore.getState().run;
    if (current?.id === id && isActive(current)) runStore.getState().setRun({ ...current, status: answered });
  });
  const [refusal, setRefusal] = useState<StartRefusal | null>(null);
  const duplicateMutation = useMutation(trpc.pipelines.duplicate.mutationOptions());

  const save = useCallback(
    async (message = DEFAULT_MESSAGE): Promise<boolean> => {
      const state = store.getState();
      const atEdits = state.edits;
      setError(null);
      try {
        const { number } = await saveMutation.mutateAsync({
          id: state.pipelineId,
          baseVersion: state.baseVersion,
          definition: state.definition(),
          message,
        });
        store.getState().markSaved(number, atEdits);
        void queryClient.invalidateQueries(trpc.pipelines.list.queryFilter());
        return true;
      } catch (err) {
        if (errorCode(err) === "CONFLICT") setConflict(errorMessage(err));
        else setError(`Could not save: ${errorMessage(err)}`);
        return false;
      }
    },
    [store, saveMutation, queryClient, trpc],
  );

  /**
   * The version a refused start saved anyway, if one appeared on top of `baseVersion` (the server should save none;
   * the dialog must not say "Nothing was saved" unless that is so). Null when none, or when it cannot be told.
   */
  const versionSavedSince = useCallback(
    async (pipelineId: string, baseVersion: number): Promise<number | null> => {
      try {
        const fresh = await queryClient.fetchQuery(
          trpc.pipelines.get.queryOptions({ id: pipelineId }, { staleTime: 0 }),
        );
        return fresh.latestVersion > baseVersion ? fresh.latestVersion : null;
      } catch {
        return null;
      }
    },
    [queryClient, trpc],
  );

  // A draft with errors is not started and not saved: the dialog lists what to fix. A draft the browser finds fine
  // goes to the server with the start, which checks it again and saves it only if it can start. A clean draft
  // starts the version on screen, not whatever was saved last.
  const start = useCallback(async () => {
    setError(null);
    const errors = store
      .getState()
      .validateNow()
      .issues.filter((i) => i.severity === "error");
    if (errors.length > 0) {
      setRefusal({ problems: browserProblems(errors), message: null, savedVersion: null });
      return;
    }
    const state = store.getState();
    const atEdits = state.edits;
    const draft = isDirty(state)
      ? { baseVersion: state.baseVersion, definition: state.definition(), message: START_MESSAGE }
      : undefined;
    try {
      const { id, version } = await startMutation.mutateAsync(
        draft ? { pipelineId: state.pipelineId, draft } : { pipelineId: state.pipelineId, version: state.baseVersion },
      );
      if (draft) store.getState().markSaved(version, atEdits);
      runStore.getState().setRun({ id, status: "queued", counters: {}, error: null });
      void queryClient.invalidateQueries(trpc.pipelines.list.queryFilter());
    } catch (err) {
      const code = errorCode(err);
      if (code === "BAD_REQUEST")
        setRefusal({
          problems: serverProblems(err),
          message: errorMessage(err),
          savedVersion: draft ? await versionSavedSince(state.pipelineId, state.baseVersion) : null,
        });
      else if (code === "CONFLICT" && draft && !/already running/i.test(errorMessage(err)))
        setConflict(errorMessage(err));
      else setError(`Could not start: ${errorMessage(err)}`);
    }
  }, [store, runStore, startMutation, queryClient, trpc, versionSavedSince]);

  const reload = useCallback(async () => {
    const fresh = await queryClient.fetchQuery(
      trpc.pipelines.get.queryOptions({ id: store.getState().pipelineId }, { staleTime: 0 }),
    );
    store.getState().load(fresh);
    setConflict(null);
  }, [queryClient, store, trpc]);

  // The server names the copy ("<name> (copy)", "(copy 2)", …); the copy opens under the name it was given.
  const saveAsCopy = useCallback(async () => {
    const state = store.getState();
    try {
      const { id } = await duplicateMutation.mutateAsync({ id: state.pipelineId, definition: state.definition() });
      store.getState().markSaved(state.baseVersion, store.getState().edits); // the draft is safe in the copy
      setConflict(null);
      void queryClient.invalidateQueries(trpc.pipelines.list.queryFilter());
      router.push(`/pipelines/${id}`);
    } catch (err) {
      setConflict(null);
      setError(`Could not save a copy: ${errorMessage(err)}`);
    }
  }, [store, duplicateMutation, queryClient, router, trpc]);

  return {
    save,
    start,
    control: runCommands.send,
    refusal,
    closeRefusal: () => setRefusal(null),
    reload,
    saveAsCopy,
    error: error ?? runCommands.error,
    clearError: () => {
      setError(null);
      runCommands.clearError();
    },
    conflict,
    closeConflict: () => setConflict(null),
    saving: saveMutation.isPending,
    starting: startMutation.isPending,
    controlling: runCommands.busy,
    copying: duplicateMutation.isPending,
  };
}

export function EditorToolbar({
  previewOpen,
  onPreview,
}: {
  previewOpen: boolean;
  onPreview: (open: boolean) => void;
}) {
  const name = useEditor((s) => s.name);
  const version = useEditor((s) => s.baseVersion);
  const dirty = useEditor(isDirty);
  const runStatus = useRun((s) => s.run?.status ?? null);
  const runError = useRun((s) => s.run?.error ?? null);
  const actions = useRun((s) => (s.run ? allowedActions(s.run.status) : FIRST_RUN_ACTIONS));
  const commands = useEditorCommands();
  const [askMessage, setAskMessage] = useState(false);
  const [versionsOpen, setVersionsOpen] = useState(false);
  const [settingsOpen, setSettingsOpen] = useState(false);
  const [publishOpen, setPublishOpen] = useState(false);
  const { save, starting } = commands;
  const store = useEditorStore();
  const { can, why, known } = useWorkspaceRole();
  const editable = can("editPipelines");
  const editRefusal = why("editPipelines");
  const runRefusal = why("controlRuns");
  const runnable = runRefusal === undefined;
  const previewRefusal = why("previewDrafts");

  useEffect(() => {
    const onKeyDown = (event: KeyboardEvent) => {
      if ((event.metaKey || event.ctrlKey) && event.key.toLowerCase() === "s") {
        event.preventDefault();
        // While a save-and-start is in flight its draft is being saved: a second save would conflict with it.
        if (editable && isDirty(store.getState()) && !starting) void save();
      }
    };
    window.addEventListener("keydown", onKeyDown);
    return () => window.removeEventListener("keydown", onKeyDown);
  }, [save, store, starting, editable]);

  return (
    <>
      <div className="editor-toolbar" role="toolbar" aria-label="Pipeline">
        <div className="toolbar-left">
          <Link href="/pipelines" className="toolbar-back">
            Pipelines
          </Link>
          <span className="toolbar-sep" aria-hidden="true">
            /
          </span>
          <h1 className="toolbar-name">{name}</h1>
          <span className="version-pill" title="The saved version this draft is based on">
            v{version}
          </span>
          {dirty ? (
            <span className="dirty-flag" data-testid="dirty">
              Unsaved changes
            </span>
          ) : (
            <span className="saved-flag">Saved</span>
          )}
        </div>
        <div className="toolbar-right">
          {runStatus ? (
            <span className="run-state">
              <span className="run-state-label">Run</span>
              <span className={`status status-${runStatus}`} data-testid="run-status">
                {runStatus}
              </span>
            </span>
          ) : (
            <span className="run-state muted">Not run yet</span>
          )}
          <button
            type="button"
            className={`button${previewOpen ? " is-pressed" : ""}`}
            aria-pressed={previewOpen}
            disabled={previewRefusal !== undefined && !previewOpen}
            title={previewRefusal}
            onClick={() => onPreview(!previewOpen)}
          >
            Preview
          </button>
          <button type="button" className="button" onClick={() => setSettingsOpen(true)}>
            Settings
          </button>
          <button type="button" className="button" onClick={() => setVersionsOpen(true)}>
            Versions
          </button>
          <button type="button" className="button" onClick={() => setPublishOpen(true)}>
            Save as template
          </button>
          <div className="button-group">
            <button
              type="button"
              className="button"
              onClick={() => void save()}
              disabled={commands.saving || commands.starting || !dirty || !editable}
              title={editRefusal}
            >
              {commands.saving ? "Saving…" : "Save"}
            </button>
            <button
              type="button"
              className="button button-icon-only"
              onClick={() => setAskMessage(true)}
              disabled={commands.saving || commands.starting || !dirty || !editable}
              aria-label="Save with a message"
              title={editRefusal ?? "Save with a message"}
            >
              <span aria-hidden="true">✎</span>
            </button>
          </div>
          {actions.includes("pause") ? (
            <button
              type="button"
              className="button"
              onClick={() => void commands.control("pause")}
              disabled={commands.controlling || !runnable}
              title={runRefusal}
            >
              Pause
            </button>
          ) : null}
          {actions.includes("resume") ? (
            <button
              type="button"
              className="button"
              onClick={() => void commands.control("resume")}
              disabled={commands.controlling || !runnable}
              title={runRefusal}
            >
              <span className="play-triangle" aria-hidden="true" />
              Resume
            </button>
          ) : null}
          {actions.includes("stop") || runStatus === "stopping" ? (
            <button
              type="button"
              className="button button-danger"
              onClick={() => void commands.control("stop")}
              disabled={commands.controlling || runStatus === "stopping" || !runnable}
              title={runRefusal}
            >
              <span className="stop-square" aria-hidden="true" />
              {runStatus === "stopping" ? "Stopping…" : "Stop"}
            </button>
          ) : null}
          {actions.includes("start") ? (
            <button
              type="button"
              className="button button-primary"
              onClick={() => void commands.start()}
              disabled={commands.starting || commands.saving || !runnable}
              title={runRefusal}
            >
              <span className="play-triangle" aria-hidden="true" />
              {commands.starting ? "Starting…" : "Start"}
            </button>
          ) : null}
        </div>
      </div>
      {known && !editable ? (
        <div className="editor-banner banner-info" role="status" data-testid="read-only-notice">
          <span>
            <strong>Read only.</strong> {editRefusal}
          </span>
        </div>
      ) : null}
      {commands.error ? (
        <div className="editor-banner banner-error" role="alert">
          <span>{commands.error}</span>
          <button type="button" className="icon-button" onClick={commands.clearError} aria-label="Dismiss error">
            ×
          </button>
        </div>
      ) : runStatus === "failed" && runError ? (
        <div className="editor-banner banner-error" role="alert">
          <span>The run failed: {runError}</span>
        </div>
      ) : null}
      <VersionsDialog open={versionsOpen} onClose={() => setVersionsOpen(false)} />
      <PipelineSettingsDialog open={settingsOpen} onClose={() => setSettingsOpen(false)} />
      <PublishTemplateDialog open={publishOpen} onClose={() => setPublishOpen(false)} />
      <StartProblemsDialog refusal={commands.refusal} onClose={commands.closeRefusal} />
      <SaveMessageDialog open={askMessage} onClose={() => setAskMessage(false)} onSave={commands.save} />
      <Dialog
        open={commands.conflict !== null}
        onClose={commands.closeConflict}
        title="Someone saved a newer version"
        role="alertdialog"
        description={
          <>
            <p>{commands.conflict}</p>
            <p>
              Reload to continue from the newest version (your changes here are discarded), or keep your changes as a
              new pipeline.
            </p>
          </>
        }
      >
        <div className="dialog-actions">
          <button type="button" className="button" onClick={commands.closeConflict}>
            Cancel
          </button>
          <button type="button" className="button" onClick={() => void commands.reload()}>
            Reload
          </button>
          <button
            type="button"
            className="button button-primary"
            onClick={() => void commands.saveAsCopy()}
            disabled={commands.copying}
          >
            {commands.copying ? "Saving copy…" : "Save as copy"}
          </button>
        </div>
      </Dialog>
    </>
  );
}

function SaveMessageDialog({
  open,
  onClose,
  onSave,
}: {
  open: boolean;
  onClose: () => void;
  onSave: (message: string) => Promise<boolean>;
}) {
  return (
    <Dialog open={open} onClose={onClose} title="Save a version">
      <SaveMessageForm onClose={onClose} onSave={onSave} />
    </Dialog>
  );
}

function SaveMessageForm({ onClose, onSave }: { onClose: () => void; onSave: (message: string) => Promise<boolean> }) {
  const id = useId();
  const [message, setMessage] = useState("");
  const [busy, setBusy] = useState(false);
  const submit = async (event: FormEvent<HTMLFormElement>) => {
    event.preventDefault();
    setBusy(true);
    const saved = await onSave(message.trim() || DEFAULT_MESSAGE);
    setBusy(false);
    if (saved) onClose();
  };
  return (
    <form onSubmit={(e) => void submit(e)} className="dialog-form">
      <div className="field">
        <label htmlFor={id} className="field-label">
          What changed?
        </label>
        <input
          id={id}
          className="input"
          value={message}
          onChange={(e) => setMessage(e.target.value)}
          placeholder={DEFAULT_MESSAGE}
          maxLength={500}
          autoFocus
          autoComplete="off"
        />
      </div>
      <div className="dialog-actions">
        <button type="button" className="button" onClick={onClose} disabled={busy}>
          Cancel
        </button>
        <button type="submit" className="button button-primary" disabled={busy}>
          {busy ? "Saving…" : "Save version"}
        </button>
      </div>
    </form>
  );
}
