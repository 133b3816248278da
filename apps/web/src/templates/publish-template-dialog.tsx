"use client";

import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import Link from "next/link";
import { type FormEvent, useId, useState } from "react";
import { Dialog } from "@/components/dialog";
import { TextField } from "@/components/text-field";
import { useEditor } from "@/editor/editor-context";
import { isDirty } from "@/editor/store/editor-store";
import { formErrors } from "@/lib/errors";
import { useWorkspaceRole } from "@/lib/use-workspace-role";
import { useTRPC } from "@/trpc/react";
import { TemplateFields, type TemplateFieldValues, templateFieldValues } from "./template-fields";
import { parseTags } from "./template-values";

// "Save as template" in the editor: the pipeline's latest saved version becomes a new template, or a new version of
// one of the workspace's. What is on screen but unsaved is not in it, so a dirty draft must be saved first.

const NEW_TEMPLATE = "";

export function PublishTemplateDialog({ open, onClose }: { open: boolean; onClose: () => void }) {
  return (
    <Dialog open={open} onClose={onClose} title="Save as template">
      <PublishTemplateForm onClose={onClose} />
    </Dialog>
  );
}

function PublishTemplateForm({ onClose }: { onClose: () => void }) {
  const trpc = useTRPC();
  const queryClient = useQueryClient();
  const id = useId();
  const pipelineId = useEditor((s) => s.pipelineId);
  const pipelineName = useEditor((s) => s.name);
  const dirty = useEditor(isDirty);
  const { why } = useWorkspaceRole();
  const refusal = why("useTemplates");
  // Built-in templates are never the workspace's to add versions to; which of the rest the caller may change, the
  // API says when asked (a refusal names the template).
  const existing = useQuery(
    trpc.templates.list.queryOptions(
      { scope: "workspace" },
      { select: (items) => items.filter((t) => !t.builtIn), staleTime: 0 },
    ),
  );
  const [target, setTarget] = useState(NEW_TEMPLATE);
  const fresh = (): TemplateFieldValues => ({
    title: pipelineName,
    description: "",
    tags: "",
    visibility: "WORKSPACE",
  });
  const [fields, setFields] = useState(fresh);
  const [message, setMessage] = useState("");
  const publish = useMutation(
    trpc.templates.publish.mutationOptions({
      onSuccess: () => void queryClient.invalidateQueries(trpc.templates.list.queryFilter()),
    }),
  );
  const errors = formErrors(publish.error, ["title", "description", "tags", "visibility", "message", "templateId"]);

  const choose = (templateId: string) => {
    setTarget(templateId);
    const chosen = existing.data?.find((t) => t.id === templateId);
    // A new version starts from what the template says of itself now.
    setFields(chosen ? templateFieldValues(chosen) : fresh());
  };

  const submit = (event: FormEvent<HTMLFormElement>) => {
    event.preventDefault();
    if (publish.isPending || dirty) return;
    publish.mutate({
      pipelineId,
      ...(target !== NEW_TEMPLATE ? { templateId: target } : {}),
      ...fields,
      tags: parseTags(fields.tags),
      message,
    });
  };

  if (publish.data) {
    const { id: templateId, version } = publish.data;
    return (
      <div className="dialog-form">
        <p role="status">
          {version === 1 ? "Published the template." : `Published version ${version} of the template.`}{" "}
          <Link href={`/templates/${templateId}`}>Open the template</Link>
        </p>
        <div className="dialog-actions">
          <button type="button" className="button button-primary" onClick={onClose}>
            Done
          </button>
        </div>
      </div>
    );
  }

  return (
    <form onSubmit={submit} className="dialog-form" noValidate>
      {dirty ? (
        <p className="form-error" role="alert">
          Save first: a template is made from a saved version.
        </p>
      ) : (
        <p className="muted">
          The pipeline's latest saved version is published; its connections become slots to fill in.
        </p>
      )}
      {errors.form || errors.fields.templateId ? (
        <p className="form-error" role="alert">
          {[errors.fields.templateId, errors.form].filter(Boolean).join("; ")}
        </p>
      ) : null}
      <div className="field">
        <label htmlFor={`${id}-target`} className="field-label">
          Publish as
        </label>
        <select id={`${id}-target`} className="input" value={target} onChange={(e) => choose(e.target.value)}>
          <option value={NEW_TEMPLATE}>A new template</option>
          {(existing.data ?? []).map((t) => (
            <option key={t.id} value={t.id}>
              A new version of “{t.title}” (now v{t.latestVersion})
            </option>
          ))}
        </select>
      </div>
      <TemplateFields values={fields} onChange={setFields} errors={errors.fields} />
      <TextField
        label="Version message"
        name="message"
        value={message}
        onChange={(e) => setMessage(e.target.value)}
        error={errors.fields.message}
        hint={
          target === NEW_TEMPLATE ? "Optional: what this first version is." : "What changed since the last version."
        }
        autoComplete="off"
        maxLength={500}
      />
      <div className="dialog-actions">
        <button type="button" className="button" onClick={onClose} disabled={publish.isPending}>
          Cancel
        </button>
        <button
          type="submit"
          className="button button-primary"
          disabled={publish.isPending || dirty || refusal !== undefined}
          title={dirty ? "Save first: a template is made from a saved version" : refusal}
        >
          {publish.isPending ? "Publishing…" : "Publish"}
        </button>
      </div>
    </form>
  );
}
