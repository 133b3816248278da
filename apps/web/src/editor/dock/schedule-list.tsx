"use client";

import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { type FormEvent, useId, useState } from "react";
import { errorMessage, formErrors } from "@/lib/errors";
import { formatAbsolute, formatRelative } from "@/lib/format";
import { useTRPC } from "@/trpc/react";
import { useEditor } from "../editor-context";

// The pipeline's schedules. Unlike settings they are not part of the draft: each change is made on the server at
// once, and a fire runs the pipeline's latest saved version.

const SCHEDULE_FIELDS = ["pattern", "timeZone"] as const;

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
  const [rowError, setRowError] = useState<{ id: string; text: string } | null>(null);
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
        fire starts the latest saved version.
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
                <td className="mono">{s.pattern}</td>
                <td>{s.timeZone}</td>
                <td data-testid="schedule-next">
                  {s.enabled && s.nextFireAt ? (
                    <span title={formatAbsolute(s.nextFireAt)}>{formatAbsolute(s.nextFireAt)}</span>
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
                    disabled={update.isPending}
                    onClick={() => void act(s.id, () => update.mutateAsync({ id: s.id, enabled: !s.enabled }))}
                  >
                    {s.enabled ? "Pause" : "Resume"}
                  </button>
                  <button
                    type="button"
                    className="button button-small button-danger"
                    disabled={remove.isPending}
                    aria-label={`Delete schedule ${s.pattern}`}
                    onClick={() => void act(s.id, () => remove.mutateAsync({ id: s.id }))}
                  >
                    Delete
                  </button>
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      ) : null}
      <NewScheduleForm pipelineId={pipelineId} onCreated={refresh} />
    </section>
  );
}

function NewScheduleForm({ pipelineId, onCreated }: { pipelineId: string; onCreated: () => Promise<void> }) {
  const trpc = useTRPC();
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
      const result = await create.mutateAsync({ pipelineId, pattern, timeZone });
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
      <button type="submit" className="button" disabled={create.isPending}>
        {create.isPending ? "Adding…" : "Add schedule"}
      </button>
    </form>
  );
}
