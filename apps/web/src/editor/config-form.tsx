"use client";

import type { AnyNodeDefinition } from "@sluice/pipeline/node-definition";
import { useId } from "react";
import { type Control, configForm, type FieldSpec, type ScalarType } from "./config-schema";
import { DraftInput, type ParseResult } from "./draft-input";
import { useEditor, useRuntime } from "./editor-context";

// The inspector form of any node type, generated from its config schema (see config-schema.ts). Values go into
// the store as the user types; validation issues for a field are listed under it.

interface ConfigFormProps {
  def: AnyNodeDefinition;
  config: Record<string, unknown>;
  /** Issue sentences per top-level config field. */
  fieldIssues: Record<string, string[]>;
  onChange: (key: string, value: unknown) => void;
  onReplace: (config: Record<string, unknown>) => void;
}

/** One top-level field with its UI hints lifted out of the control, as the form rows use them. */
interface ConfigField {
  name: string;
  required: boolean;
  label: string;
  help?: string;
  placeholder?: string;
  defaultValue?: unknown;
  advanced: boolean;
  control: Control;
}

const toField = (spec: FieldSpec): ConfigField => ({
  name: spec.name,
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
const formatJson = (v: unknown) => (v === undefined ? "" : JSON.stringify(v, null, 2));
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

function parseJson(required: boolean, wantObject = false) {
  return (text: string): ParseResult => {
    if (text.trim() === "") return required ? fail("Enter a JSON value.") : ok(undefined);
    try {
      const value: unknown = JSON.parse(text);
      if (wantObject && (typeof value !== "object" || value === null || Array.isArray(value))) {
        return fail("The configuration must be a JSON object: { … }.");
      }
      return ok(value);
    } catch (err) {
      return fail(`Not valid JSON: ${err instanceof Error ? err.message : String(err)}`);
    }
  };
}

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
        <input
          id={id}
          type="text"
          className={c.kind === "expression" ? "input input-code" : "input"}
          value={formatText(value)}
          placeholder={field.placeholder}
          autoComplete="off"
          spellCheck={false}
          onChange={(e) => onChange(e.target.value === "" && !field.required ? undefined : e.target.value)}
          {...aria}
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
      // Nested objects, unions, lists of objects and maps: edited as JSON, validated by the node's schema.
      return (
        <DraftInput
          id={id}
          value={value}
          format={formatJson}
          parse={parseJson(field.required)}
          onCommit={onChange}
          multiline
          rows={Math.min(14, Math.max(4, formatJson(value ?? field.defaultValue).split("\n").length + 1))}
          className="input input-code"
          placeholder={field.defaultValue !== undefined ? formatJson(field.defaultValue) : field.placeholder}
          describedBy={describedBy}
          invalid={invalid}
        />
      );
  }
}

function FieldRow({
  field,
  value,
  issues,
  onChange,
}: {
  field: ConfigField;
  value: unknown;
  issues: string[];
  onChange: (v: unknown) => void;
}) {
  const id = useId();
  const helpId = field.help ? `${id}-help` : null;
  const issuesId = issues.length > 0 ? `${id}-issues` : null;
  const describedBy = [issuesId, helpId].filter(Boolean).join(" ") || undefined;
  const control = (
    <FieldControl
      field={field}
      id={id}
      value={value}
      describedBy={describedBy}
      invalid={issues.length > 0}
      onChange={onChange}
    />
  );
  const isCheckbox = field.control.kind === "boolean";
  return (
    <div className={isCheckbox ? "field field-check" : "field"} data-config-field={field.name}>
      {isCheckbox ? (
        <div className="field-check-row">
          {control}
          <label htmlFor={id} className="field-label">
            {field.label}
          </label>
        </div>
      ) : (
        <>
          <div className="field-label-row">
            <label htmlFor={id} className="field-label">
              {field.label}
            </label>
            {field.required ? null : <span className="field-optional">optional</span>}
          </div>
          {control}
        </>
      )}
      {issuesId ? (
        <div id={issuesId}>
          {issues.map((m) => (
            <p key={m} className="field-error">
              {m}
            </p>
          ))}
        </div>
      ) : null}
      {helpId ? (
        <p id={helpId} className="field-hint">
          {field.help}
        </p>
      ) : null}
    </div>
  );
}

export function ConfigForm({ def, config, fieldIssues, onChange, onReplace }: ConfigFormProps) {
  const runtime = useRuntime();
  const form = configForm(runtime.configJsonSchema(def));
  const fields = form.fields.map(toField);
  const wholeId = useId();
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
  const basic = fields.filter((f) => !f.advanced);
  const advanced = fields.filter((f) => f.advanced);
  const advancedHasIssues = advanced.some((f) => (fieldIssues[f.name]?.length ?? 0) > 0);
  const row = (f: ConfigField) => (
    <FieldRow
      key={f.name}
      field={f}
      value={config[f.name]}
      issues={fieldIssues[f.name] ?? []}
      onChange={(v) => onChange(f.name, v)}
    />
  );
  return (
    <div className="config-form">
      {basic.length === 0 && advanced.length === 0 ? <p className="muted">This node has no settings.</p> : null}
      {basic.map(row)}
      {advanced.length > 0 ? (
        <details className="advanced" open={advancedHasIssues || undefined}>
          <summary>Advanced</summary>
          <div className="advanced-body">{advanced.map(row)}</div>
        </details>
      ) : null}
    </div>
  );
}
