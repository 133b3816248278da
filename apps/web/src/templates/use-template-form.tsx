"use client";

import type { PipelineParameter } from "@sluice/pipeline/definition";
import { withSampleSources } from "@sluice/pipeline/template-file";
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { useRouter } from "next/navigation";
import { type FormEvent, type ReactNode, useId, useMemo, useState } from "react";
import type { ConnectionItem, RouterOutputs } from "@/components/api-types";
import { Dialog } from "@/components/dialog";
import { TextField } from "@/components/text-field";
import { errorMessage } from "@/lib/errors";
import { useWorkspaceRole } from "@/lib/use-workspace-role";
import { useTRPC } from "@/trpc/react";
import { type ConnectionRequest, NewConnectionDialog } from "./inline-connection";
import { connectionsForSlot, initialTexts, parameterValues, templateUseProblems } from "./template-values";
import "./templates.css";

// "Use template": a new pipeline of the workspace from a template version, with a value for each of its parameters —
// a connection slot takes one of the workspace's connections of its type. A template with a sample can run on
// generated data instead of its sources; the slots only those sources used then need no connection.

type UsableTemplate = Pick<
  RouterOutputs["templates"]["get"],
  "id" | "title" | "definition" | "sample" | "latestVersion"
>;

const NAME_MAX = 100;

export function UseTemplateDialog({
  template,
  shareToken,
  version,
  onClose,
}: {
  template: UsableTemplate;
  /** The share link the template was opened by, for a template of another workspace. */
  shareToken?: string;
  /** The template version to use; the latest when absent. */
  version?: number;
  onClose: () => void;
}) {
  const [busy, setBusy] = useState(false);
  const [creating, setCreating] = useState<ConnectionRequest | null>(null);
  return (
    <>
      <Dialog open onClose={onClose} title="Use template" dismissible={!busy && creating === null}>
        <UseTemplateForm
          template={template}
          shareToken={shareToken}
          version={version}
          onClose={onClose}
          onBusy={setBusy}
          onNewConnection={setCreating}
        />
      </Dialog>
      <NewConnectionDialog request={creating} onClose={() => setCreating(null)} />
    </>
  );
}

function UseTemplateForm({
  template,
  shareToken,
  version,
  onClose,
  onBusy,
  onNewConnection,
}: {
  template: UsableTemplate;
  shareToken: string | undefined;
  version: number | undefined;
  onClose: () => void;
  onBusy: (busy: boolean) => void;
  onNewConnection: (request: ConnectionRequest) => void;
}) {
  const trpc = useTRPC();
  const router = useRouter();
  const queryClient = useQueryClient();
  const id = useId();
  const { can, why } = useWorkspaceRole();
  const refusal = why("useTemplates");
  const connections = useQuery(trpc.connections.list.queryOptions(undefined, { staleTime: 30_000 }));
  const [name, setName] = useState(template.title.slice(0, NAME_MAX));
  const [sample, setSample] = useState(false);
  // Until the user types, each text follows what it starts as (so a connection list that arrives late still
  // preselects); a typed text is kept.
  const [typed, setTyped] = useState<Record<string, string>>({});
  const { sample: templateSample, definition } = template;
  const parameters = useMemo(
    () =>
      sample && templateSample
        ? withSampleSources(definition, templateSample).spec.parameters
        : definition.spec.parameters,
    [sample, templateSample, definition],
  );
  const starting = useMemo(
    () => initialTexts(definition.spec.parameters, connections.data ?? []),
    [definition, connections.data],
  );
  const texts = { ...starting, ...typed };
  const use = useMutation(
    trpc.templates.use.mutationOptions({
      onMutate: () => onBusy(true),
      onSuccess: ({ pipelineId }) => {
        void queryClient.invalidateQueries(trpc.pipelines.list.queryFilter());
        void queryClient.invalidateQueries(trpc.templates.list.queryFilter());
        router.push(`/pipelines/${pipelineId}`);
      },
      onError: () => onBusy(false),
    }),
  );
  const shown = useMemo(() => new Set(parameters.map((p) => p.name)), [parameters]);
  const problems = templateUseProblems(use.error, shown);
  const busy = use.isPending || use.isSuccess;

  const submit = (event: FormEvent<HTMLFormElement>) => {
    event.preventDefault();
    if (busy) return;
    use.mutate({
      ...(shareToken ? { shareToken } : { templateId: template.id }),
      ...(version !== undefined ? { version } : {}),
      name,
      values: parameterValues(parameters, texts),
      sample,
    });
  };

  return (
    <form onSubmit={submit} className="dialog-form use-template-form" noValidate>
      {problems.form ? (
        <p className="form-error" role="alert">
          {problems.form}
        </p>
      ) : null}
      <TextField
        label="Pipeline name"
        name="name"
        value={name}
        onChange={(e) => setName(e.target.value)}
        error={problems.name ?? undefined}
        autoComplete="off"
        maxLength={NAME_MAX}
        autoFocus
      />
      {templateSample ? (
        <div className="field">
          <div className="field-check-row">
            <input
              id={`${id}-sample`}
              type="checkbox"
              className="checkbox"
              checked={sample}
              onChange={(e) => setSample(e.target.checked)}
              aria-describedby={templateSample.description ? `${id}-sample-hint` : undefined}
            />
            <label htmlFor={`${id}-sample`}>Run on sample data instead of its sources</label>
          </div>
          {templateSample.description ? (
            <p id={`${id}-sample-hint`} className="field-hint">
              {templateSample.description}
            </p>
          ) : null}
        </div>
      ) : null}
      {parameters.length > 0 ? (
        <fieldset className="use-template-parameters">
          <legend className="field-label">Parameters</legend>
          {parameters.some((p) => p.required) ? (
            <p className="field-hint">
              <span aria-hidden="true">*</span> A value is required.
            </p>
          ) : null}
          {parameters.map((p) => (
            <ParameterInput
              key={p.name}
              id={`${id}-p-${p.name}`}
              parameter={p}
              text={texts[p.name] ?? ""}
              onChange={(text) => setTyped((t) => ({ ...t, [p.name]: text }))}
              connections={connections.data}
              connectionsError={connections.isError ? errorMessage(connections.error) : null}
              onNewConnection={
                can("manageConnections")
                  ? () =>
                      onNewConnection({
                        type: p.connectorType,
                        onCreated: (name) => setTyped((t) => ({ ...t, [p.name]: name })),
                      })
                  : undefined
              }
              error={problems.parameters[p.name]}
            />
          ))}
        </fieldset>
      ) : (
        <p className="muted">This template has no parameters to fill in.</p>
      )}
      <div className="dialog-actions">
        <button type="button" className="button" onClick={onClose} disabled={busy}>
          Cancel
        </button>
        <button
          type="submit"
          className="button button-primary"
          disabled={busy || refusal !== undefined}
          title={refusal}
        >
          {busy ? "Creating…" : "Create pipeline"}
        </button>
      </div>
    </form>
  );
}

function ParameterInput({
  id,
  parameter: p,
  text,
  onChange,
  connections,
  connectionsError,
  onNewConnection,
  error,
}: {
  id: string;
  parameter: PipelineParameter;
  text: string;
  onChange: (text: string) => void;
  connections: readonly ConnectionItem[] | undefined;
  connectionsError: string | null;
  /** Opens the new-connection dialog for this slot; undefined for those who may not create connections. */
  onNewConnection: (() => void) | undefined;
  error: string | undefined;
}) {
  const label = p.label || p.name;
  const hintId = `${id}-hint`;
  const errorId = `${id}-error`;
  const describedBy = [p.description ? hintId : null, error ? errorId : null].filter(Boolean).join(" ") || undefined;
  const common = {
    id,
    "aria-invalid": error ? true : undefined,
    "aria-describedby": describedBy,
    "aria-required": p.required ? true : undefined,
  } as const;
  const labelEl = (
    <label htmlFor={id} className="field-label">
      {label}
      {p.required ? (
        <span className="use-template-required" aria-hidden="true" title="Required">
          {" *"}
        </span>
      ) : null}
    </label>
  );

  let control: ReactNode;
  if (p.type === "boolean") {
    return (
      <div className="field">
        <div className="field-check-row">
          <input
            {...common}
            type="checkbox"
            className="checkbox"
            checked={text === "true"}
            onChange={(e) => onChange(e.target.checked ? "true" : "false")}
          />
          {labelEl}
        </div>
        <FieldNotes hintId={hintId} errorId={errorId} description={p.description} error={error} />
      </div>
    );
  }
  if (p.type === "connection") {
    const fitting = connectionsForSlot(p, connections ?? []);
    const kind = p.connectorType ?? "";
    if (connections && fitting.length === 0) {
      control = (
        <p className="use-template-missing" id={id}>
          There is no {kind ? <strong>{kind}</strong> : null} connection in this workspace.{" "}
          {onNewConnection ? (
            <NewConnectionButton type={p.connectorType} onClick={onNewConnection} />
          ) : (
            <span>Admins and owners create connections: ask one of them to add it.</span>
          )}
        </p>
      );
      return (
        <div className="field">
          <span className="field-label">{label}</span>
          {control}
          <FieldNotes hintId={hintId} errorId={errorId} description={p.description} error={error} />
        </div>
      );
    }
    control = (
      <select
        {...common}
        className="input"
        value={text}
        onChange={(e) => onChange(e.target.value)}
        disabled={!connections}
      >
        <option value="">
          {connections
            ? `Choose a ${kind ? `${kind} ` : ""}connection`
            : connectionsError
              ? "Could not load connections"
              : "Loading connections…"}
        </option>
        {fitting.map((c) => (
          <option key={c.id} value={c.name}>
            {c.name}
          </option>
        ))}
      </select>
    );
    if (onNewConnection) {
      control = (
        <div className="use-template-slot">
          {control}
          <NewConnectionButton type={p.connectorType} onClick={onNewConnection} />
        </div>
      );
    }
  } else if (p.type === "choice") {
    control = (
      <select {...common} className="input" value={text} onChange={(e) => onChange(e.target.value)}>
        {p.default === undefined ? <option value="">Choose…</option> : null}
        {(p.choices ?? []).map((c) => (
          <option key={c} value={c}>
            {c}
          </option>
        ))}
      </select>
    );
  } else if (p.type === "expression") {
    control = (
      <textarea
        {...common}
        className="input input-code"
        rows={2}
        value={text}
        onChange={(e) => onChange(e.target.value)}
        spellCheck={false}
      />
    );
  } else if (p.type === "number" || p.type === "integer") {
    control = (
      <input
        {...common}
        type="number"
        className="input"
        value={text}
        min={p.min}
        max={p.max}
        step={p.type === "integer" ? 1 : "any"}
        onChange={(e) => onChange(e.target.value)}
      />
    );
  } else {
    control = (
      <input
        {...common}
        type="text"
        className={p.type === "duration" ? "input mono" : "input"}
        value={text}
        maxLength={p.maxLength}
        placeholder={p.type === "duration" ? "e.g. 5s, 1m, 2h" : undefined}
        onChange={(e) => onChange(e.target.value)}
        autoComplete="off"
        spellCheck={false}
      />
    );
  }
  return (
    <div className="field">
      {labelEl}
      {control}
      {connectionsError && p.type === "connection" ? (
        <p className="field-error">Could not load the connections: {connectionsError}</p>
      ) : null}
      <FieldNotes hintId={hintId} errorId={errorId} description={p.description} error={error} />
    </div>
  );
}

function FieldNotes({
  hintId,
  errorId,
  description,
  error,
}: {
  hintId: string;
  errorId: string;
  description: string | undefined;
  error: string | undefined;
}) {
  return (
    <>
      {description ? (
        <p id={hintId} className="field-hint">
          {description}
        </p>
      ) : null}
      {error ? (
        <p id={errorId} className="field-error" role="alert">
          {error}
        </p>
      ) : null}
    </>
  );
}

function NewConnectionButton({ type, onClick }: { type: string | undefined; onClick: () => void }) {
  return (
    <button type="button" className="button button-small" onClick={onClick}>
      New {type ? `${type} ` : ""}connection…
    </button>
  );
}
