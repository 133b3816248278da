"use client";

import { type AlertRule, AlertRules } from "@sluice/pipeline/alert-rules";
import { configJsonSchema } from "@sluice/pipeline/config-schema";
import type { PipelineParameter, PipelineSettings } from "@sluice/pipeline/definition";
import Link from "next/link";
import { useId, useMemo, useState } from "react";
import { z } from "zod";
import { Dialog } from "@/components/dialog";
import { DraftSchemaForm } from "@/editor/config-form";
import { typedParameterValue } from "@/editor/dock/parameter-value";
import { ScheduleList } from "@/editor/dock/schedule-list";
import { useEditor, useEditorStore, useRuntime } from "@/editor/editor-context";
import { issueText } from "@/editor/issue-text";
import { useWorkspaceRole } from "@/lib/use-workspace-role";

// The pipeline's own settings, its parameters, its alert rules and its schedules, reached from the toolbar.
// Settings, parameters and alert rules are part of the draft (undoable, saved with the next version); schedules are
// server objects that act at once.

const SETTINGS_ROOT = ["spec", "settings"] as const;

export function PipelineSettingsDialog({ open, onClose }: { open: boolean; onClose: () => void }) {
  const { canEdit, why } = useWorkspaceRole();
  return (
    <Dialog open={open} onClose={onClose} title="Pipeline settings" size="wide">
      <div className="pipeline-settings">
        {/* The draft's settings, parameters and alert rules: read only below the editor role. */}
        <fieldset className="inspector-fields" disabled={!canEdit} title={why("editPipelines")}>
          <SettingsSection />
          <ParametersSection />
          <AlertsSection />
        </fieldset>
        <ScheduleList />
        <div className="dialog-actions">
          <button type="button" className="button button-primary" onClick={onClose}>
            Done
          </button>
        </div>
      </div>
    </Dialog>
  );
}

function SettingsSection() {
  const runtime = useRuntime();
  const store = useEditorStore();
  const settings = useEditor((s) => s.frame.spec.settings);
  const owner = useMemo(() => ({ nodeId: null, path: SETTINGS_ROOT }), []);
  const onChange = (key: string, value: unknown) => {
    const next: Record<string, unknown> = { ...store.getState().frame.spec.settings };
    if (value === undefined) delete next[key];
    else next[key] = value;
    store.getState().setSettings(next as PipelineSettings, key);
  };
  return (
    <section className="settings-section" aria-labelledby="pipeline-settings-title">
      <h3 id="pipeline-settings-title" className="section-title">
        Settings
      </h3>
      <p className="muted">Part of the draft: saved with the next version, and Undo takes a change back.</p>
      <DraftSchemaForm
        schema={runtime.settingsSchema}
        owner={owner}
        config={settings}
        onChange={onChange}
        onReplace={(next) => store.getState().setSettings(next as PipelineSettings)}
      />
    </section>
  );
}

// The alert rules' form is generated from their schema, as the settings' is; its issues sit under spec.alerts.
const ALERTS_ROOT = ["spec"] as const;
const ALERTS_SCHEMA = configJsonSchema({
  config: z.strictObject({ alerts: AlertRules.optional().meta({ label: "Alert rules" }) }),
});

function AlertsSection() {
  const store = useEditorStore();
  const alerts = useEditor((s) => s.frame.spec.alerts);
  const owner = useMemo(() => ({ nodeId: null, path: ALERTS_ROOT }), []);
  const headingId = useId();
  const set = (value: unknown) => store.getState().setAlerts(value as AlertRule[] | undefined);
  return (
    <section className="settings-section" aria-labelledby={headingId}>
      <h3 id={headingId} className="section-title">
        Alerts
      </h3>
      <p className="muted">
        Rules checked every 10 seconds against this pipeline's running jobs; firings and recoveries arrive in the{" "}
        <Link href="/alerts">Alerts</Link> inbox and, where a rule names one, at its webhook. Part of the draft, like
        the settings.
      </p>
      <DraftSchemaForm
        schema={ALERTS_SCHEMA}
        owner={owner}
        config={alerts ? { alerts } : {}}
        onChange={(key, value) => {
          if (key === "alerts") set(value);
        }}
        onReplace={(next) => set(next.alerts)}
      />
    </section>
  );
}

type ParameterType = PipelineParameter["type"];
const PARAMETER_TYPES: readonly ParameterType[] = [
  "string",
  "integer",
  "number",
  "boolean",
  "choice",
  "duration",
  "expression",
  "connection",
];

function ParametersSection() {
  const store = useEditorStore();
  const parameters = useEditor((s) => s.frame.spec.parameters);
  const issues = useEditor((s) => s.validation.issues);
  const headingId = useId();
  const [texts, setTexts] = useState<Record<number, string>>({});

  const problemsOf = (index: number) =>
    issues
      .filter(
        (i) => i.nodeId === undefined && i.path?.[0] === "spec" && i.path[1] === "parameters" && i.path[2] === index,
      )
      .map(issueText);
  const update = (index: number, patch: Partial<PipelineParameter>, field: string) => {
    const next = parameters.map((p, i) => {
      if (i !== index) return p;
      const merged: Record<string, unknown> = { ...p, ...patch };
      for (const key of Object.keys(merged)) if (merged[key] === undefined) delete merged[key];
      return merged as PipelineParameter;
    });
    store.getState().setParameters(next, `${index}.${field}`);
  };
  const add = () => {
    const taken = new Set(parameters.map((p) => p.name));
    let n = parameters.length + 1;
    while (taken.has(`param${n}`)) n++;
    store.getState().setParameters([...parameters, { name: `param${n}`, type: "string" }]);
  };
  const remove = (index: number) => {
    setTexts({});
    store.getState().setParameters(parameters.filter((_, i) => i !== index));
  };

  return (
    <section className="settings-section" aria-labelledby={headingId}>
      <h3 id={headingId} className="section-title">
        Parameters
      </h3>
      <p className="muted">
        Write <code>{"{{name}}"}</code> in a node's field to use a parameter; a run takes its default unless the start
        or the schedule gives another value. Part of the draft, like the settings.
      </p>
      {parameters.length === 0 ? <p className="muted">No parameters yet.</p> : null}
      <ul className="parameter-list">
        {parameters.map((p, index) => {
          const problems = problemsOf(index);
          const defaultText = texts[index] ?? (p.default === undefined ? "" : String(p.default));
          const key = `parameter-${index}`;
          return (
            <li key={key} className="parameter-row" data-testid={key}>
              <label className="parameter-field">
                <span className="field-label">Name</span>
                <input
                  className="input mono"
                  value={p.name}
                  autoComplete="off"
                  spellCheck={false}
                  aria-invalid={problems.length > 0 || undefined}
                  onChange={(e) => update(index, { name: e.target.value }, "name")}
                />
              </label>
              <label className="parameter-field">
                <span className="field-label">Type</span>
                <select
                  className="input"
                  value={p.type}
                  onChange={(e) => {
                    const type = e.target.value as ParameterType;
                    update(
                      index,
                      {
                        type,
                        default: typedParameterValue(type, defaultText),
                        // Options of the old type do not apply to the new one.
                        ...(type === "choice" ? {} : { choices: undefined }),
                        ...(type === "connection" ? {} : { connectorType: undefined }),
                        ...(type === "integer" || type === "number" ? {} : { min: undefined, max: undefined }),
                        ...(type === "string" ? {} : { pattern: undefined, maxLength: undefined }),
                      },
                      "type",
                    );
                  }}
                >
                  {PARAMETER_TYPES.map((t) => (
                    <option key={t} value={t}>
                      {t}
                    </option>
                  ))}
                </select>
              </label>
              <label className="parameter-field">
                <span className="field-label">Default</span>
                <input
                  className="input"
                  value={defaultText}
                  autoComplete="off"
                  placeholder={p.type === "boolean" ? "true or false" : "none"}
                  onChange={(e) => {
                    setTexts((t) => ({ ...t, [index]: e.target.value }));
                    update(index, { default: typedParameterValue(p.type, e.target.value) }, "default");
                  }}
                />
              </label>
              <label className="parameter-field parameter-description">
                <span className="field-label">Description</span>
                <input
                  className="input"
                  value={p.description ?? ""}
                  autoComplete="off"
                  onChange={(e) => update(index, { description: e.target.value || undefined }, "description")}
                />
              </label>
              <ParameterOptions parameter={p} onChange={(patch, field) => update(index, patch, field)} />
              <button
                type="button"
                className="button button-small"
                onClick={() => remove(index)}
                aria-label={`Remove parameter ${p.name}`}
              >
                Remove
              </button>
              {problems.map((m) => (
                <p key={m} className="field-error parameter-problem">
                  {m}
                </p>
              ))}
            </li>
          );
        })}
      </ul>
      <button type="button" className="button" onClick={add}>
        Add parameter
      </button>
    </section>
  );
}

/** The options of a parameter's type (choices, connector type, bounds, pattern), its label and whether it is required. */
function ParameterOptions({
  parameter: p,
  onChange,
}: {
  parameter: PipelineParameter;
  onChange: (patch: Partial<PipelineParameter>, field: string) => void;
}) {
  const [choicesText, setChoicesText] = useState<string | null>(null);
  const bound = (key: "min" | "max") => (
    <label className="parameter-field">
      <span className="field-label">{key === "min" ? "Minimum" : "Maximum"}</span>
      <input
        className="input"
        type="number"
        value={p[key] ?? ""}
        onChange={(e) => onChange({ [key]: e.target.value === "" ? undefined : Number(e.target.value) }, key)}
      />
    </label>
  );
  return (
    <>
      <label className="parameter-field">
        <span className="field-label">Label</span>
        <input
          className="input"
          value={p.label ?? ""}
          autoComplete="off"
          placeholder={p.name}
          onChange={(e) => onChange({ label: e.target.value || undefined }, "label")}
        />
      </label>
      {p.type === "choice" ? (
        <label className="parameter-field parameter-description">
          <span className="field-label">Choices (comma-separated)</span>
          <input
            className="input"
            value={choicesText ?? (p.choices ?? []).join(", ")}
            autoComplete="off"
            onChange={(e) => {
              setChoicesText(e.target.value);
              const choices = e.target.value
                .split(",")
                .map((c) => c.trim())
                .filter((c) => c !== "");
              onChange({ choices: choices.length > 0 ? choices : undefined }, "choices");
            }}
          />
        </label>
      ) : null}
      {p.type === "connection" ? (
        <label className="parameter-field">
          <span className="field-label">Connector type</span>
          <input
            className="input mono"
            value={p.connectorType ?? ""}
            autoComplete="off"
            spellCheck={false}
            placeholder="postgres"
            onChange={(e) => onChange({ connectorType: e.target.value || undefined }, "connectorType")}
          />
        </label>
      ) : null}
      {p.type === "integer" || p.type === "number" ? (
        <>
          {bound("min")}
          {bound("max")}
        </>
      ) : null}
      {p.type === "string" ? (
        <label className="parameter-field">
          <span className="field-label">Pattern</span>
          <input
            className="input mono"
            value={p.pattern ?? ""}
            autoComplete="off"
            spellCheck={false}
            placeholder="any text"
            onChange={(e) => onChange({ pattern: e.target.value || undefined }, "pattern")}
          />
        </label>
      ) : null}
      <label className="parameter-field field-check-row">
        <input
          type="checkbox"
          checked={p.required === true}
          onChange={(e) => onChange({ required: e.target.checked || undefined }, "required")}
        />
        <span className="field-label">Required at start</span>
      </label>
    </>
  );
}
