"use client";

import type { PipelineParameter } from "@sluice/pipeline/definition";
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { type FormEvent, useId, useState } from "react";
import { Dialog } from "@/components/dialog";
import { typedParameterValue } from "@/editor/dock/parameter-value";
import { useEditor } from "@/editor/editor-context";
import { errorMessage, formErrors } from "@/lib/errors";
import { formatAbsolute, formatIso, formatRelative } from "@/lib/format";
import { useWorkspaceRole } from "@/lib/use-workspace-role";
import { useTRPC } from "@/trpc/react";

// The pipeline's schedules. Unlike settings they are not part of the draft: each change is made on the server at
// once, and a fire runs the pipeline's latest saved version. Viewers see them; editors change them.

const SCHEDULE_FIELDS = ["pattern", "timeZone", "parameters"] as const;

function browserTimeZone(): string {
  try {
    return Intl.DateTimeFormat().resolvedOptions().timeZone || "UTC";
  } catch {
    return "UTC";
  }
}

export function ScheduleList() {
  const trpc = useTRPC();
  const queryClient = useQueryClient();
  const pipelineId = useEditor((s) => s.pipelineId);
  const headingId = useId();
  const schedules = useQuery(trpc.schedules.list.queryOptions({ pipelineId }));
  const update = useMutation(trpc.schedules.update.mutationOptions());
  const remove = useMutation(trpc.schedules.delete.mutationOptions());
  const { can, why } = useWorkspaceRole();
  const canEdit = can("manageSchedules");
  const refusal = why("manageSchedules");
  const [rowError, setRowError] = useState<{ id: string; text: string } | null>(null);
  const [deleting, setDeleting] = useState<{ id: string; pattern: string } | null>(null);
  const refresh = () => queryClient.invalidateQueries(trpc.schedules.list.queryFilter());

  const act = async (id: string, run: () => Promise<unknown>) => {
    setRowError(null);
    try {
      await run();
      await refresh();
    } catch (err) {
      setRowError({ id, text: errorMessage(err) });
    }
  };

  return (
    <section className="settings-section" aria-labelledby={headingId}>
      <h3 id={headingId} className="section-title">
        Schedules
      </h3>
      <p className="muted">
        Schedules are not part of the draft: adding, pausing or deleting one takes effect at once, without saving. Each
        fire starts the latest saved version, with the parameter values the schedule gives.
      </p>
      {schedules.isError ? (
        <p className="form-error" role="alert">
          {errorMessage(schedules.error)}
        </p>
      ) : null}
      {schedules.data && schedules.data.length === 0 ? <p className="muted">No schedules yet.</p> : null}
      {schedules.data && schedules.data.length > 0 ? (
        <table className="table schedule-table">
          <thead>
            <tr>
              <th scope="col">Cron</th>
              <th scope="col">Time zone</th>
              <th scope="col">Next run</th>
              <th scope="col">Last run</th>
              <th scope="col">
                <span className="visually-hidden">Actions</span>
              </th>
            </tr>
          </thead>
          <tbody>
            {schedules.data.map((s) => (
              <tr key={s.id} data-testid={`schedule-${s.id}`}>
                <td>
                  <span className="mono">{s.pattern}</span>
                  {Object.keys(s.parameters).length > 0 ? (
                    <span className="muted" data-testid="schedule-parameters">
                      {" "}
                      with{" "}
                      {Object.entries(s.parameters)
                        .map(([name, value]) => `${name} = ${String(value)}`)
                        .join(", ")}
                    </span>
                  ) : null}
                </td>
                <td>{s.timeZone}</td>
                <td data-testid="schedule-next">
                  {s.enabled && s.nextFireAt ? (
                    <time title={formatIso(s.nextFireAt)}>{formatAbsolute(s.nextFireAt)}</time>
                  ) : (
                    <span className="muted">paused</span>
                  )}
                </td>
                <td>
                  {s.lastFiredAt ? (
                    <span title={s.lastMessage ?? undefined}>
                      {formatRelative(s.lastFiredAt)} · {s.lastOutcome?.toLowerCase() ?? ""}
                    </span>
                  ) : (
                    <span className="muted">never</span>
                  )}
                  {rowError?.id === s.id ? (
                    <p className="field-error" role="alert">
                      {rowError.text}
                    </p>
                  ) : null}
                </td>
                <td className="schedule-actions">
                  <button
                    type="button"
                    className="button button-small"
                    disabled={!canEdit || update.isPending}
                    title={refusal}
                    onClick={() => void act(s.id, () => update.mutateAsync({ id: s.id, enabled: !s.enabled }))}
                  >
                    {s.enabled ? "Pause" : "Resume"}
                  </button>
                  <button
                    type="button"
                    className="button button-small button-danger"
                    disabled={!canEdit || remove.isPending}
                    title={refusal}
                    aria-label={`Delete schedule ${s.pattern}`}
                    onClick={() => setDeleting({ id: s.id, pattern: s.pattern })}
                  >
                    Delete…
                  </button>
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      ) : null}
      <NewScheduleForm pipelineId={pipelineId} onCreated={refresh} canEdit={canEdit} refusal={refusal} />
      <Dialog
        open={deleting !== null}
        onClose={() => setDeleting(null)}
        title={`Delete the schedule ${deleting?.pattern ?? ""}?`}
        role="alertdialog"
        dismissible={!remove.isPending}
        description="It no longer starts this pipeline. Runs it started already are kept."
      >
        <div className="dialog-actions">
          <button type="button" className="button" onClick={() => setDeleting(null)} disabled={remove.isPending}>
            Cancel
          </button>
          <button
            type="button"
            className="button button-danger"
            disabled={remove.isPending}
            onClick={() => {
              const target = deleting;
              setDeleting(null);
              if (target) void act(target.id, () => remove.mutateAsync({ id: target.id }));
            }}
          >
            Delete schedule
          </button>
        </div>
      </Dialog>
    </section>
  );
}

/** The values typed for the pipeline's parameters, typed as each declares; blank ones are left to the default. */
function parameterValues(
  parameters: readonly PipelineParameter[],
  texts: Readonly<Record<string, string>>,
): Record<string, string | number | boolean> {
  const values: Record<string, string | number | boolean> = {};
  for (const p of parameters) {
    const value = typedParameterValue(p.type, texts[p.name] ?? "");
    if (value !== undefined) values[p.name] = value;
  }
  return values;
}

function NewScheduleForm({
  pipelineId,
  onCreated,
  canEdit,
  refusal,
}: {
  pipelineId: string;
  onCreated: () => Promise<void>;
  canEdit: boolean;
  /** Why the role may not add one, for the button's title. */
  refusal: string | undefined;
}) {
  const trpc = useTRPC();
  // The draft's parameters: a fire runs the latest saved version, which the warnings check the values against.
  const parameters = useEditor((s) => s.frame.spec.parameters);
  const [parameterTexts, setParameterTexts] = useState<Record<string, string>>({});
  const create = useMutation(trpc.schedules.create.mutationOptions());
  const id = useId();
  const [pattern, setPattern] = useState("0 3 * * *");
  const [timeZone, setTimeZone] = useState(browserTimeZone);
  const [warnings, setWarnings] = useState<string[]>([]);
  const errors = formErrors(create.error, SCHEDULE_FIELDS);

  const submit = async (event: FormEvent<HTMLFormElement>) => {
    event.preventDefault();
    setWarnings([]);
    try {
      const result = await create.mutateAsync({
        pipelineId,
        pattern,
        timeZone,
        parameters: parameterValues(parameters, parameterTexts),
      });
      setWarnings(result.warnings);
      await onCreated();
    } catch {
      // shown next to the fields from create.error
    }
  };

  return (
    <form className="schedule-form" onSubmit={(e) => void submit(e)} aria-label="New schedule">
      <div className="field">
        <label htmlFor={`${id}-pattern`} className="field-label">
          Cron pattern
        </label>
        <input
          id={`${id}-pattern`}
          className="input mono"
          value={pattern}
          onChange={(e) => setPattern(e.target.value)}
          autoComplete="off"
          spellCheck={false}
          aria-invalid={errors.fields.pattern ? true : undefined}
          aria-describedby={`${id}-pattern-hint`}
        />
        <p id={`${id}-pattern-hint`} className="field-hint">
          Minute, hour, day of month, month, day of week: <code>0 3 * * *</code> is every day at 03:00.
        </p>
        {errors.fields.pattern ? <p className="field-error">{errors.fields.pattern}</p> : null}
      </div>
      <div className="field">
        <label htmlFor={`${id}-zone`} className="field-label">
          Time zone
        </label>
        <input
          id={`${id}-zone`}
          className="input"
          value={timeZone}
          onChange={(e) => setTimeZone(e.target.value)}
          autoComplete="off"
          spellCheck={false}
          aria-invalid={errors.fields.timeZone ? true : undefined}
        />
        {errors.fields.timeZone ? <p className="field-error">{errors.fields.timeZone}</p> : null}
      </div>
      {parameters.map((p) => (
        <div className="field" key={p.name}>
          <label htmlFor={`${id}-param-${p.name}`} className="field-label">
            Value of {p.name}
          </label>
          <input
            id={`${id}-param-${p.name}`}
            className="input"
            value={parameterTexts[p.name] ?? ""}
            onChange={(e) => setParameterTexts((t) => ({ ...t, [p.name]: e.target.value }))}
            placeholder={p.default === undefined ? `a ${p.type}` : `default: ${String(p.default)}`}
            autoComplete="off"
            spellCheck={false}
          />
        </div>
      ))}
      {errors.fields.parameters ? <p className="field-error">{errors.fields.parameters}</p> : null}
      {errors.form ? (
        <p className="form-error" role="alert">
          {errors.form}
        </p>
      ) : null}
      {warnings.map((w) => (
        <p key={w} className="field-hint" role="status">
          {w}
        </p>
      ))}
      <button type="submit" className="button" disabled={!canEdit || create.isPending} title={refusal}>
        {create.isPending ? "Adding…" : "Add schedule"}
      </button>
    </form>
  );
}
