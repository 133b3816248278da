"use client";

import { useMutation, useQueryClient } from "@tanstack/react-query";
import { type FormEvent, useId, useMemo, useRef, useState } from "react";
import type {
  ConnectionTestResult as ConnectionTestView,
  ConnectionTypeItem as ConnectionTypeView,
  ConnectionItem as ConnectionView,
} from "@/components/api-types";
import { TextField } from "@/components/text-field";
import { unfinishedInput } from "@/forms/draft-input";
import type { JsonSchema } from "@/forms/schema";
import { type FormIssue, SchemaForm } from "@/forms/schema-form";
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
  fields: FormIssue[];
  form: string | null;
}

const NO_ERRORS: ServerErrors = { fields: [], form: null };

/** The server's field paths: `name`, `config.host`, `config.servers.0`, … */
function serverErrors(error: unknown): ServerErrors {
  if (!error) return NO_ERRORS;
  const result: ServerErrors = { fields: [], form: null };
  const fields = (error as { data?: { fields?: { path: string; message: string }[] | null } }).data?.fields;
  const rest: string[] = [];
  if (fields && fields.length > 0) {
    for (const f of fields) {
      const [head, ...inConfig] = f.path.split(".");
      const path = inConfig.map((p) => (/^\d+$/.test(p) ? Number(p) : p));
      if (head === "name") result.name ??= sentence(f.message);
      else if (head === "config" && path.length > 0) result.fields.push({ path, message: sentence(f.message) });
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

const EMPTY_SCHEMA: JsonSchema = { type: "object", properties: {} };
const NO_SECRETS: Record<string, boolean> = {};

/** A stored config as the form starts from it: secrets are write-only, so none is ever put back in an input. */
function withoutSecrets(secretFields: readonly string[], config: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(Object.entries(config).filter(([k]) => !secretFields.includes(k)));
}

export function ConnectionForm({
  types,
  connection,
  onClose,
  onCreated,
}: {
  types: readonly ConnectionTypeView[];
  /** The connection being edited; null to create one. */
  connection: ConnectionView | null;
  onClose: () => void;
  /** Called with the new connection's name once it is created (a form that needed one picks it). */
  onCreated?: (name: string) => void;
}) {
  const trpc = useTRPC();
  const queryClient = useQueryClient();
  const typeId = useId();
  const [type, setType] = useState(connection?.type ?? types[0]?.type ?? "");
  const typeView = types.find((t) => t.type === type);
  const schema = typeView?.configSchema ?? EMPTY_SCHEMA;
  const [name, setName] = useState(connection?.name ?? "");
  const [config, setConfig] = useState(() => withoutSecrets(typeView?.secretFields ?? [], connection?.config ?? {}));
  const [tested, setTested] = useState<TestResult | null>(null);
  const formRef = useRef<HTMLFormElement>(null);

  const invalidate = () => queryClient.invalidateQueries(trpc.connections.list.queryFilter());
  const create = useMutation(trpc.connections.create.mutationOptions({ onSuccess: invalidate }));
  const update = useMutation(trpc.connections.update.mutationOptions({ onSuccess: invalidate }));
  const test = useMutation(trpc.connections.test.mutationOptions());
  const saving = create.isPending || update.isPending;
  const failure = create.error ?? update.error ?? (tested ? null : test.error);
  const server = useMemo(() => serverErrors(failure), [failure]);

  const chooseType = (next: string) => {
    setType(next);
    setConfig({});
    setTested(null);
    create.reset();
  };

  /** The config to send; null (and the input focused) while a field's text is not a value yet. */
  const built = () => {
    const unfinished = unfinishedInput(formRef.current);
    if (unfinished) {
      unfinished.focus();
      return null;
    }
    return config;
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
        onCreated?.(name);
      }
      onClose();
    } catch {
      // shown by the fields
    }
  };

  return (
    <form ref={formRef} onSubmit={(e) => void submit(e)} className="dialog-form connection-form" noValidate>
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
        key={type}
        schema={schema}
        value={config}
        issues={server.fields}
        storedSecrets={connection?.secrets ?? NO_SECRETS}
        emptyText="This type has no settings."
        onChange={(field, value) => {
          setConfig(({ [field]: _, ...rest }) => (value === undefined ? rest : { ...rest, [field]: value }));
          setTested(null);
        }}
        onReplace={(next) => {
          setConfig(next);
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
