"use client";

import { keepPreviousData, useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import Link from "next/link";
import { useRouter } from "next/navigation";
import { type FormEvent, useId, useState } from "react";
import type { RouterOutputs } from "@/components/api-types";
import { Dialog } from "@/components/dialog";
import { TextField } from "@/components/text-field";
import { useEditorRuntime } from "@/editor/use-editor-runtime";
import { errorCode, errorMessage, formErrors } from "@/lib/errors";
import { formatAbsolute } from "@/lib/format";
import { useWorkspaceRole } from "@/lib/use-workspace-role";
import { useTRPC } from "@/trpc/react";
import { ParametersTable } from "./parameters-table";
import { ReadOnlyCanvas } from "./read-only-canvas";
import { SharePanel } from "./share-panel";
import { parseTags } from "./template-values";
import { UseTemplateDialog } from "./use-template-form";
import { VISIBILITY_OPTIONS, visibilityLabel } from "./visibility";
import "./templates.css";

// A template's page: what it is, any of its versions drawn, its parameters, "Use template"; for those who may
// change it, its details, deleting it, and its share links.

type TemplateView = RouterOutputs["templates"]["get"];

export function TemplateDetails({ id }: { id: string }) {
  const trpc = useTRPC();
  const versionId = useId();
  const [version, setVersion] = useState<number | null>(null);
  const template = useQuery(
    trpc.templates.get.queryOptions(version === null ? { id } : { id, version }, {
      placeholderData: keepPreviousData,
    }),
  );
  const runtime = useEditorRuntime();
  const { why } = useWorkspaceRole();
  const useRefusal = why("useTemplates");
  const [using, setUsing] = useState(false);
  const [editing, setEditing] = useState(false);
  const [deleting, setDeleting] = useState(false);

  if (template.isPending) {
    return (
      <main className="page">
        <p className="muted" aria-live="polite">
          Loading the template…
        </p>
      </main>
    );
  }
  if (template.isError) {
    return (
      <main className="page">
        <h1 className="page-title">Template not found</h1>
        <p className="form-error" role="alert">
          {errorCode(template.error) === "NOT_FOUND"
            ? "There is no such template here, or it is not shared with you."
            : errorMessage(template.error)}
        </p>
        <p>
          <Link href="/templates">Back to the templates</Link>
        </p>
      </main>
    );
  }
  const t = template.data;
  const shownVersion = t.version;

  return (
    <main className="page template-page">
      <p className="template-back">
        <Link href="/templates">← All templates</Link>
      </p>
      <div className="page-header">
        <div>
          <h1 className="page-title">{t.title}</h1>
          <p className="template-meta">
            <span>{t.builtIn ? "Built in" : `By ${t.author ?? "an unknown author"}`}</span>
            <span aria-hidden="true"> · </span>
            <span>{visibilityLabel(t.visibility)}</span>
            <span aria-hidden="true"> · </span>
            <span>
              {t.uses} {t.uses === 1 ? "use" : "uses"}
            </span>
            {t.hasSample ? <span className="template-badge template-badge-sample">Sample data</span> : null}
          </p>
        </div>
        <div className="template-actions">
          {t.canEdit ? (
            <>
              <button type="button" className="button" onClick={() => setEditing(true)}>
                Edit details
              </button>
              <button type="button" className="button button-danger" onClick={() => setDeleting(true)}>
                Delete
              </button>
            </>
          ) : null}
          <button
            type="button"
            className="button button-primary"
            onClick={() => setUsing(true)}
            disabled={useRefusal !== undefined}
            title={useRefusal}
          >
            Use template
          </button>
        </div>
      </div>

      {t.description ? <p className="template-description">{t.description}</p> : null}
      {t.tags.length > 0 || t.connectors.length > 0 ? (
        <div className="template-card-marks">
          {t.connectors.map((c) => (
            <span key={c} className="template-badge template-badge-connector" title={`Uses a ${c} connection`}>
              {c}
            </span>
          ))}
          {t.tags.map((tag) => (
            <span key={tag} className="template-tag">
              #{tag}
            </span>
          ))}
        </div>
      ) : null}

      <section className="template-section" aria-labelledby="template-graph-heading">
        <div className="template-section-head">
          <h2 id="template-graph-heading" className="template-section-title">
            Pipeline
          </h2>
          <div className="template-version-picker">
            <label htmlFor={versionId} className="field-label">
              Version
            </label>
            <select
              id={versionId}
              className="input"
              value={version ?? shownVersion}
              onChange={(e) => setVersion(Number(e.target.value))}
            >
              {t.versions.map((v) => (
                <option key={v.number} value={v.number}>
                  v{v.number}
                  {v.number === t.latestVersion ? " (latest)" : ""}
                  {v.message ? ` — ${v.message}` : ""}
                </option>
              ))}
            </select>
          </div>
        </div>
        <VersionNote template={t} />
        {runtime.data ? (
          <ReadOnlyCanvas
            definition={t.definition}
            catalog={runtime.data.catalog}
            label={`${t.title}, v${shownVersion}`}
          />
        ) : runtime.isError ? (
          <p className="form-error" role="alert">
            Could not load the node catalog: {errorMessage(runtime.error)}
          </p>
        ) : (
          <p className="muted">Loading the node catalog…</p>
        )}
        {t.sample?.description ? (
          <p className="muted">
            <strong>Sample data:</strong> {t.sample.description}
          </p>
        ) : null}
      </section>

      <section className="template-section" aria-labelledby="template-parameters-heading">
        <h2 id="template-parameters-heading" className="template-section-title">
          Parameters
        </h2>
        <ParametersTable parameters={t.definition.spec.parameters} />
      </section>

      {t.canEdit ? <SharePanel templateId={t.id} /> : null}

      {using ? <UseTemplateDialog template={t} version={shownVersion} onClose={() => setUsing(false)} /> : null}
      <EditTemplateDialog template={editing ? t : null} onClose={() => setEditing(false)} />
      <DeleteTemplateDialog template={deleting ? t : null} onClose={() => setDeleting(false)} />
    </main>
  );
}

function VersionNote({ template: t }: { template: TemplateView }) {
  const v = t.versions.find((x) => x.number === t.version);
  if (!v) return null;
  return (
    <p className="muted template-version-note">
      v{v.number}
      {v.author ? ` by ${v.author}` : ""}, {formatAbsolute(v.createdAt)}
      {v.message ? `: ${v.message}` : ""}
    </p>
  );
}

function EditTemplateDialog({ template, onClose }: { template: TemplateView | null; onClose: () => void }) {
  return (
    <Dialog open={template !== null} onClose={onClose} title="Edit template">
      {template ? <EditTemplateForm template={template} onClose={onClose} /> : null}
    </Dialog>
  );
}

function EditTemplateForm({ template, onClose }: { template: TemplateView; onClose: () => void }) {
  const trpc = useTRPC();
  const queryClient = useQueryClient();
  const id = useId();
  const [title, setTitle] = useState(template.title);
  const [description, setDescription] = useState(template.description);
  const [tags, setTags] = useState(template.tags.join(", "));
  const [visibility, setVisibility] = useState(template.visibility);
  const update = useMutation(
    trpc.templates.update.mutationOptions({
      onSuccess: async () => {
        await Promise.all([
          queryClient.invalidateQueries(trpc.templates.get.queryFilter()),
          queryClient.invalidateQueries(trpc.templates.list.queryFilter()),
        ]);
        onClose();
      },
    }),
  );
  const errors = formErrors(update.error, ["title", "description", "tags", "visibility"]);
  const submit = (event: FormEvent<HTMLFormElement>) => {
    event.preventDefault();
    if (!update.isPending) {
      update.mutate({ id: template.id, title, description, tags: parseTags(tags), visibility });
    }
  };
  return (
    <form onSubmit={submit} className="dialog-form" noValidate>
      {errors.form ? (
        <p className="form-error" role="alert">
          {errors.form}
        </p>
      ) : null}
      <TextField
        label="Title"
        name="title"
        value={title}
        onChange={(e) => setTitle(e.target.value)}
        error={errors.fields.title}
        autoComplete="off"
        maxLength={200}
        autoFocus
      />
      <div className="field">
        <label htmlFor={`${id}-description`} className="field-label">
          Description
        </label>
        <textarea
          id={`${id}-description`}
          className="input"
          rows={4}
          value={description}
          onChange={(e) => setDescription(e.target.value)}
          maxLength={10_000}
          aria-invalid={errors.fields.description ? true : undefined}
        />
        {errors.fields.description ? <p className="field-error">{errors.fields.description}</p> : null}
      </div>
      <TextField
        label="Tags"
        name="tags"
        value={tags}
        onChange={(e) => setTags(e.target.value)}
        error={errors.fields.tags}
        hint="Comma separated lower-case words, e.g. cdc, postgres."
        autoComplete="off"
      />
      <div className="field">
        <label htmlFor={`${id}-visibility`} className="field-label">
          Visible to
        </label>
        <select
          id={`${id}-visibility`}
          className="input"
          value={visibility}
          onChange={(e) => setVisibility(e.target.value as TemplateView["visibility"])}
        >
          {VISIBILITY_OPTIONS.map((o) => (
            <option key={o.value} value={o.value}>
              {o.label}
            </option>
          ))}
        </select>
        {errors.fields.visibility ? <p className="field-error">{errors.fields.visibility}</p> : null}
      </div>
      <div className="dialog-actions">
        <button type="button" className="button" onClick={onClose} disabled={update.isPending}>
          Cancel
        </button>
        <button type="submit" className="button button-primary" disabled={update.isPending}>
          {update.isPending ? "Saving…" : "Save"}
        </button>
      </div>
    </form>
  );
}

function DeleteTemplateDialog({ template, onClose }: { template: TemplateView | null; onClose: () => void }) {
  const trpc = useTRPC();
  const router = useRouter();
  const queryClient = useQueryClient();
  const remove = useMutation(
    trpc.templates.delete.mutationOptions({
      onSuccess: async () => {
        await queryClient.invalidateQueries(trpc.templates.list.queryFilter());
        router.push("/templates");
      },
    }),
  );
  const busy = remove.isPending || remove.isSuccess;
  const close = () => {
    onClose();
    remove.reset();
  };
  return (
    <Dialog
      open={template !== null}
      onClose={close}
      title={`Delete “${template?.title ?? ""}”?`}
      description="The template, its versions and its share links are deleted. Pipelines made from it stay as they are. This cannot be undone."
      dismissible={!busy}
      role="alertdialog"
    >
      {remove.error ? (
        <p className="form-error" role="alert">
          {errorMessage(remove.error)}
        </p>
      ) : null}
      <div className="dialog-actions">
        <button type="button" className="button" onClick={close} disabled={busy}>
          Cancel
        </button>
        <button
          type="button"
          className="button button-danger"
          disabled={busy || template === null}
          onClick={() => template && remove.mutate({ id: template.id })}
        >
          {busy ? "Deleting…" : "Delete template"}
        </button>
      </div>
    </Dialog>
  );
}
