"use client";

import { useQuery, useQueryClient } from "@tanstack/react-query";
import { lazy, Suspense, useId, useState } from "react";
import { Dialog } from "@/components/dialog";
import { useCatalog, useEditor, useEditorStore } from "@/editor/editor-context";
import { errorMessage } from "@/lib/errors";
import { formatAbsolute, formatIso } from "@/lib/format";
import { useTRPC } from "@/trpc/react";

// The version history: every saved version with its message, the changes between any two (drawn on a graph and
// listed), and restore (which puts that version's content into the draft as one undoable edit; saving it makes a new
// version).

// The diff canvas loads when a comparison is first shown, not with the editor.
const VersionDiffView = lazy(() => import("./version-diff-view").then((m) => ({ default: m.VersionDiffView })));

function Comparison({ pipelineId, from, to }: { pipelineId: string; from: number; to: number }) {
  const trpc = useTRPC();
  const catalog = useCatalog();
  const options = { staleTime: Number.POSITIVE_INFINITY };
  const a = useQuery(trpc.pipelines.get.queryOptions({ id: pipelineId, version: from }, options));
  const b = useQuery(trpc.pipelines.get.queryOptions({ id: pipelineId, version: to }, options));
  if (a.isError || b.isError) {
    return (
      <p className="form-error" role="alert">
        Could not load the versions: {errorMessage(a.error ?? b.error)}
      </p>
    );
  }
  if (!a.data || !b.data) return <p className="muted">Loading the versions…</p>;
  return (
    <Suspense fallback={<p className="muted diff-loading">Drawing the changes…</p>}>
      <VersionDiffView
        before={a.data.version.definition}
        after={b.data.version.definition}
        beforeLabel={`v${from}`}
        afterLabel={`v${to}`}
        catalog={catalog}
      />
    </Suspense>
  );
}

function VersionsBody({ onClose }: { onClose: () => void }) {
  const trpc = useTRPC();
  const store = useEditorStore();
  const queryClient = useQueryClient();
  const pipelineId = useEditor((s) => s.pipelineId);
  const current = useEditor((s) => s.baseVersion);
  const versions = useQuery(trpc.pipelines.versions.queryOptions({ id: pipelineId }, { staleTime: 0 }));
  const numbers = versions.data?.map((v) => v.number) ?? [];
  const newest = numbers[0];
  const [from, setFrom] = useState<number | null>(null);
  const [to, setTo] = useState<number | null>(null);
  const [restoring, setRestoring] = useState<string | null>(null);
  const fromId = useId();
  const toId = useId();
  const fromValue = from ?? numbers[1] ?? newest;
  const toValue = to ?? newest;

  const restore = async (number: number) => {
    setRestoring(null);
    try {
      const view = await queryClient.fetchQuery(
        trpc.pipelines.get.queryOptions({ id: pipelineId, version: number }, { staleTime: Number.POSITIVE_INFINITY }),
      );
      store.getState().restoreDefinition(view.version.definition);
      store.getState().showNotice(`Restored version ${number} into the draft: save to keep it.`);
      onClose();
    } catch (err) {
      setRestoring(`Could not restore: ${errorMessage(err)}`);
    }
  };

  if (versions.isError) {
    return (
      <p className="form-error" role="alert">
        {errorMessage(versions.error)}
      </p>
    );
  }
  if (!versions.data) return <p className="muted">Loading versions…</p>;
  return (
    <div className="versions">
      <table className="versions-table" aria-label="Versions">
        <thead>
          <tr>
            <th scope="col">Version</th>
            <th scope="col">Message</th>
            <th scope="col">Author</th>
            <th scope="col">Saved</th>
            <th scope="col">
              <span className="visually-hidden">Actions</span>
            </th>
          </tr>
        </thead>
        <tbody>
          {versions.data.map((v) => (
            <tr key={v.number}>
              <td>
                v{v.number}
                {v.number === current ? <span className="muted"> (draft base)</span> : null}
              </td>
              <td>{v.message}</td>
              <td>{v.author}</td>
              <td>
                <time title={formatIso(v.createdAt)}>{formatAbsolute(v.createdAt)}</time>
              </td>
              <td>
                <button
                  type="button"
                  className="button button-small"
                  onClick={() => void restore(v.number)}
                  aria-label={`Restore version ${v.number}`}
                >
                  Restore
                </button>
              </td>
            </tr>
          ))}
        </tbody>
      </table>
      {restoring ? (
        <p className="form-error" role="alert">
          {restoring}
        </p>
      ) : null}
      {numbers.length >= 2 && fromValue !== undefined && toValue !== undefined ? (
        <section className="versions-compare" aria-label="Compare versions">
          <div className="versions-pickers">
            <label htmlFor={fromId} className="field-label">
              Compare version
            </label>
            <select id={fromId} className="input" value={fromValue} onChange={(e) => setFrom(Number(e.target.value))}>
              {numbers.map((n) => (
                <option key={n} value={n}>
                  v{n}
                </option>
              ))}
            </select>
            <label htmlFor={toId} className="field-label">
              with version
            </label>
            <select id={toId} className="input" value={toValue} onChange={(e) => setTo(Number(e.target.value))}>
              {numbers.map((n) => (
                <option key={n} value={n}>
                  v{n}
                </option>
              ))}
            </select>
          </div>
          <Comparison pipelineId={pipelineId} from={fromValue} to={toValue} />
        </section>
      ) : (
        <p className="muted">Save another version to compare two.</p>
      )}
    </div>
  );
}

export function VersionsDialog({ open, onClose }: { open: boolean; onClose: () => void }) {
  return (
    <Dialog open={open} onClose={onClose} title="Versions" size="wide">
      <VersionsBody onClose={onClose} />
      <div className="dialog-actions">
        <button type="button" className="button" onClick={onClose}>
          Close
        </button>
      </div>
    </Dialog>
  );
}
