"use client";

import type { AnyNodeDefinition } from "@sluice/pipeline/node-definition";
import { useEffect, useId, useMemo, useRef } from "react";
import {
  type ConfigScope,
  ConfigScopeContext,
  FieldRow,
  focusConfigPath,
  type ScalarControlProps,
} from "./config-fields";
import { type Control, claim, configForm, type FieldSpec, type ScalarType } from "./config-schema";
import { type ConfigPath, formatJson, parseJsonText, pathKey } from "./config-values";
import { DraftInput, type ParseResult } from "./draft-input";
import { useEditor, useRuntime } from "./editor-context";
import { selectedNodeId } from "./editor-store";
import { ExpressionInput } from "./expression-input";
import { issueField, issueText } from "./issue-text";

// The inspector form of any node type, generated from its config schema (see config-schema.ts). Values go into
// the store as the user types; validation issues are listed under the field they are about, at any depth, and a
// problem clicked in the problems panel focuses that field's control. Nested groups are in config-fields.tsx.

interface ConfigFormProps {
  def: AnyNodeDefinition;
  config: Record<string, unknown>;
  /** Issue sentences per top-level config field (the form places the node's issues by their full path itself). */
  fieldIssues: Record<string, string[]>;
  onChange: (key: string, value: unknown) => void;
  onReplace: (config: Record<string, unknown>) => void;
}

/** One field (at any depth) with its UI hints lifted out of the control, as the scalar controls use them. */
interface ConfigField {
  name: string;
  /** Where the field sits in the node's config: `["fields", 2, "expr"]`. */
  path: ConfigPath;
  required: boolean;
  label: string;
  help?: string;
  placeholder?: string;
  defaultValue?: unknown;
  advanced: boolean;
  control: Control;
}

const toField = (spec: FieldSpec, path: ConfigPath = [spec.name]): ConfigField => ({
  name: spec.name,
  path,
  required: spec.required,
  label: spec.control.label,
  help: spec.control.help,
  placeholder: spec.control.placeholder,
  defaultValue: spec.control.defaultValue,
  advanced: spec.control.advanced,
  control: spec.control,
});

const ok = (value: unknown): ParseResult => ({ ok: true, value });
const fail = (error: string): ParseResult => ({ ok: false, error });
const NUMBER_RE = /^[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?$/;

const formatText = (v: unknown) => (v === undefined || v === null ? "" : typeof v === "string" ? v : JSON.stringify(v));
const formatList = (v: unknown) => (Array.isArray(v) ? v.map(String).join(", ") : formatText(v));

function parseNumber(field: ConfigField, integer: boolean, min?: number, max?: number) {
  return (text: string): ParseResult => {
    const t = text.trim();
    if (t === "") return field.required ? fail("Enter a number.") : ok(undefined);
    if (!NUMBER_RE.test(t)) return fail(integer ? "Enter a whole number." : "Enter a number.");
    const n = Number(t);
    if (!Number.isFinite(n)) return fail("Enter a finite number.");
    if (integer && !Number.isInteger(n)) return fail("Enter a whole number.");
    if (min !== undefined && n < min) return fail(`Enter ${min} or more.`);
    if (max !== undefined && n > max) return fail(`Enter ${max} or less.`);
    return ok(n);
  };
}

function parseScalar(field: ConfigField, accepts: ScalarType[]) {
  return (text: string): ParseResult => {
    const t = text.trim();
    if (t === "") return ok(field.required && accepts.includes("string") ? "" : undefined);
    if ((accepts.includes("number") || accepts.includes("integer")) && NUMBER_RE.test(t)) {
      const n = Number(t);
      if (accepts.includes("number") || Number.isInteger(n)) return ok(n);
    }
    if (accepts.includes("boolean") && (t === "true" || t === "false")) return ok(t === "true");
    if (accepts.includes("string")) return ok(text);
    return fail(`Enter ${accepts.map((a) => (a === "integer" ? "a whole number" : `a ${a}`)).join(" or ")}.`);
  };
}

function parseList(field: ConfigField) {
  return (text: string): ParseResult => {
    const items = text
      .split(",")
      .map((s) => s.trim())
      .filter((s) => s.length > 0);
    return ok(items.length === 0 && !field.required ? undefined : items);
  };
}

const parseJson =
  (required: boolean, wantObject = false) =>
  (text: string): ParseResult =>
    parseJsonText(text, required, wantObject);

/** A connection field: the workspace's connections of the right type, or a name typed in while they load. */
function ConnectionPicker({
  id,
  value,
  connectionType,
  required,
  describedBy,
  invalid,
  onChange,
}: {
  id: string;
  value: string;
  connectionType: string | undefined;
  required: boolean;
  describedBy: string | undefined;
  invalid: boolean;
  onChange: (value: unknown) => void;
}) {
  const connections = useEditor((s) => s.connections);
  const aria = { "aria-describedby": describedBy, "aria-invalid": invalid ? true : undefined };
  if (!connections) {
    return (
      <input
        id={id}
        type="text"
        className="input"
        value={value}
        autoComplete="off"
        spellCheck={false}
        onChange={(e) => onChange(e.target.value === "" && !required ? undefined : e.target.value)}
        {...aria}
      />
    );
  }
  const names = Object.entries(connections)
    .filter(([, type]) => connectionType === undefined || type === connectionType)
    .map(([name]) => name)
    .sort();
  if (value !== "" && !names.includes(value)) names.unshift(value);
  return (
    <div className="connection-picker">
      <select
        id={id}
        className="input"
        value={value}
        onChange={(e) => onChange(e.target.value === "" && !required ? undefined : e.target.value)}
        {...aria}
      >
        <option value="">{names.length === 0 ? "No connections yet" : "Choose a connection…"}</option>
        {names.map((n) => (
          <option key={n} value={n}>
            {connections[n] === undefined ? `${n} (missing)` : n}
          </option>
        ))}
      </select>
      <a href="/connections" target="_blank" rel="noreferrer" className="field-hint">
        Manage connections
      </a>
    </div>
  );
}

function FieldControl({
  field,
  id,
  value,
  describedBy,
  invalid,
  onChange,
}: {
  field: ConfigField;
  id: string;
  value: unknown;
  describedBy: string | undefined;
  invalid: boolean;
  onChange: (value: unknown) => void;
}) {
  const c = field.control;
  const aria = { "aria-describedby": describedBy, "aria-invalid": invalid ? true : undefined };
  switch (c.kind) {
    case "connection":
      return (
        <ConnectionPicker
          id={id}
          value={typeof value === "string" ? value : ""}
          connectionType={c.connectionType}
          required={field.required}
          describedBy={describedBy}
          invalid={invalid}
          onChange={onChange}
        />
      );
    case "expression":
      return (
        <ExpressionInput
          id={id}
          value={formatText(value)}
          path={field.path}
          aggregates={c.mode === "aggregate"}
          placeholder={field.placeholder}
          describedBy={describedBy}
          invalid={invalid}
          onChange={(text) => onChange(text === "" && !field.required ? undefined : text)}
        />
      );
    case "text": {
      const text = formatText(value);
      const commit = (t: string) => onChange(t === "" && !field.required ? undefined : t);
      return c.multiline ? (
        <textarea
          id={id}
          className={c.monospace ? "input input-code" : "input"}
          rows={c.monospace ? 3 : 4}
          value={text}
          placeholder={field.placeholder}
          spellCheck={!c.monospace}
          onChange={(e) => commit(e.target.value)}
          {...aria}
        />
      ) : (
        <input
          id={id}
          type="text"
          className="input"
          value={text}
          placeholder={field.placeholder}
          autoComplete="off"
          onChange={(e) => commit(e.target.value)}
          {...aria}
        />
      );
    }
    case "number":
      return (
        <DraftInput
          id={id}
          value={value}
          format={formatText}
          parse={parseNumber(field, c.integer, c.min, c.max)}
          onCommit={onChange}
          placeholder={field.placeholder}
          describedBy={describedBy}
          invalid={invalid}
          inputMode={c.integer ? "numeric" : "decimal"}
        />
      );
    case "scalar":
      return (
        <DraftInput
          id={id}
          value={value}
          format={formatText}
          parse={parseScalar(field, c.accepts)}
          onCommit={onChange}
          placeholder={field.placeholder}
          describedBy={describedBy}
          invalid={invalid}
        />
      );
    case "list":
      return (
        <DraftInput
          id={id}
          value={value}
          format={formatList}
          parse={parseList(field)}
          onCommit={onChange}
          placeholder={field.placeholder ?? "Comma-separated, e.g. user_id, country"}
          describedBy={describedBy}
          invalid={invalid}
        />
      );
    case "enum": {
      const current = value === undefined ? "" : JSON.stringify(value);
      const blank =
        field.defaultValue !== undefined
          ? `Default (${formatText(field.defaultValue)})`
          : field.required
            ? "Choose…"
            : "None";
      return (
        <select
          id={id}
          className="input"
          value={current}
          onChange={(e) => onChange(e.target.value === "" ? undefined : (JSON.parse(e.target.value) as unknown))}
          {...aria}
        >
          <option value="">{blank}</option>
          {c.options.map((o) => (
            <option key={JSON.stringify(o)} value={JSON.stringify(o)}>
              {String(o)}
            </option>
          ))}
        </select>
      );
    }
    case "boolean":
      return (
        <input
          id={id}
          type="checkbox"
          className="checkbox"
          checked={typeof value === "boolean" ? value : field.defaultValue === true}
          onChange={(e) => onChange(e.target.checked)}
          {...aria}
        />
      );
    default:
      // Nested objects, unions, lists, maps and JSON: their rows are built by config-fields.tsx.
      return null;
  }
}

const renderScalar = ({ spec, path, ...rest }: ScalarControlProps) => (
  <FieldControl field={toField(spec, path)} {...rest} />
);

const NO_ISSUES: readonly string[] = [];

export function ConfigForm({ def, config, fieldIssues, onChange, onReplace }: ConfigFormProps) {
  const runtime = useRuntime();
  const form = configForm(runtime.configJsonSchema(def));
  const wholeId = useId();
  const nodeId = useEditor(selectedNodeId);
  const allIssues = useEditor((s) => s.validation.issues);
  const focus = useEditor((s) => s.focus);
  const root = useRef<HTMLDivElement>(null);
  const handled = useRef<number | null>(null);

  // Each issue goes to the control that shows its path (see `claim`); those about no field of the form are
  // listed at the end, so none goes unseen.
  const { byPath, unplaced } = useMemo(() => {
    const byPath = new Map<string, string[]>();
    const unplaced: string[] = [];
    for (const issue of allIssues) {
      const path = issue.path ?? [];
      if (issue.nodeId !== nodeId || path[0] !== "config" || path.length < 2) continue;
      const inConfig = path.slice(1);
      const depth = form.whole ? null : claim(form.fields, config, inConfig);
      if (depth === null) {
        // The inspector lists issues about no field at all; those about a field the form lacks are ours.
        if (issueField(issue) !== null) unplaced.push(issueText(issue));
        continue;
      }
      const key = pathKey(inConfig.slice(0, depth));
      byPath.set(key, [...(byPath.get(key) ?? []), issueText(issue)]);
    }
    return { byPath, unplaced };
  }, [allIssues, nodeId, form, config]);

  const scope = useMemo<ConfigScope>(
    () => ({
      idFor: (path) => `cfg${wholeId}-${pathKey(path)}`,
      issuesAt: (path) => byPath.get(pathKey(path)) ?? NO_ISSUES,
      renderScalar,
    }),
    [wholeId, byPath],
  );

  // A problem clicked in the problems panel: the inspector focuses the top-level field's first control; this runs
  // after it (a microtask after the effects) and moves focus to the exact nested control.
  useEffect(() => {
    if (!focus || focus.nodeId !== nodeId || !focus.path || handled.current === focus.seq) return;
    handled.current = focus.seq;
    const path = focus.path;
    queueMicrotask(() => {
      if (root.current) focusConfigPath(root.current, scope, path);
    });
  }, [focus, nodeId, scope]);

  if (form.whole) {
    const issues = Object.values(fieldIssues).flat();
    return (
      <div className="field">
        <label htmlFor={wholeId} className="field-label">
          Configuration (JSON)
        </label>
        <DraftInput
          id={wholeId}
          value={config}
          format={formatJson}
          parse={parseJson(true, true)}
          onCommit={(v) => onReplace(v as Record<string, unknown>)}
          multiline
          rows={10}
          className="input input-code"
          invalid={issues.length > 0}
        />
        {issues.map((m) => (
          <p key={m} className="field-error">
            {m}
          </p>
        ))}
      </div>
    );
  }
  const basic = form.fields.filter((f) => !f.control.advanced);
  const advanced = form.fields.filter((f) => f.control.advanced);
  const advancedHasIssues = advanced.some((f) => (fieldIssues[f.name]?.length ?? 0) > 0);
  const row = (f: FieldSpec) => (
    <FieldRow
      key={f.name}
      spec={f}
      path={[f.name]}
      value={config[f.name]}
      onChange={(v) => onChange(f.name, v)}
      dataField={f.name}
    />
  );
  return (
    <ConfigScopeContext.Provider value={scope}>
      <div className="config-form" ref={root}>
        {basic.length === 0 && advanced.length === 0 ? <p className="muted">This node has no settings.</p> : null}
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
    </ConfigScopeContext.Provider>
  );
}
