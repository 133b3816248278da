"use client";

import type { PipelineDefinition } from "@sluice/pipeline/definition";
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { type FormEvent, lazy, Suspense, useEffect, useId, useState } from "react";
import { Dialog } from "@/components/dialog";
import { downloadText, fileSlug } from "@/components/download";
import { useCatalog, useEditor, useEditorStore } from "@/editor/editor-context";
import { isDirty } from "@/editor/editor-store";
import { errorCode, errorMessage } from "@/lib/errors";
import { formatAbsolute, formatRelative } from "@/lib/format";
import { useTRPC } from "@/trpc/react";

// The diff canvas loads when a comparison is first opened, not with the editor.
const VersionDiffView = lazy(() => import("./version-diff-view").then((m) => ({ default: m.VersionDiffView })));

// The pipeline's history: every saved version with its message, author and time; a visual diff of any two (or of a
// version and the unsaved draft); restoring a version into the draft, saved as "Restored from vN".

const DRAFT = "draft";

interface Comparison {
  before: { label: string; definition: PipelineDefinition };
  after: { label: string; definition: PipelineDefinition };
}

export interface RestoredDraft {
  from: number;
}

export function VersionsPanel({
  restored,
  onRestored,
}: {
  restored: RestoredDraft | null;
  onRestored: (restored: RestoredDraft | null) => void;
}) {
  const trpc = useTRPC();
  const queryClient = useQueryClient();
  const store = useEditorStore();
  const catalog = useCatalog();
  const pipelineId = useEditor((s) => s.pipelineId);
  const baseVersion = useEditor((s) => s.baseVersion);
  const versions = useQuery(trpc.pipelines.versions.queryOptions({ id: pipelineId }));
  const fromId = useId();
  const toId = useId();
  const [from, setFrom] = useState<string>("");
  const [to, setTo] = useState<string>("");
  const [comparison, setComparison] = useState<Comparison | null>(null);
  const [comparing, setComparing] = useState(false);
  const [restoring, setRestoring] = useState<number | null>(null);
  const [error, setError] = useState<string | null>(null);

  // A save (here or in the toolbar) makes a new version: list it.
  // biome-ignore lint/correctness/useExhaustiveDependencies: baseVersion is the trigger, not an input
  useEffect(() => {
    void queryClient.invalidateQueries(trpc.pipelines.versions.queryFilter({ id: pipelineId }));
  }, [baseVersion, pipelineId, queryClient, trpc]);

  const list = versions.data ?? [];
  // Until the user picks, compare the newest version with the one before it.
  const fromValue = from || String(list[1]?.number ?? list[0]?.number ?? "");
  const toValue = to || String(list[0]?.number ?? "");

  /** A version's definition; versions never change, so each is fetched once. */
  const definitionOf = async (number: number): Promise<PipelineDefinition> => {
    const view = await queryClient.fetchQuery(
      trpc.pipelines.get.queryOptions({ id: pipelineId, version: number }, { staleTime: Number.POSITIVE_INFINITY }),
    );
    return view.version.definition;
  };
  const side = async (value: string) =>
    value === DRAFT
      ? { label: "the draft", definition: store.getState().definition() }
      : { label: `v${value}`, definition: await definitionOf(Number(value)) };

  const compare = async (a: string, b: string) => {
    setError(null);
    setComparing(true);
    try {
      const [before, after] = await Promise.all([side(a), side(b)]);
      setComparison({ before, after });
    } catch (err) {
      setError(`Could not load the versions: ${errorMessage(err)}`);
    } finally {
      setComparing(false);
    }
  };

  const submitCompare = (event: FormEvent<HTMLFormElement>) => {
    event.preventDefault();
    if (fromValue && toValue) void compare(fromValue, toValue);
  };

  const download = async (number: number) => {
    setError(null);
    try {
      const [definition, { writePipelineText }] = await Promise.all([
        definitionOf(number),
        import("@sluice/pipeline/file-format"),
      ]);
      downloadText(
        `${fileSlug(store.getState().name)}-v${number}.yaml`,
        writePipelineText(definition, "yaml"),
        "application/yaml",
      );
    } catch (err) {
      setError(`Could not download v${number}: ${errorMessage(err)}`);
    }
  };

  return (
    <div className="panel-body versions-panel">
      {restored ? <RestoredBanner restored={restored} onDone={() => onRestored(null)} /> : null}
      <form className="compare-form" onSubmit={submitCompare} aria-label="Compare versions">
        <label htmlFor={fromId} className="compare-label">
          Compare
        </label>
        <select
          id={fromId}
          className="input input-small"
          value={fromValue}
          onChange={(e) => setFrom(e.target.value)}
          aria-label="Older version"
        >
          {list.map((v) => (
            <option key={v.number} value={String(v.number)}>
              v{v.number}
            </option>
          ))}
        </select>
        <label htmlFor={toId} className="compare-label">
          with
        </label>
        <select
          id={toId}
          className="input input-small"
          value={toValue}
          onChange={(e) => setTo(e.target.value)}
          aria-label="Newer version"
        >
          <option value={DRAFT}>the draft (unsaved)</option>
          {list.map((v) => (
            <option key={v.number} value={String(v.number)}>
              v{v.number}
            </option>
          ))}
        </select>
        <button type="submit" className="button button-small" disabled={comparing || list.length === 0}>
          {comparing ? "Loading…" : "Show changes"}
        </button>
      </form>
      {error ? (
        <p className="form-error" role="alert">
          {error}
        </p>
      ) : null}

      {versions.isPending ? (
        <p className="muted">Loading versions…</p>
      ) : versions.isError ? (
        <p className="form-error" role="alert">
          {errorMessage(versions.error)}
        </p>
      ) : (
        <ol className="version-list" aria-label="Versions">
          {list.map((v) => (
            <li key={v.number} className="version-row" data-testid={`version-${v.number}`}>
              <span className="version-number">v{v.number}</span>
              <span className="version-text">
                <span className={v.message ? "version-message" : "version-message muted"}>
                  {v.message || "No message"}
                </span>
                <span className="version-meta">
                  {v.author} · <span title={formatAbsolute(v.createdAt)}>{formatRelative(v.createdAt)}</span>
                  {v.runs > 0 ? ` · ${v.runs} run${v.runs === 1 ? "" : "s"}` : ""}
                </span>
              </span>
              {v.number === baseVersion ? <span className="version-current">draft base</span> : null}
              <span className="version-actions">
                {v.number > 1 ? (
                  <button
                    type="button"
                    className="button button-ghost button-small"
                    aria-label={`Changes in v${v.number}`}
                    title={`Compare v${v.number - 1} with v${v.number}`}
                    onClick={() => void compare(String(v.number - 1), String(v.number))}
                  >
                    Changes
                  </button>
                ) : null}
                <button
                  type="button"
                  className="button button-ghost button-small"
                  aria-label={`Restore v${v.number}`}
                  onClick={() => setRestoring(v.number)}
                >
                  Restore
                </button>
                <button
                  type="button"
                  className="button button-ghost button-small"
                  aria-label={`Download v${v.number} as YAML`}
                  onClick={() => void download(v.number)}
                >
                  YAML
                </button>
              </span>
            </li>
          ))}
        </ol>
      )}

      <Dialog
        open={comparison !== null}
        onClose={() => setComparison(null)}
        title={comparison ? `Changes from ${comparison.before.label} to ${comparison.after.label}` : "Changes"}
        size="wide"
      >
        {comparison ? (
          <>
            <Suspense fallback={<p className="muted diff-loading">Drawing the changes…</p>}>
              <VersionDiffView
                before={comparison.before.definition}
                after={comparison.after.definition}
                beforeLabel={comparison.before.label}
                afterLabel={comparison.after.label}
                catalog={catalog}
              />
            </Suspense>
            <div className="dialog-actions">
              <button type="button" className="button" onClick={() => setComparison(null)}>
                Close
              </button>
            </div>
          </>
        ) : null}
      </Dialog>

      <RestoreDialog
        version={restoring}
        onClose={() => setRestoring(null)}
        load={definitionOf}
        onRestored={(from) => {
          setRestoring(null);
          onRestored({ from });
        }}
      />
    </div>
  );
}

function RestoreDialog({
  version,
  onClose,
  load,
  onRestored,
}: {
  version: number | null;
  onClose: () => void;
  load: (number: number) => Promise<PipelineDefinition>;
  onRestored: (from: number) => void;
}) {
  const store = useEditorStore();
  const dirty = useEditor(isDirty);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const restore = async () => {
    if (version === null) return;
    setBusy(true);
    setError(null);
    try {
      const definition = await load(version);
      // One undoable edit of the draft, which stays based on the newest version: saving it appends a version.
      store.getState().restoreDefinition(definition);
      onRestored(version);
    } catch (err) {
      setError(errorMessage(err));
    } finally {
      setBusy(false);
    }
  };
  return (
    <Dialog
      open={version !== null}
      onClose={onClose}
      title={`Restore v${version ?? ""}?`}
      dismissible={!busy}
      description={
        <>
          <p>
            The editor’s draft becomes version {version}. Nothing is saved until you save it: then it becomes the newest
            version, “Restored from v{version}”, and every older version stays as it is.
          </p>
          {dirty ? <p className="dialog-warning">Your unsaved changes in the draft are replaced.</p> : null}
        </>
      }
    >
      {error ? (
        <p className="form-error" role="alert">
          {error}
        </p>
      ) : null}
      <div className="dialog-actions">
        <button type="button" className="button" onClick={onClose} disabled={busy}>
          Cancel
        </button>
        <button type="button" className="button button-primary" onClick={() => void restore()} disabled={busy}>
          {busy ? "Restoring…" : "Restore into the draft"}
        </button>
      </div>
    </Dialog>
  );
}

function RestoredBanner({ restored, onDone }: { restored: RestoredDraft; onDone: () => void }) {
  const trpc = useTRPC();
  const store = useEditorStore();
  const queryClient = useQueryClient();
  const baseVersion = useEditor((s) => s.baseVersion);
  const dirty = useEditor(isDirty);
  const [startedAt] = useState(baseVersion);
  const save = useMutation(trpc.pipelines.saveVersion.mutationOptions());
  const discard = async () => {
    const state = store.getState();
    const fresh = await queryClient.fetchQuery(
      trpc.pipelines.get.queryOptions({ id: state.pipelineId }, { staleTime: 0 }),
    );
    store.getState().load(fresh);
    onDone();
  };

  // Saved some other way (the toolbar, Ctrl+S), or nothing left to save: the banner has done its job.
  useEffect(() => {
    if (baseVersion !== startedAt || !dirty) onDone();
  }, [baseVersion, startedAt, dirty, onDone]);

  const saveRestored = async () => {
    const state = store.getState();
    const atEdits = state.edits;
    try {
      const { number } = await save.mutateAsync({
        id: state.pipelineId,
        baseVersion: state.baseVersion,
        definition: state.definition(),
        message: `Restored from v${restored.from}`,
      });
      store.getState().markSaved(number, atEdits);
      void queryClient.invalidateQueries(trpc.pipelines.list.queryFilter());
    } catch {
      // shown below
    }
  };

  return (
    <div className="restored-banner" role="status">
      <span>
        The draft is <strong>v{restored.from}</strong>, restored and not saved yet.
      </span>
      <span className="restored-actions">
        <button
          type="button"
          className="button button-primary button-small"
          onClick={() => void saveRestored()}
          disabled={save.isPending}
        >
          {save.isPending ? "Saving…" : `Save as v${baseVersion + 1}`}
        </button>
        <button type="button" className="button button-small" onClick={() => void discard()} disabled={save.isPending}>
          Discard
        </button>
      </span>
      {save.error ? (
        <span className="form-error restored-error" role="alert">
          {errorCode(save.error) === "CONFLICT"
            ? `${errorMessage(save.error)}.`
            : `Could not save: ${errorMessage(save.error)}`}
        </span>
      ) : null}
    </div>
  );
}
