"use client";

import { keepPreviousData, useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import Link from "next/link";
import { useRouter } from "next/navigation";
import { type FormEvent, useId, useState } from "react";
import type { RouterOutputs } from "@/components/api-types";
import { Dialog } from "@/components/dialog";
import { errorCode, errorMessage, formErrors } from "@/lib/errors";
import { formatAbsolute } from "@/lib/format";
import { useWorkspaceRole } from "@/lib/use-workspace-role";
import { useTRPC } from "@/trpc/react";
import { ParametersTable } from "./parameters-table";
import { SharePanel } from "./share-panel";
import { TemplateFields, templateFieldValues } from "./template-fields";
import { TemplateHeader, usesLabel } from "./template-header";
import { TemplatePipeline } from "./template-pipeline";
import { parseTags } from "./template-values";
import { UseTemplateDialog } from "./use-template-form";
import { visibilityLabel } from "./visibility";
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
      <TemplateHeader
        template={t}
        facts={[visibilityLabel(t.visibility), usesLabel(t.uses)]}
        actions={
          <>
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
          </>
        }
      />

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
        <TemplatePipeline definition={t.definition} sample={t.sample} label={`${t.title}, v${shownVersion}`} />
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
  const [fields, setFields] = useState(() => templateFieldValues(template));
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
      update.mutate({ id: template.id, ...fields, tags: parseTags(fields.tags) });
    }
  };
  return (
    <form onSubmit={submit} className="dialog-form" noValidate>
      {errors.form ? (
        <p className="form-error" role="alert">
          {errors.form}
        </p>
      ) : null}
      <TemplateFields values={fields} onChange={setFields} errors={errors.fields} />
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
