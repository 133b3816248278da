"use client";

import { useEffect, useId, useMemo, useRef } from "react";
import { GroupBody } from "./controls/group-body";
import { JsonControl } from "./controls/json";
import { FieldRow, focusConfigPath } from "./field-row";
import { claim, configForm, type FieldSpec, type JsonSchema } from "./schema";
import { type FormScope, FormScopeContext, type HostControls } from "./scope";
import { type ConfigPath, pathKey } from "./values";

// The one form engine: a form generated from a JSON Schema (a node type's config, the pipeline's settings, a
// connection type's config), with the UI hints that ride along from `.meta()`. Values are the config itself; each
// change of a top-level field is reported as it is typed (half-typed numbers and JSON stay in their inputs with
// what is wrong). Issues go under the control that shows their path, at any depth; those about no field of the
// form are listed at the end, so none goes unseen.

/** A problem with the form's value, at a path inside it (`["fields", 2, "expr"]`). */
export interface FormIssue {
  path: ConfigPath;
  message: string;
}

export interface SchemaFormProps {
  schema: JsonSchema;
  value: Record<string, unknown>;
  issues: readonly FormIssue[];
  onChange: (key: string, value: unknown) => void;
  /** The whole value replaced (only when the schema is not an object with fields: it is edited as JSON). */
  onReplace: (value: Record<string, unknown>) => void;
  host?: HostControls;
  /** Top-level secret field → whether a value is stored (write-only: the value is never in `value`). */
  storedSecrets?: Readonly<Record<string, boolean>>;
  /** Moves focus to the control that shows a path, once per `seq`. */
  focus?: { path: ConfigPath; seq: number } | null;
  /** Said when the schema has no fields. */
  emptyText?: string;
}

const NO_HOST: HostControls = {};
const NO_SECRETS: Readonly<Record<string, boolean>> = {};
const NO_ISSUES: readonly string[] = [];

export function SchemaForm({
  schema,
  value,
  issues,
  onChange,
  onReplace,
  host = NO_HOST,
  storedSecrets = NO_SECRETS,
  focus = null,
  emptyText = "There is nothing to set here.",
}: SchemaFormProps) {
  const form = configForm(schema);
  const wholeId = useId();
  const root = useRef<HTMLDivElement>(null);
  const handled = useRef<number | null>(null);

  const { byPath, unplaced } = useMemo(() => {
    const byPath = new Map<string, string[]>();
    const unplaced: string[] = [];
    for (const issue of issues) {
      const depth = form.whole ? null : claim(form.fields, value, issue.path);
      if (depth === null) {
        unplaced.push(issue.message);
        continue;
      }
      const key = pathKey(issue.path.slice(0, depth));
      byPath.set(key, [...(byPath.get(key) ?? []), issue.message]);
    }
    return { byPath, unplaced };
  }, [issues, form, value]);

  const scope = useMemo<FormScope>(
    () => ({
      idFor: (path) => `cfg${wholeId}-${pathKey(path)}`,
      issuesAt: (path) => byPath.get(pathKey(path)) ?? NO_ISSUES,
      renderGroup: (props) => <GroupBody {...props} />,
      host,
      storedSecrets,
    }),
    [wholeId, byPath, host, storedSecrets],
  );

  // Runs a microtask after the effects, so it wins over a host that focuses the field's row first.
  useEffect(() => {
    if (!focus || handled.current === focus.seq) return;
    handled.current = focus.seq;
    const path = focus.path;
    queueMicrotask(() => {
      if (root.current) focusConfigPath(root.current, scope, path);
    });
  }, [focus, scope]);

  if (form.whole) {
    return (
      <div className="field" ref={root}>
        <label htmlFor={wholeId} className="field-label">
          Configuration (JSON)
        </label>
        <JsonControl
          id={wholeId}
          value={value}
          required
          wantObject
          rows={10}
          invalid={unplaced.length > 0}
          onChange={(v) => onReplace(v as Record<string, unknown>)}
        />
        {unplaced.map((m) => (
          <p key={m} className="field-error">
            {m}
          </p>
        ))}
      </div>
    );
  }
  const basic = form.fields.filter((f) => !f.control.advanced);
  const advanced = form.fields.filter((f) => f.control.advanced);
  const advancedHasIssues = advanced.some((f) => issues.some((i) => i.path[0] === f.name));
  const row = (f: FieldSpec) => (
    <FieldRow
      key={f.name}
      spec={f}
      path={[f.name]}
      value={value[f.name]}
      onChange={(v) => onChange(f.name, v)}
      dataField={f.name}
    />
  );
  return (
    <FormScopeContext.Provider value={scope}>
      <div className="config-form" ref={root}>
        {form.fields.length === 0 ? <p className="muted">{emptyText}</p> : null}
        {basic.map(row)}
        {advanced.length > 0 ? (
          <details className="advanced" open={advancedHasIssues || undefined}>
            <summary>Advanced</summary>
            <div className="advanced-body">{advanced.map(row)}</div>
          </details>
        ) : null}
        {unplaced.length > 0 ? (
          <ul className="issue-list" aria-label="Other problems with these settings">
            {unplaced.map((m) => (
              <li key={m} className="issue issue-error">
                {m}
              </li>
            ))}
          </ul>
        ) : null}
      </div>
    </FormScopeContext.Provider>
  );
}
