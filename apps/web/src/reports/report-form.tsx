"use client";

import { useMutation, useQuery } from "@tanstack/react-query";
import { type FormEvent, useId, useState } from "react";
import type { RouterOutputs } from "@/components/api-types";
import { formErrors } from "@/lib/errors";
import { useTRPC } from "@/trpc/react";
import { CRON_PRESETS, cronWords } from "./cron-words";

// Creating or changing a report: the saved query it runs, when (cron with presets, time zone), over which window,
// where it goes (a file in the workspace's files, a webhook connection) and, for a query alert, its condition.

export type ReportItem = RouterOutputs["reports"]["list"][number];

const FIELDS = [
  "name",
  "savedQueryId",
  "pattern",
  "timeZone",
  "range",
  "format",
  "filePath",
  "webhookConnection",
  "condition",
  "severity",
] as const;

const RANGES = [
  { value: "", label: "The query's own defaults" },
  { value: "15m", label: "Last 15 minutes" },
  { value: "1h", label: "Last hour" },
  { value: "1d", label: "Last day" },
  { value: "7d", label: "Last 7 days" },
] as const;
type RangeValue = (typeof RANGES)[number]["value"];

const OPS = [">", ">=", "<", "<=", "=", "!="] as const;
type Op = (typeof OPS)[number];

function browserTimeZone(): string {
  try {
    return Intl.DateTimeFormat().resolvedOptions().timeZone || "UTC";
  } catch {
    return "UTC";
  }
}

interface Draft {
  name: string;
  savedQueryId: string;
  pattern: string;
  timeZone: string;
  range: RangeValue;
  format: "CSV" | "PARQUET";
  writeFile: boolean;
  filePath: string;
  webhookConnection: string;
  conditionKind: "" | "rows" | "value";
  column: string;
  op: Op;
  threshold: string;
  severity: "info" | "warning" | "critical";
}

function draftOf(report: ReportItem | null): Draft {
  const c = report?.condition ?? null;
  return {
    name: report?.name ?? "",
    savedQueryId: report?.savedQueryId ?? "",
    pattern: report?.pattern ?? "0 6 * * *",
    timeZone: report?.timeZone ?? browserTimeZone(),
    range: (report?.range ?? (report ? "" : "1d")) as RangeValue,
    format: report?.format ?? "CSV",
    writeFile: report ? report.filePath !== null : true,
    filePath: report?.filePath ?? "reports/{date}.csv",
    webhookConnection: report?.webhookConnection ?? "",
    conditionKind: c?.kind ?? "",
    column: c?.kind === "value" ? c.column : "",
    op: c?.op ?? ">",
    threshold: c ? String(c.value) : "0",
    severity: report?.severity ?? "warning",
  };
}

/** The extension of the path swapped for the format's, when it had the other one. */
function withExtension(filePath: string, format: Draft["format"]): string {
  return format === "PARQUET" ? filePath.replace(/\.csv$/i, ".parquet") : filePath.replace(/\.parquet$/i, ".csv");
}

export function ReportForm({
  report,
  onSaved,
  onCancel,
  canEdit,
  refusal,
}: {
  /** The report to change; null for a new one. */
  report: ReportItem | null;
  onSaved: (saved: ReportItem, warnings: string[]) => void;
  onCancel?: () => void;
  canEdit: boolean;
  refusal: string | undefined;
}) {
  const trpc = useTRPC();
  const id = useId();
  const savedQueries = useQuery(trpc.savedQueries.list.queryOptions());
  const connections = useQuery(trpc.connections.list.queryOptions());
  const webhooks = (connections.data ?? []).filter((c) => c.type === "webhook");
  const create = useMutation(trpc.reports.create.mutationOptions());
  const update = useMutation(trpc.reports.update.mutationOptions());
  const [d, setDraft] = useState<Draft>(() => draftOf(report));
  const set = <K extends keyof Draft>(key: K, value: Draft[K]) => setDraft((old) => ({ ...old, [key]: value }));
  const pending = create.isPending || update.isPending;
  const errors = formErrors(report ? update.error : create.error, FIELDS);

  const submit = async (event: FormEvent<HTMLFormElement>) => {
    event.preventDefault();
    const threshold = Number(d.threshold);
    const fields = {
      name: d.name,
      savedQueryId: d.savedQueryId,
      pattern: d.pattern,
      timeZone: d.timeZone,
      range: d.range === "" ? null : d.range,
      format: d.format,
      filePath: d.writeFile ? d.filePath : null,
      webhookConnection: d.webhookConnection === "" ? null : d.webhookConnection,
      condition:
        d.conditionKind === ""
          ? null
          : d.conditionKind === "rows"
            ? { kind: "rows" as const, op: d.op, value: threshold }
            : { kind: "value" as const, column: d.column, op: d.op, value: threshold },
      severity: d.severity,
    };
    try {
      const result = report ? await update.mutateAsync({ id: report.id, ...fields }) : await create.mutateAsync(fields);
      onSaved(result.report as ReportItem, result.warnings);
    } catch {
      // shown beside the fields from the mutation's error
    }
  };

  const fieldError = (name: (typeof FIELDS)[number]) =>
    errors.fields[name] ? <p className="field-error">{errors.fields[name]}</p> : null;

  return (
    <form
      className="report-form"
      onSubmit={(e) => void submit(e)}
      aria-label={report ? `Change report ${report.name}` : "New report"}
    >
      <div className="field">
        <label htmlFor={`${id}-name`} className="field-label">
          Name
        </label>
        <input
          id={`${id}-name`}
          className="input"
          value={d.name}
          onChange={(e) => set("name", e.target.value)}
          autoComplete="off"
          aria-invalid={errors.fields.name ? true : undefined}
        />
        {fieldError("name")}
      </div>
      <div className="field">
        <label htmlFor={`${id}-query`} className="field-label">
          Saved query
        </label>
        <select
          id={`${id}-query`}
          className="input"
          value={d.savedQueryId}
          onChange={(e) => set("savedQueryId", e.target.value)}
          aria-invalid={errors.fields.savedQueryId ? true : undefined}
        >
          <option value="">Choose a saved query…</option>
          {(savedQueries.data ?? []).map((q) => (
            <option key={q.id} value={q.id}>
              {q.name}
            </option>
          ))}
        </select>
        {savedQueries.data?.length === 0 ? <p className="field-hint">Save a query on the Query page first.</p> : null}
        {fieldError("savedQueryId")}
      </div>
      <fieldset className="report-fieldset">
        <legend className="field-label">When</legend>
        <div className="report-presets">
          {CRON_PRESETS.map((p) => (
            <button
              key={p.pattern}
              type="button"
              className="button button-small"
              aria-pressed={d.pattern === p.pattern}
              onClick={() => set("pattern", p.pattern)}
            >
              {p.label}
            </button>
          ))}
        </div>
        <div className="field">
          <label htmlFor={`${id}-pattern`} className="field-label">
            Cron pattern
          </label>
          <input
            id={`${id}-pattern`}
            className="input mono"
            value={d.pattern}
            onChange={(e) => set("pattern", e.target.value)}
            autoComplete="off"
            spellCheck={false}
            aria-invalid={errors.fields.pattern ? true : undefined}
            aria-describedby={`${id}-pattern-hint`}
          />
          <p id={`${id}-pattern-hint`} className="field-hint">
            {cronWords(d.pattern)}. Five fields (minute hour day month weekday), or six with seconds first.
          </p>
          {fieldError("pattern")}
        </div>
        <div className="field">
          <label htmlFor={`${id}-zone`} className="field-label">
            Time zone
          </label>
          <input
            id={`${id}-zone`}
            className="input"
            value={d.timeZone}
            onChange={(e) => set("timeZone", e.target.value)}
            autoComplete="off"
            spellCheck={false}
            aria-invalid={errors.fields.timeZone ? true : undefined}
          />
          {fieldError("timeZone")}
        </div>
        <div className="field">
          <label htmlFor={`${id}-range`} className="field-label">
            Time range of the query
          </label>
          <select
            id={`${id}-range`}
            className="input"
            value={d.range}
            onChange={(e) => set("range", e.target.value as RangeValue)}
          >
            {RANGES.map((r) => (
              <option key={r.value} value={r.value}>
                {r.label}
              </option>
            ))}
          </select>
          <p className="field-hint">The window before each fire, given to the query as its from and to.</p>
          {fieldError("range")}
        </div>
      </fieldset>
      <fieldset className="report-fieldset">
        <legend className="field-label">Deliver</legend>
        <label className="field-check-row">
          <input type="checkbox" checked={d.writeFile} onChange={(e) => set("writeFile", e.target.checked)} />
          Write a file to the workspace's files
        </label>
        {d.writeFile ? (
          <>
            <div className="field">
              <label htmlFor={`${id}-format`} className="field-label">
                Format
              </label>
              <select
                id={`${id}-format`}
                className="input"
                value={d.format}
                onChange={(e) => {
                  const format = e.target.value as Draft["format"];
                  setDraft((old) => ({ ...old, format, filePath: withExtension(old.filePath, format) }));
                }}
              >
                <option value="CSV">CSV</option>
                <option value="PARQUET">Parquet</option>
              </select>
            </div>
            <div className="field">
              <label htmlFor={`${id}-path`} className="field-label">
                File path
              </label>
              <input
                id={`${id}-path`}
                className="input mono"
                value={d.filePath}
                onChange={(e) => set("filePath", e.target.value)}
                autoComplete="off"
                spellCheck={false}
                aria-invalid={errors.fields.filePath ? true : undefined}
              />
              <p className="field-hint">
                Inside the workspace's files; <code>{"{date}"}</code> and <code>{"{time}"}</code> are filled in the
                report's time zone.
              </p>
              {fieldError("filePath")}
            </div>
          </>
        ) : (
          fieldError("filePath")
        )}
        <div className="field">
          <label htmlFor={`${id}-hook`} className="field-label">
            Webhook connection
          </label>
          <select
            id={`${id}-hook`}
            className="input"
            value={d.webhookConnection}
            onChange={(e) => set("webhookConnection", e.target.value)}
            aria-invalid={errors.fields.webhookConnection ? true : undefined}
          >
            <option value="">None</option>
            {webhooks.map((c) => (
              <option key={c.id} value={c.name}>
                {c.name}
              </option>
            ))}
          </select>
          {fieldError("webhookConnection")}
        </div>
      </fieldset>
      <fieldset className="report-fieldset">
        <legend className="field-label">Alert when</legend>
        <div className="report-condition">
          <select
            className="input"
            aria-label="Condition"
            value={d.conditionKind}
            onChange={(e) => set("conditionKind", e.target.value as Draft["conditionKind"])}
          >
            <option value="">Never (a plain report)</option>
            <option value="rows">the row count</option>
            <option value="value">a column of the first row</option>
          </select>
          {d.conditionKind === "value" ? (
            <input
              className="input"
              aria-label="Column"
              placeholder="column"
              value={d.column}
              onChange={(e) => set("column", e.target.value)}
              autoComplete="off"
            />
          ) : null}
          {d.conditionKind !== "" ? (
            <>
              <select
                className="input input-small"
                aria-label="Operator"
                value={d.op}
                onChange={(e) => set("op", e.target.value as Op)}
              >
                {OPS.map((op) => (
                  <option key={op} value={op}>
                    {op}
                  </option>
                ))}
              </select>
              <input
                className="input input-small"
                aria-label="Threshold"
                type="number"
                value={d.threshold}
                onChange={(e) => set("threshold", e.target.value)}
              />
              <select
                className="input input-small"
                aria-label="Severity"
                value={d.severity}
                onChange={(e) => set("severity", e.target.value as Draft["severity"])}
              >
                <option value="info">info</option>
                <option value="warning">warning</option>
                <option value="critical">critical</option>
              </select>
            </>
          ) : null}
        </div>
        <p className="field-hint">
          A change (true → firing, false → recovered) goes to the alert inbox and to the webhook connection, if any.
        </p>
        {fieldError("condition")}
        {fieldError("severity")}
      </fieldset>
      {errors.form ? (
        <p className="form-error" role="alert">
          {errors.form}
        </p>
      ) : null}
      <div className="dialog-actions">
        {onCancel ? (
          <button type="button" className="button" onClick={onCancel} disabled={pending}>
            Cancel
          </button>
        ) : null}
        <button type="submit" className="button button-primary" disabled={!canEdit || pending} title={refusal}>
          {pending ? "Saving…" : report ? "Save report" : "Create report"}
        </button>
      </div>
    </form>
  );
}
