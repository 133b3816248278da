"use client";

import { useState } from "react";
import { JsonControl } from "./controls/json";
import { LeafControl } from "./controls/leaf";
import { SecretBadge } from "./controls/secret";
import { type FieldSpec, memberOf } from "./schema";
import { type FormScope, hasStoredSecret, useFormScope } from "./scope";
import { type ConfigPath, fits, formatJson, isContainer, pathKey } from "./values";

// One row of a generated form at any depth (see schema.ts for the control tree): a labelled row per leaf field
// with its issues and help, and a fieldset for nested objects, unions, one-key choices, lists and maps whose body
// the scope draws (controls/group-body.tsx), made of rows again. Element ids derive from the config path, so an
// issue at `fields[2].expr` finds its input.

export const FOCUSABLE =
  "input:not([disabled]):not([type=hidden]), select:not([disabled]), textarea:not([disabled]), button:not([disabled])";

/**
 * Focuses the control that shows `path` (or, when that one is not on screen, the nearest enclosing one): the
 * element with the path's id, else the first control inside the group marked with the path.
 */
export function focusConfigPath(root: HTMLElement, scope: Pick<FormScope, "idFor">, path: ConfigPath): boolean {
  for (let n = path.length; n > 0; n--) {
    const part = path.slice(0, n);
    const byId = root.ownerDocument.getElementById(scope.idFor(part));
    const group =
      byId && root.contains(byId) ? byId : root.querySelector(`[data-config-path="${CSS.escape(pathKey(part))}"]`);
    if (!(group instanceof HTMLElement)) continue;
    // A group's own "JSON" toggle is not what an issue is about: its first control is.
    const target = group.matches(FOCUSABLE)
      ? group
      : [...group.querySelectorAll<HTMLElement>(FOCUSABLE)].find((el) => !el.classList.contains("cfg-json-toggle"));
    if (!target) continue;
    const details = target.closest("details");
    if (details && !details.open) details.open = true;
    target.focus();
    target.scrollIntoView?.({ block: "nearest" });
    return true;
  }
  return false;
}

function IssueList({ id, issues }: { id: string | null; issues: readonly string[] }) {
  if (!id) return null;
  return (
    <div id={id}>
      {issues.map((m) => (
        <p key={m} className="field-error">
          {m}
        </p>
      ))}
    </div>
  );
}

export interface FieldRowProps {
  spec: FieldSpec;
  path: ConfigPath;
  value: unknown;
  onChange: (value: unknown) => void;
  /** The name to show and announce, when not the control's own label (list items, map values, union members). */
  label?: string;
  /** Announce the name without showing it: a list item's heading or a selector shows it already. */
  hideLabel?: boolean;
  /** Fields of a tagged union member that its selector sets: not shown. */
  hidden?: ReadonlySet<string>;
  /** Top-level rows carry their field name, for the inspector. */
  dataField?: string;
}

/** One field with its label, control, issues and help; groups for nested kinds. */
export function FieldRow(props: FieldRowProps) {
  const { spec, path, value, onChange, hideLabel, dataField } = props;
  const scope = useFormScope();
  const c = spec.control;
  const label = props.label ?? c.label;
  const id = scope.idFor(path);
  if (isContainer(c)) return <GroupRow {...props} label={label} />;
  const issues = scope.issuesAt(path);
  const helpId = c.help && !hideLabel ? `${id}-help` : null;
  const issuesId = issues.length > 0 ? `${id}-issues` : null;
  const describedBy = [issuesId, helpId].filter(Boolean).join(" ") || undefined;
  const invalid = issues.length > 0;
  const control =
    c.kind === "json" ? (
      <JsonControl
        id={id}
        value={value}
        required={spec.required}
        placeholder={c.defaultValue !== undefined ? formatJson(c.defaultValue) : c.placeholder}
        describedBy={describedBy}
        invalid={invalid}
        onChange={onChange}
      />
    ) : (
      <LeafControl
        spec={spec}
        path={path}
        id={id}
        value={value}
        describedBy={describedBy}
        invalid={invalid}
        onChange={onChange}
      />
    );
  const host = scope.host;
  const parameterButton =
    host.parameterize && host.canParameterize?.(spec, value) ? (
      <button
        type="button"
        className="cfg-param-button"
        title={`Make ${label} a parameter: declare one with this value as its default and use it here`}
        aria-label="Make a parameter of this field"
        onClick={() => {
          const reference = host.parameterize?.(spec, path, value);
          if (reference !== undefined) onChange(reference);
        }}
      >
        {"{{ }}"}
      </button>
    ) : null;
  const isCheckbox = c.kind === "boolean";
  const secret = c.kind === "text" && c.secret;
  const storedSecret = secret && hasStoredSecret(scope, path);
  const labelClass = hideLabel ? "visually-hidden" : "field-label";
  return (
    <div
      className={isCheckbox ? "field field-check" : hideLabel ? "field cfg-bare" : "field"}
      data-config-field={dataField}
    >
      {isCheckbox ? (
        <div className="field-check-row">
          {control}
          <label htmlFor={id} className={labelClass}>
            {label}
          </label>
          {parameterButton}
        </div>
      ) : (
        <>
          {hideLabel ? (
            <label htmlFor={id} className={labelClass}>
              {label}
            </label>
          ) : (
            <div className="field-label-row">
              <label htmlFor={id} className={labelClass}>
                {label}
              </label>
              {secret ? <SecretBadge stored={storedSecret} value={value} /> : null}
              {spec.required || secret ? null : <span className="field-optional">optional</span>}
              {parameterButton}
            </div>
          )}
          {control}
        </>
      )}
      <IssueList id={issuesId} issues={issues} />
      {helpId ? (
        <p id={helpId} className="field-hint">
          {c.help}
        </p>
      ) : null}
    </div>
  );
}

/** A nested object, union, one-key choice, list or map: a group with its own rows, or its JSON. */
function GroupRow(props: FieldRowProps & { label: string }) {
  const { spec, path, value, onChange, label, hideLabel, hidden, dataField } = props;
  const scope = useFormScope();
  const [asJson, setAsJson] = useState(false);
  const c = spec.control;
  const id = scope.idFor(path);
  const shaped = fits(c, value);
  const json = asJson || !shaped;
  // A union hands its issues to the member it shows, which sits at the same path.
  const delegates = !json && c.kind === "union" && memberOf(c.members, value) >= 0;
  const issues = delegates ? [] : scope.issuesAt(path);
  const issuesId = issues.length > 0 ? `${id}-issues` : null;
  const helpId = c.help && !hideLabel ? `${id}-help` : null;
  const describedBy = [issuesId, helpId].filter(Boolean).join(" ") || undefined;
  const body = json ? (
    <>
      {hideLabel ? (
        <label htmlFor={id} className="visually-hidden">
          {`${label} (JSON)`}
        </label>
      ) : null}
      <JsonControl
        id={id}
        value={value}
        required={spec.required}
        describedBy={describedBy}
        invalid={issues.length > 0}
        onChange={onChange}
      />
      {shaped ? null : <p className="field-hint">This value does not fit the form: edit it as JSON.</p>}
    </>
  ) : (
    scope.renderGroup({ control: c, path, value, onChange, label, required: spec.required, hidden })
  );
  if (hideLabel) {
    return (
      <div className="cfg-bare-group" data-config-path={pathKey(path)}>
        {body}
        <IssueList id={issuesId} issues={issues} />
      </div>
    );
  }
  return (
    <fieldset
      className="cfg-group"
      data-config-field={dataField}
      data-config-path={pathKey(path)}
      aria-describedby={describedBy}
    >
      <legend className="field-label cfg-legend">{label}</legend>
      <div className="cfg-group-tools">
        {spec.required ? null : <span className="field-optional">optional</span>}
        <button
          type="button"
          className="cfg-json-toggle"
          aria-pressed={json}
          aria-label={`Edit ${label} as JSON`}
          title={shaped ? "Edit as JSON" : "This value only fits the JSON editor"}
          disabled={!shaped}
          onClick={() => setAsJson(!asJson)}
        >
          JSON
        </button>
      </div>
      <div className="cfg-group-body">
        {helpId ? (
          <p id={helpId} className="field-hint">
            {c.help}
          </p>
        ) : null}
        <IssueList id={issuesId} issues={issues} />
        {body}
      </div>
    </fieldset>
  );
}
