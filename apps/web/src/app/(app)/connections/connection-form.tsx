"use client";

import { useMutation, useQueryClient } from "@tanstack/react-query";
import { type FormEvent, useId, useMemo, useState } from "react";
import type {
  ConnectionTestResult as ConnectionTestView,
  ConnectionTypeItem as ConnectionTypeView,
  ConnectionItem as ConnectionView,
} from "@/components/api-types";
import { type FormValues, initialValues, SchemaForm, schemaFields, schemaFormConfig } from "@/components/schema-form";
import { TextField } from "@/components/text-field";
import { errorMessage, sentence } from "@/lib/errors";
import { useTRPC } from "@/trpc/react";

export type TestResult = Pick<ConnectionTestView, "ok" | "problem" | "message" | "elapsedMs">;

const PROBLEM_LABELS: Record<string, string> = {
  "host-unreachable": "Host unreachable",
  timeout: "Timed out",
  "auth-failed": "Authentication failed",
  "not-found": "Not found",
  tls: "TLS problem",
  permission: "Permission denied",
  misconfigured: "Misconfigured",
  other: "Failed",
};

export function TestOutcome({ result }: { result: TestResult }) {
  return result.ok ? (
    <span className="test-outcome test-ok">
      <span aria-hidden="true">✓ </span>
      {sentence(result.message)}
      {result.elapsedMs > 0 ? <span className="muted"> ({result.elapsedMs} ms)</span> : null}
    </span>
  ) : (
    <span className="test-outcome test-bad">
      <strong>{PROBLEM_LABELS[result.problem ?? "other"] ?? "Failed"}:</strong> {sentence(result.message)}
    </span>
  );
}

interface ServerErrors {
  name?: string;
  fields: Record<string, string>;
  form: string | null;
}

/** The server's field paths: `name`, `config.host`, `config.port`, … */
function serverErrors(error: unknown): ServerErrors {
  const result: ServerErrors = { fields: {}, form: null };
  if (!error) return result;
  const fields = (error as { data?: { fields?: { path: string; message: string }[] | null } }).data?.fields;
  const rest: string[] = [];
  if (fields && fields.length > 0) {
    for (const f of fields) {
      const [head, name] = f.path.split(".");
      if (head === "name") result.name ??= sentence(f.message);
      else if (head === "config" && name) result.fields[name] ??= sentence(f.message);
      else rest.push(f.path ? `${f.path}: ${f.message}` : f.message);
    }
  } else {
    const message = errorMessage(error);
    const m = /^name: (.+)$/is.exec(message);
    if (m?.[1]) result.name = sentence(m[1]);
    else rest.push(message);
  }
  result.form = rest.length > 0 ? sentence(rest.join("; ")) : null;
  return result;
}

export function ConnectionForm({
  types,
  connection,
  onClose,
}: {
  types: readonly ConnectionTypeView[];
  /** The connection being edited; null to create one. */
  connection: ConnectionView | null;
  onClose: () => void;
}) {
  const trpc = useTRPC();
  const queryClient = useQueryClient();
  const typeId = useId();
  const [type, setType] = useState(connection?.type ?? types[0]?.type ?? "");
  const typeView = types.find((t) => t.type === type);
  const fields = useMemo(() => (typeView ? schemaFields(typeView.configSchema) : []), [typeView]);
  const [name, setName] = useState(connection?.name ?? "");
  const [values, setValues] = useState<FormValues>(() => initialValues(fields, connection?.config ?? {}));
  const [localErrors, setLocalErrors] = useState<Record<string, string>>({});
  const [tested, setTested] = useState<TestResult | null>(null);

  const invalidate = () => queryClient.invalidateQueries(trpc.connections.list.queryFilter());
  const create = useMutation(trpc.connections.create.mutationOptions({ onSuccess: invalidate }));
  const update = useMutation(trpc.connections.update.mutationOptions({ onSuccess: invalidate }));
  const test = useMutation(trpc.connections.test.mutationOptions());
  const saving = create.isPending || update.isPending;
  const server = serverErrors(create.error ?? update.error ?? (tested ? null : test.error));
  const errors = { ...server.fields, ...localErrors };

  const chooseType = (next: string) => {
    setType(next);
    const view = types.find((t) => t.type === next);
    setValues(initialValues(view ? schemaFields(view.configSchema) : [], {}));
    setLocalErrors({});
    setTested(null);
    create.reset();
  };

  const built = () => {
    const result = schemaFormConfig(fields, values);
    setLocalErrors(result.errors);
    return Object.keys(result.errors).length === 0 ? result.config : null;
  };

  const runTest = async () => {
    const config = built();
    setTested(null);
    if (!config) return;
    try {
      const result = await test.mutateAsync({
        ...(connection ? { id: connection.id } : {}),
        draft: { type, config },
      });
      setTested(result);
    } catch (err) {
      setTested({ ok: false, problem: "misconfigured", message: errorMessage(err), elapsedMs: 0 });
    }
  };

  const submit = async (event: FormEvent<HTMLFormElement>) => {
    event.preventDefault();
    if (saving) return;
    const config = built();
    if (!config) return;
    try {
      if (connection) {
        await update.mutateAsync({
          id: connection.id,
          ...(name !== connection.name ? { name } : {}),
          config,
        });
      } else {
        await create.mutateAsync({ name, type, config });
      }
      onClose();
    } catch {
      // shown by the fields
    }
  };

  return (
    <form onSubmit={(e) => void submit(e)} className="dialog-form connection-form" noValidate>
      {server.form ? (
        <p className="form-error" role="alert">
          {server.form}
        </p>
      ) : null}
      {connection ? null : (
        <div className="field">
          <label htmlFor={typeId} className="field-label">
            Type
          </label>
          <select id={typeId} className="input" value={type} onChange={(e) => chooseType(e.target.value)}>
            {types.map((t) => (
              <option key={t.type} value={t.type}>
                {t.title}
              </option>
            ))}
          </select>
          {typeView ? <p className="field-hint">{typeView.summary}</p> : null}
        </div>
      )}
      <TextField
        label="Name"
        name="name"
        value={name}
        onChange={(e) => setName(e.target.value)}
        error={server.name}
        hint={
          connection && connection.usedBy.length > 0
            ? "Pipelines use this name: renaming is refused until they name another connection."
            : "Pipelines refer to the connection by this name, e.g. warehouse."
        }
        autoComplete="off"
        maxLength={64}
        autoFocus
      />
      <SchemaForm
        fields={fields}
        values={values}
        secrets={connection?.secrets ?? {}}
        errors={errors}
        onChange={(field, value) => {
          setValues((v) => ({ ...v, [field]: value }));
          setLocalErrors(({ [field]: _, ...rest }) => rest);
          setTested(null);
        }}
      />
      <div className="test-row" aria-live="polite">
        {test.isPending ? <span className="muted">Testing…</span> : tested ? <TestOutcome result={tested} /> : null}
      </div>
      <div className="dialog-actions">
        <button
          type="button"
          className="button dialog-action-left"
          onClick={() => void runTest()}
          disabled={test.isPending || !typeView?.canTest}
          title={typeView?.canTest ? "Connect with these settings, without saving them" : "This type cannot be tested"}
        >
          {test.isPending ? "Testing…" : "Test connection"}
        </button>
        <button type="button" className="button" onClick={onClose} disabled={saving}>
          Cancel
        </button>
        <button type="submit" className="button button-primary" disabled={saving}>
          {saving ? "Saving…" : connection ? "Save changes" : "Create connection"}
        </button>
      </div>
    </form>
  );
}
