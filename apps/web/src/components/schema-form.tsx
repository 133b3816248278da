"use client";

import { useId } from "react";

// A form generated from a JSON Schema object (a connection type's config, as `connections.types` sends it), with the
// UI hints that ride along from `.meta()`: label, help, placeholder, widget, advanced, secret. Values are kept as the
// user typed them (`FormValues`) and turned into config with `schemaFormConfig` on submit, so a half-typed number is
// never lost. Secret fields are password inputs that show whether a value is stored and keep it when left empty.

export type JsonSchema = Record<string, unknown>;

export type FieldKind = "text" | "textarea" | "number" | "integer" | "boolean" | "enum" | "json";

export interface SchemaField {
  name: string;
  label: string;
  kind: FieldKind;
  required: boolean;
  secret: boolean;
  advanced: boolean;
  help?: string;
  placeholder?: string;
  defaultValue?: unknown;
  options?: readonly (string | number | boolean)[];
}

/** Per field: the text typed, a checkbox state, or for secrets whether to clear the stored value. */
export type FormValues = Record<string, string | boolean>;
export const CLEAR_SECRET = "\u0000clear";

const isObject = (v: unknown): v is JsonSchema => typeof v === "object" && v !== null && !Array.isArray(v);

function kindOf(schema: JsonSchema): FieldKind {
  if (Array.isArray(schema.enum) && schema.enum.length > 0) return "enum";
  switch (schema.type) {
    case "boolean":
      return "boolean";
    case "integer":
      return "integer";
    case "number":
      return "number";
    case "string":
      return schema.widget === "textarea" || schema.widget === "code" ? "textarea" : "text";
    default:
      return "json";
  }
}

export function schemaFields(schema: JsonSchema): SchemaField[] {
  const props = isObject(schema.properties) ? schema.properties : {};
  const required = new Set(Array.isArray(schema.required) ? (schema.required as string[]) : []);
  return Object.entries(props).flatMap(([name, raw]) => {
    if (!isObject(raw)) return [];
    const field: SchemaField = {
      name,
      label: typeof raw.label === "string" ? raw.label : typeof raw.title === "string" ? raw.title : name,
      kind: kindOf(raw),
      required: required.has(name),
      secret: raw.secret === true,
      advanced: raw.advanced === true,
    };
    const help = typeof raw.help === "string" ? raw.help : typeof raw.description === "string" ? raw.description : "";
    if (help) field.help = help;
    if (typeof raw.placeholder === "string") field.placeholder = raw.placeholder;
    else if (raw.default !== undefined && typeof raw.default !== "object") field.placeholder = String(raw.default);
    else if (Array.isArray(raw.examples) && typeof raw.examples[0] === "string")
      field.placeholder = `e.g. ${raw.examples[0]}`;
    if (raw.default !== undefined) field.defaultValue = raw.default;
    if (Array.isArray(raw.enum)) field.options = raw.enum as (string | number | boolean)[];
    return [field];
  });
}

/** The form's starting values from a stored config (secrets are never in it: they start empty). */
export function initialValues(fields: readonly SchemaField[], config: Record<string, unknown>): FormValues {
  const values: FormValues = {};
  for (const f of fields) {
    if (f.secret) continue;
    const v = config[f.name];
    if (f.kind === "boolean") values[f.name] = typeof v === "boolean" ? v : f.defaultValue === true;
    else if (v === undefined || v === null) values[f.name] = "";
    else if (f.kind === "enum") values[f.name] = JSON.stringify(v);
    else if (f.kind === "json") values[f.name] = JSON.stringify(v, null, 2);
    else values[f.name] = String(v);
  }
  return values;
}

export interface BuiltConfig {
  config: Record<string, unknown>;
  /** Problems the browser can see before asking the server, per field. */
  errors: Record<string, string>;
}

/**
 * The config to send. Empty optional fields are left out (the server applies defaults); required text stays ""
 * so the server says what it needs. Secrets: empty = left out (keep), CLEAR_SECRET = null (remove), else the value.
 */
export function schemaFormConfig(fields: readonly SchemaField[], values: FormValues): BuiltConfig {
  const config: Record<string, unknown> = {};
  const errors: Record<string, string> = {};
  for (const f of fields) {
    const v = values[f.name];
    if (f.secret) {
      if (v === CLEAR_SECRET) config[f.name] = null;
      else if (typeof v === "string" && v !== "") config[f.name] = v;
      continue;
    }
    if (f.kind === "boolean") {
      if (typeof v === "boolean") config[f.name] = v;
      continue;
    }
    const text = typeof v === "string" ? v : "";
    if (text.trim() === "") {
      if (f.required && (f.kind === "text" || f.kind === "textarea")) config[f.name] = "";
      continue;
    }
    switch (f.kind) {
      case "integer":
      case "number": {
        const n = Number(text.trim());
        if (!Number.isFinite(n) || (f.kind === "integer" && !Number.isInteger(n))) {
          errors[f.name] = f.kind === "integer" ? "Enter a whole number." : "Enter a number.";
        } else config[f.name] = n;
        break;
      }
      case "enum":
        config[f.name] = JSON.parse(text) as unknown;
        break;
      case "json":
        try {
          config[f.name] = JSON.parse(text) as unknown;
        } catch {
          errors[f.name] = "Enter valid JSON.";
        }
        break;
      default:
        config[f.name] = text;
    }
  }
  return { config, errors };
}

function SecretState({ stored, clearing }: { stored: boolean; clearing: boolean }) {
  if (clearing) return <span className="secret-state secret-clear">will be removed</span>;
  return stored ? (
    <span className="secret-state secret-set">set</span>
  ) : (
    <span className="secret-state secret-unset">not set</span>
  );
}

function Field({
  field,
  value,
  stored,
  error,
  onChange,
}: {
  field: SchemaField;
  value: string | boolean | undefined;
  stored: boolean;
  error: string | undefined;
  onChange: (value: string | boolean) => void;
}) {
  const id = useId();
  const helpId = field.help ? `${id}-help` : undefined;
  const errorId = error ? `${id}-error` : undefined;
  const describedBy = [errorId, helpId].filter(Boolean).join(" ") || undefined;
  const common = {
    id,
    "aria-describedby": describedBy,
    "aria-invalid": error ? true : undefined,
  } as const;
  const text = typeof value === "string" && value !== CLEAR_SECRET ? value : "";

  let control: React.ReactNode;
  if (field.kind === "boolean") {
    control = (
      <input
        {...common}
        type="checkbox"
        className="checkbox"
        checked={value === true}
        onChange={(e) => onChange(e.target.checked)}
      />
    );
  } else if (field.secret) {
    control = (
      <input
        {...common}
        type="password"
        className="input"
        value={text}
        autoComplete="new-password"
        placeholder={stored ? "Leave empty to keep the stored value" : ""}
        onChange={(e) => onChange(e.target.value)}
        disabled={value === CLEAR_SECRET}
      />
    );
  } else if (field.kind === "enum") {
    control = (
      <select {...common} className="input" value={text} onChange={(e) => onChange(e.target.value)}>
        <option value="">
          {field.defaultValue !== undefined
            ? `Default (${String(field.defaultValue)})`
            : field.required
              ? "Choose…"
              : "None"}
        </option>
        {(field.options ?? []).map((o) => (
          <option key={JSON.stringify(o)} value={JSON.stringify(o)}>
            {String(o)}
          </option>
        ))}
      </select>
    );
  } else if (field.kind === "textarea" || field.kind === "json") {
    control = (
      <textarea
        {...common}
        className={field.kind === "json" ? "input input-code" : "input"}
        rows={4}
        value={text}
        placeholder={field.placeholder}
        onChange={(e) => onChange(e.target.value)}
      />
    );
  } else {
    control = (
      <input
        {...common}
        type="text"
        inputMode={field.kind === "integer" ? "numeric" : field.kind === "number" ? "decimal" : undefined}
        className="input"
        value={text}
        placeholder={field.placeholder}
        autoComplete="off"
        onChange={(e) => onChange(e.target.value)}
      />
    );
  }

  return (
    <div className={field.kind === "boolean" ? "field field-check" : "field"}>
      {field.kind === "boolean" ? (
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
            {field.secret ? <SecretState stored={stored} clearing={value === CLEAR_SECRET} /> : null}
            {!field.required && !field.secret ? <span className="field-optional">optional</span> : null}
          </div>
          {control}
          {field.secret && stored ? (
            <label className="secret-clear-toggle">
              <input
                type="checkbox"
                className="checkbox"
                checked={value === CLEAR_SECRET}
                onChange={(e) => onChange(e.target.checked ? CLEAR_SECRET : "")}
              />
              Remove the stored {field.label.toLowerCase()}
            </label>
          ) : null}
        </>
      )}
      {error ? (
        <p id={errorId} className="field-error" role="alert">
          {error}
        </p>
      ) : null}
      {field.help ? (
        <p id={helpId} className="field-hint">
          {field.help}
        </p>
      ) : null}
    </div>
  );
}

export function SchemaForm({
  fields,
  values,
  secrets,
  errors,
  onChange,
}: {
  fields: readonly SchemaField[];
  values: FormValues;
  /** Secret field → whether a value is stored. */
  secrets: Record<string, boolean>;
  errors: Record<string, string>;
  onChange: (name: string, value: string | boolean) => void;
}) {
  const basic = fields.filter((f) => !f.advanced);
  const advanced = fields.filter((f) => f.advanced);
  const row = (f: SchemaField) => (
    <Field
      key={f.name}
      field={f}
      value={values[f.name]}
      stored={secrets[f.name] === true}
      error={errors[f.name]}
      onChange={(v) => onChange(f.name, v)}
    />
  );
  return (
    <div className="schema-form">
      {basic.map(row)}
      {advanced.length > 0 ? (
        <details className="advanced" open={advanced.some((f) => errors[f.name]) || undefined}>
          <summary>Advanced</summary>
          <div className="advanced-body">{advanced.map(row)}</div>
        </details>
      ) : null}
    </div>
  );
}
