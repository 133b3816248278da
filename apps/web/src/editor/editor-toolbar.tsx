"use client";

import type { RunStatus } from "@sluice/pipeline/control/protocol";
import { useMutation, useQueryClient } from "@tanstack/react-query";
import Link from "next/link";
import { useRouter } from "next/navigation";
import { type FormEvent, useCallback, useEffect, useId, useState } from "react";
import { Dialog } from "@/components/dialog";
import { errorCode, errorMessage } from "@/lib/errors";
import { useTRPC } from "@/trpc/react";
import { useEditor, useEditorStore } from "./editor-context";
import { isActive, isDirty } from "./editor-store";
import { VersionsDialog } from "./versions-dialog";

const DEFAULT_MESSAGE = "Saved from the editor";

/** Save, start and stop, with the errors and the save conflict they can end in. */
function useEditorCommands() {
  const trpc = useTRPC();
  const store = useEditorStore();
  const queryClient = useQueryClient();
  const router = useRouter();
  const [error, setError] = useState<string | null>(null);
  const [conflict, setConflict] = useState<string | null>(null);
  const saveMutation = useMutation(trpc.pipelines.saveVersion.mutationOptions());
  const startMutation = useMutation(trpc.runs.start.mutationOptions());
  const stopMutation = useMutation(trpc.runs.stop.mutationOptions());
  const createMutation = useMutation(trpc.pipelines.create.mutationOptions());

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

  const start = useCallback(async () => {
    setError(null);
    if (isDirty(store.getState()) && !(await save())) return;
    try {
      const { id } = await startMutation.mutateAsync({ pipelineId: store.getState().pipelineId });
      store.getState().setRun({ id, status: "queued", counters: {}, error: null });
      void queryClient.invalidateQueries(trpc.pipelines.list.queryFilter());
    } catch (err) {
      setError(`Could not start: ${errorMessage(err)}`);
    }
  }, [store, save, startMutation, queryClient, trpc]);

  const stop = useCallback(async () => {
    const run = store.getState().run;
    if (!run) return;
    setError(null);
    try {
      const { status } = await stopMutation.mutateAsync({ runId: run.id });
      const current = store.getState().run;
      // The live stream reports the final status; until then show what the server answered.
      if (current?.id === run.id && isActive(current)) {
        store.getState().setRun({ ...current, status: status.toLowerCase() as RunStatus });
      }
    } catch (err) {
      setError(`Could not stop: ${errorMessage(err)}`);
    }
  }, [store, stopMutation]);

  const reload = useCallback(async () => {
    const fresh = await queryClient.fetchQuery(
      trpc.pipelines.get.queryOptions({ id: store.getState().pipelineId }, { staleTime: 0 }),
    );
    store.getState().load(fresh);
    setConflict(null);
  }, [queryClient, store, trpc]);

  const saveAsCopy = useCallback(async () => {
    const state = store.getState();
    for (let attempt = 1; attempt <= 20; attempt++) {
      const name = `${state.name} (copy${attempt === 1 ? "" : ` ${attempt}`})`.slice(0, 100);
      try {
        const { id } = await createMutation.mutateAsync({ name, definition: state.definition() });
        store.getState().markSaved(state.baseVersion, store.getState().edits); // the draft is safe in the copy
        setConflict(null);
        void queryClient.invalidateQueries(trpc.pipelines.list.queryFilter());
        router.push(`/pipelines/${id}`);
        return;
      } catch (err) {
        if (errorCode(err) === "CONFLICT" && errorMessage(err).toLowerCase().includes("already exists")) continue;
        setConflict(null);
        setError(`Could not save a copy: ${errorMessage(err)}`);
        return;
      }
    }
  }, [store, createMutation, queryClient, router, trpc]);

  return {
    save,
    start,
    stop,
    reload,
    saveAsCopy,
    error,
    clearError: () => setError(null),
    conflict,
    closeConflict: () => setConflict(null),
    saving: saveMutation.isPending,
    starting: startMutation.isPending,
    stopping: stopMutation.isPending,
    copying: createMutation.isPending,
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
  const runStatus = useEditor((s) => s.run?.status ?? null);
  const runError = useEditor((s) => s.run?.error ?? null);
  const active = useEditor((s) => isActive(s.run));
  const commands = useEditorCommands();
  const [askMessage, setAskMessage] = useState(false);
  const [versionsOpen, setVersionsOpen] = useState(false);
  const { save } = commands;
  const store = useEditorStore();

  useEffect(() => {
    const onKeyDown = (event: KeyboardEvent) => {
      if ((event.metaKey || event.ctrlKey) && event.key.toLowerCase() === "s") {
        event.preventDefault();
        if (isDirty(store.getState())) void save();
      }
    };
    window.addEventListener("keydown", onKeyDown);
    return () => window.removeEventListener("keydown", onKeyDown);
  }, [save, store]);

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
            onClick={() => onPreview(!previewOpen)}
          >
            Preview
          </button>
          <button type="button" className="button" onClick={() => setVersionsOpen(true)}>
            Versions
          </button>
          <div className="button-group">
            <button type="button" className="button" onClick={() => void save()} disabled={commands.saving || !dirty}>
              {commands.saving ? "Saving…" : "Save"}
            </button>
            <button
              type="button"
              className="button button-icon-only"
              onClick={() => setAskMessage(true)}
              disabled={commands.saving || !dirty}
              aria-label="Save with a message"
              title="Save with a message"
            >
              <span aria-hidden="true">✎</span>
            </button>
          </div>
          {active ? (
            <button
              type="button"
              className="button button-danger"
              onClick={() => void commands.stop()}
              disabled={commands.stopping || runStatus === "stopping"}
            >
              <span className="stop-square" aria-hidden="true" />
              {runStatus === "stopping" ? "Stopping…" : "Stop"}
            </button>
          ) : (
            <button
              type="button"
              className="button button-primary"
              onClick={() => void commands.start()}
              disabled={commands.starting || commands.saving}
            >
              <span className="play-triangle" aria-hidden="true" />
              {commands.starting ? "Starting…" : "Start"}
            </button>
          )}
        </div>
      </div>
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
