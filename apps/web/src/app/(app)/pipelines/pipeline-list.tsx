"use client";

import { fromDbStatus, isActive } from "@sluice/pipeline/control/run-status";
import { keepPreviousData, useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import Link from "next/link";
import { useRouter } from "next/navigation";
import { type FormEvent, useEffect, useId, useState } from "react";
import { Dialog } from "@/components/dialog";
import { downloadText, fileSlug } from "@/components/download";
import { PipelineImportDialog } from "@/components/pipeline-import-dialog";
import { RunStatusBadge } from "@/components/run-status-badge";
import { TextField } from "@/components/text-field";
import { errorMessage, formErrors } from "@/lib/errors";
import { formatAbsolute, formatRelative } from "@/lib/format";
import { useWorkspaceRole } from "@/lib/use-workspace-role";
import { useTRPC } from "@/trpc/react";

const SEARCH_DEBOUNCE_MS = 250;

interface PipelineRef {
  id: string;
  name: string;
  description: string;
}

/** The value, once it has stopped changing for `ms`. */
function useDebounced<T>(value: T, ms: number): T {
  const [settled, setSettled] = useState(value);
  useEffect(() => {
    const timer = setTimeout(() => setSettled(value), ms);
    return () => clearTimeout(timer);
  }, [value, ms]);
  return settled;
}

export function PipelineList() {
  const trpc = useTRPC();
  const queryClient = useQueryClient();
  const searchId = useId();
  const [search, setSearch] = useState("");
  const query = useDebounced(search.trim(), SEARCH_DEBOUNCE_MS);
  const list = useQuery(
    trpc.pipelines.list.queryOptions(query ? { search: query } : {}, {
      placeholderData: keepPreviousData,
      // While a listed pipeline's last run is under way, its status here follows it.
      refetchInterval: (q) =>
        q.state.data?.some((p) => p.lastRun && isActive(fromDbStatus(p.lastRun.status))) ? 3000 : false,
    }),
  );
  const [creating, setCreating] = useState(false);
  const [importing, setImporting] = useState(false);
  const [renaming, setRenaming] = useState<PipelineRef | null>(null);
  const [deleting, setDeleting] = useState<PipelineRef | null>(null);
  const [notice, setNotice] = useState<{ text: string; href?: string; error?: boolean } | null>(null);
  const { why } = useWorkspaceRole();
  const editRefusal = why("editPipelines");
  const readOnly = editRefusal !== undefined;

  const duplicate = useMutation(
    trpc.pipelines.duplicate.mutationOptions({
      onSuccess: ({ id, name }) => {
        void queryClient.invalidateQueries(trpc.pipelines.list.queryFilter());
        setNotice({ text: `Duplicated as “${name}”.`, href: `/pipelines/${id}` });
      },
      onError: (err) => setNotice({ text: `Could not duplicate: ${errorMessage(err)}`, error: true }),
    }),
  );

  const exportPipeline = async (p: PipelineRef) => {
    setNotice(null);
    try {
      const [full, { writePipelineText }] = await Promise.all([
        queryClient.fetchQuery(trpc.pipelines.get.queryOptions({ id: p.id }, { staleTime: 0 })),
        import("@sluice/pipeline/file-format"),
      ]);
      // The pipeline's name and description live on the pipeline, not in its versions: put the current ones into the
      // file's metadata, so an import suggests this name and keeps the description instead of a creation-time slug.
      const { definition } = full.version;
      const metadata = {
        ...definition.metadata,
        title: full.name,
        ...(full.description ? { description: full.description } : {}),
      };
      downloadText(
        `${fileSlug(full.name)}.yaml`,
        writePipelineText({ ...definition, metadata }, "yaml"),
        "application/yaml",
      );
      setNotice({ text: `Exported “${full.name}” version ${full.version.number} as YAML.` });
    } catch (err) {
      setNotice({ text: `Could not export: ${errorMessage(err)}`, error: true });
    }
  };

  const rows = list.data ?? [];
  const searching = query.length > 0;

  return (
    <main className="page">
      <div className="page-header">
        <div>
          <h1 className="page-title">Pipelines</h1>
          <p className="page-subtitle">Sources, transforms and sinks wired into streaming jobs.</p>
        </div>
        <div className="page-header-actions">
          <button
            type="button"
            className="button"
            onClick={() => setImporting(true)}
            disabled={readOnly}
            title={editRefusal}
          >
            Import…
          </button>
          <button
            type="button"
            className="button button-primary"
            onClick={() => setCreating(true)}
            disabled={readOnly}
            title={editRefusal}
          >
            New pipeline
          </button>
        </div>
      </div>

      <div className="list-toolbar">
        <label htmlFor={searchId} className="visually-hidden">
          Search pipelines
        </label>
        <input
          id={searchId}
          type="search"
          className="input list-search"
          placeholder="Search pipelines by name…"
          value={search}
          onChange={(e) => setSearch(e.target.value)}
          maxLength={100}
        />
        {list.isFetching && !list.isPending ? (
          <span className="muted list-busy" aria-live="polite">
            Searching…
          </span>
        ) : null}
      </div>

      <div className="notice-region" role="status" aria-live="polite">
        {notice ? (
          <div className={`page-notice${notice.error ? " page-notice-error" : ""}`}>
            <span>{notice.text}</span>
            {notice.href ? (
              <Link href={notice.href} className="page-notice-link">
                Open it
              </Link>
            ) : null}
            <button type="button" className="icon-button" onClick={() => setNotice(null)} aria-label="Dismiss message">
              ×
            </button>
          </div>
        ) : null}
      </div>

      {list.isPending ? (
        <p className="muted" aria-live="polite">
          Loading pipelines…
        </p>
      ) : list.isError ? (
        <p className="form-error" role="alert">
          {errorMessage(list.error)}
        </p>
      ) : rows.length === 0 && !searching ? (
        <div className="empty-state">
          <h2>No pipelines yet</h2>
          <p>Create one, drop a source, a transform and a sink on the canvas, and press Start. Or import a file.</p>
          <button
            type="button"
            className="button button-primary"
            onClick={() => setCreating(true)}
            disabled={readOnly}
            title={editRefusal}
          >
            Create your first pipeline
          </button>
        </div>
      ) : rows.length === 0 ? (
        <p className="muted list-none">No pipeline’s name contains “{query}”.</p>
      ) : (
        <div className="table-card">
          <table className="table" aria-label="Pipelines">
            <thead>
              <tr>
                <th scope="col">Name</th>
                <th scope="col">Last run</th>
                <th scope="col">Owner</th>
                <th scope="col">Updated</th>
                <th scope="col">
                  <span className="visually-hidden">Actions</span>
                </th>
              </tr>
            </thead>
            <tbody>
              {rows.map((p) => (
                <tr key={p.id}>
                  <td>
                    <Link href={`/pipelines/${p.id}`} className="table-link">
                      {p.name}
                    </Link>
                    <span className="version-tag" title={`${p.latestVersion} saved versions`}>
                      v{p.latestVersion}
                    </span>
                    {p.description ? <div className="table-sub">{p.description}</div> : null}
                  </td>
                  <td>
                    {p.lastRun ? (
                      <span className="cell-status">
                        <Link href={`/runs/${p.lastRun.id}`} aria-label={`Last run of ${p.name}: ${p.lastRun.status}`}>
                          <RunStatusBadge status={p.lastRun.status} />
                        </Link>
                        <span className="muted" title={formatAbsolute(p.lastRun.createdAt)}>
                          {formatRelative(p.lastRun.createdAt)}
                        </span>
                      </span>
                    ) : (
                      <span className="muted">Never run</span>
                    )}
                  </td>
                  <td className="muted">{p.createdBy}</td>
                  <td className="muted" title={formatAbsolute(p.updatedAt)}>
                    {formatRelative(p.updatedAt)}
                  </td>
                  <td className="cell-actions">
                    <div className="row-actions">
                      <button
                        type="button"
                        className="button button-ghost button-small"
                        aria-label={`Rename ${p.name}`}
                        disabled={readOnly}
                        title={editRefusal}
                        onClick={() => setRenaming(p)}
                      >
                        Rename
                      </button>
                      <button
                        type="button"
                        className="button button-ghost button-small"
                        aria-label={`Duplicate ${p.name}`}
                        disabled={duplicate.isPending || readOnly}
                        title={editRefusal}
                        onClick={() => duplicate.mutate({ id: p.id })}
                      >
                        Duplicate
                      </button>
                      <button
                        type="button"
                        className="button button-ghost button-small"
                        aria-label={`Export ${p.name}`}
                        title="Download the latest version as YAML"
                        onClick={() => void exportPipeline(p)}
                      >
                        Export
                      </button>
                      <button
                        type="button"
                        className="button button-ghost button-small button-ghost-danger"
                        aria-label={`Delete ${p.name}`}
                        disabled={readOnly}
                        title={editRefusal}
                        onClick={() => setDeleting(p)}
                      >
                        Delete
                      </button>
                    </div>
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}

      <NewPipelineDialog open={creating} onClose={() => setCreating(false)} />
      <PipelineImportDialog open={importing} onClose={() => setImporting(false)} />
      <RenamePipelineDialog
        pipeline={renaming}
        onClose={() => setRenaming(null)}
        onRenamed={(name) => setNotice({ text: `Renamed to “${name}”.` })}
      />
      <DeletePipelineDialog
        pipeline={deleting}
        onClose={() => setDeleting(null)}
        onDeleted={(name) => setNotice({ text: `Deleted “${name}”.` })}
      />
    </main>
  );
}

function NewPipelineDialog({ open, onClose }: { open: boolean; onClose: () => void }) {
  return (
    <Dialog open={open} onClose={onClose} title="New pipeline">
      <NewPipelineForm onClose={onClose} />
    </Dialog>
  );
}

function NewPipelineForm({ onClose }: { onClose: () => void }) {
  const trpc = useTRPC();
  const router = useRouter();
  const queryClient = useQueryClient();
  const [name, setName] = useState("");
  const create = useMutation(
    trpc.pipelines.create.mutationOptions({
      onSuccess: ({ id }) => {
        void queryClient.invalidateQueries(trpc.pipelines.list.queryFilter());
        router.push(`/pipelines/${id}`);
      },
    }),
  );
  const errors = formErrors(create.error, ["name", "description"]);
  const busy = create.isPending || create.isSuccess;
  const submit = (event: FormEvent<HTMLFormElement>) => {
    event.preventDefault();
    if (!busy) create.mutate({ name });
  };
  return (
    <form onSubmit={submit} className="dialog-form" noValidate>
      {errors.form ? (
        <p className="form-error" role="alert">
          {errors.form}
        </p>
      ) : null}
      <TextField
        label="Name"
        name="name"
        value={name}
        onChange={(e) => setName(e.target.value)}
        error={errors.fields.name}
        placeholder="Clicks per minute"
        autoFocus
        autoComplete="off"
        maxLength={100}
      />
      <div className="dialog-actions">
        <button type="button" className="button" onClick={onClose} disabled={busy}>
          Cancel
        </button>
        <button type="submit" className="button button-primary" disabled={busy}>
          {busy ? "Creating…" : "Create pipeline"}
        </button>
      </div>
    </form>
  );
}

function RenamePipelineDialog({
  pipeline,
  onClose,
  onRenamed,
}: {
  pipeline: PipelineRef | null;
  onClose: () => void;
  onRenamed: (name: string) => void;
}) {
  return (
    <Dialog open={pipeline !== null} onClose={onClose} title={`Rename “${pipeline?.name ?? ""}”`}>
      {pipeline ? <RenameForm pipeline={pipeline} onClose={onClose} onRenamed={onRenamed} /> : null}
    </Dialog>
  );
}

function RenameForm({
  pipeline,
  onClose,
  onRenamed,
}: {
  pipeline: PipelineRef;
  onClose: () => void;
  onRenamed: (name: string) => void;
}) {
  const trpc = useTRPC();
  const queryClient = useQueryClient();
  const [name, setName] = useState(pipeline.name);
  const [description, setDescription] = useState(pipeline.description);
  const rename = useMutation(
    trpc.pipelines.rename.mutationOptions({
      onSuccess: async ({ name }) => {
        await queryClient.invalidateQueries(trpc.pipelines.list.queryFilter());
        void queryClient.invalidateQueries(trpc.pipelines.get.queryFilter({ id: pipeline.id }));
        onRenamed(name);
        onClose();
      },
    }),
  );
  const errors = formErrors(rename.error, ["name", "description"]);
  const submit = (event: FormEvent<HTMLFormElement>) => {
    event.preventDefault();
    if (!rename.isPending) rename.mutate({ id: pipeline.id, name, description });
  };
  return (
    <form onSubmit={submit} className="dialog-form" noValidate>
      {errors.form ? (
        <p className="form-error" role="alert">
          {errors.form}
        </p>
      ) : null}
      <TextField
        label="Name"
        name="name"
        value={name}
        onChange={(e) => setName(e.target.value)}
        error={errors.fields.name}
        autoFocus
        autoComplete="off"
        maxLength={100}
      />
      <TextField
        label="Description"
        name="description"
        value={description}
        onChange={(e) => setDescription(e.target.value)}
        error={errors.fields.description}
        autoComplete="off"
        maxLength={2000}
        hint="Optional: what the pipeline is for."
      />
      <div className="dialog-actions">
        <button type="button" className="button" onClick={onClose} disabled={rename.isPending}>
          Cancel
        </button>
        <button type="submit" className="button button-primary" disabled={rename.isPending}>
          {rename.isPending ? "Renaming…" : "Rename"}
        </button>
      </div>
    </form>
  );
}

function DeletePipelineDialog({
  pipeline,
  onClose,
  onDeleted,
}: {
  pipeline: PipelineRef | null;
  onClose: () => void;
  onDeleted: (name: string) => void;
}) {
  const trpc = useTRPC();
  const queryClient = useQueryClient();
  const remove = useMutation(
    trpc.pipelines.delete.mutationOptions({
      onSuccess: async () => {
        await queryClient.invalidateQueries(trpc.pipelines.list.queryFilter());
        if (pipeline) onDeleted(pipeline.name);
        onClose();
        remove.reset();
      },
    }),
  );
  const close = () => {
    onClose();
    remove.reset();
  };
  return (
    <Dialog
      open={pipeline !== null}
      onClose={close}
      title={`Delete “${pipeline?.name ?? ""}”?`}
      description="The pipeline, all its versions and its run history are deleted. This cannot be undone."
      dismissible={!remove.isPending}
      role="alertdialog"
    >
      {remove.error ? (
        <p className="form-error" role="alert">
          {errorMessage(remove.error)}
        </p>
      ) : null}
      <div className="dialog-actions">
        <button type="button" className="button" onClick={close} disabled={remove.isPending}>
          Cancel
        </button>
        <button
          type="button"
          className="button button-danger"
          disabled={remove.isPending || pipeline === null}
          onClick={() => pipeline && remove.mutate({ id: pipeline.id })}
        >
          {remove.isPending ? "Deleting…" : "Delete pipeline"}
        </button>
      </div>
    </Dialog>
  );
}
