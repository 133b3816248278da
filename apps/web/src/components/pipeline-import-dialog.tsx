"use client";

import type { PipelineDefinition } from "@sluice/pipeline/definition";
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { useRouter } from "next/navigation";
import { type ChangeEvent, type FormEvent, useId, useState } from "react";
import { errorMessage, formErrors, sentence } from "@/lib/errors";
import { useTRPC } from "@/trpc/react";
import { Dialog } from "./dialog";
import { TextField } from "./text-field";

// Import a pipeline from a YAML or JSON file (the sluice/v1 format that export and the CLI write). The file is read
// and checked in the browser first: a parse error names its line and column, a structural problem its path, and
// only a sound definition can be imported. Problems a definition may still have (a filter without a condition, a
// connection not created yet) do not block the import: the editor shows them where they are.

interface Checked {
  fileName: string;
  definition: PipelineDefinition;
  /** Problems the editor will show; the import goes ahead anyway. */
  warnings: string[];
  connections: string[];
}

type ReadState =
  | { kind: "empty" }
  | { kind: "reading"; fileName: string }
  | { kind: "invalid"; fileName: string; problems: string[] }
  | { kind: "ready"; checked: Checked };

const counted = (n: number, noun: string) => `${n} ${noun}${n === 1 ? "" : "s"}`;

function where(path: readonly (string | number)[] | undefined): string {
  return path && path.length > 0 ? `${path.join(".")}: ` : "";
}

/** Parses and validates the file's text with the same code the server and the CLI use. */
async function checkFile(file: File): Promise<ReadState> {
  const fileName = file.name;
  const [
    { formatFromName, parsePipelineText, MAX_FILE_BYTES },
    { splitFileVersion },
    { validate },
    { catalog },
    { connectionRefs },
  ] = await Promise.all([
    import("@sluice/pipeline/file-format"),
    import("@sluice/pipeline/pipeline-file"),
    import("@sluice/pipeline/validate"),
    import("@sluice/nodes/catalog"),
    import("@sluice/pipeline/connection-definition"),
  ]);
  if (file.size > MAX_FILE_BYTES) {
    return { kind: "invalid", fileName, problems: [`The file is larger than ${MAX_FILE_BYTES / 1024 / 1024} MiB.`] };
  }
  const parsed = parsePipelineText(await file.text(), formatFromName(fileName));
  if (!parsed.ok) {
    const { line, column, message } = parsed.error;
    const at = line !== undefined ? `Line ${line}${column !== undefined ? `, column ${column}` : ""}: ` : "";
    return { kind: "invalid", fileName, problems: [`${at}${message}`] };
  }
  // A file from `sluice export` records the version it was exported from; an import starts a new pipeline's history.
  const split = splitFileVersion(parsed.value);
  if (!split.ok) return { kind: "invalid", fileName, problems: [sentence(split.message)] };
  const result = validate(split.value, catalog);
  const messages = result.issues.map((i) => {
    const node = i.nodeId ? `node ${i.nodeId}: ` : "";
    const path = where(i.path);
    const pos = i.position ? ` (line ${i.position.line}, column ${i.position.column})` : "";
    return sentence(`${node}${path}${i.message}${pos}`);
  });
  if (!result.definition) {
    return { kind: "invalid", fileName, problems: messages.length > 0 ? messages : ["This is not a Sluice pipeline."] };
  }
  const connections = new Set<string>();
  for (const node of result.definition.spec.nodes) {
    const def = catalog.get(node.type);
    if (def) for (const ref of connectionRefs(def, node.config)) connections.add(ref.name);
  }
  return {
    kind: "ready",
    checked: { fileName, definition: result.definition, warnings: messages, connections: [...connections].sort() },
  };
}

export function PipelineImportDialog({ open, onClose }: { open: boolean; onClose: () => void }) {
  return (
    <Dialog
      open={open}
      onClose={onClose}
      title="Import a pipeline"
      description="From a YAML or JSON file in the sluice/v1 format, as Export or the sluice CLI writes it."
    >
      <ImportForm onClose={onClose} />
    </Dialog>
  );
}

function ImportForm({ onClose }: { onClose: () => void }) {
  const trpc = useTRPC();
  const router = useRouter();
  const queryClient = useQueryClient();
  const fileId = useId();
  const [state, setState] = useState<ReadState>({ kind: "empty" });
  const [name, setName] = useState("");
  const existing = useQuery(trpc.connections.list.queryOptions(undefined, { enabled: state.kind === "ready" }));
  const create = useMutation(
    trpc.pipelines.create.mutationOptions({
      onSuccess: ({ id }) => {
        void queryClient.invalidateQueries(trpc.pipelines.list.queryFilter());
        router.push(`/pipelines/${id}`);
      },
    }),
  );
  const errors = formErrors(create.error, ["name", "description"]);
  const busy = create.isPending || create.isSuccess;

  const onFile = async (event: ChangeEvent<HTMLInputElement>) => {
    const file = event.target.files?.[0];
    create.reset();
    if (!file) {
      setState({ kind: "empty" });
      return;
    }
    setState({ kind: "reading", fileName: file.name });
    try {
      const next = await checkFile(file);
      setState(next);
      if (next.kind === "ready") {
        const meta = next.checked.definition.metadata;
        setName((meta.title ?? meta.name).slice(0, 100));
      }
    } catch (err) {
      setState({ kind: "invalid", fileName: file.name, problems: [`Cannot read the file: ${errorMessage(err)}`] });
    }
  };

  const submit = (event: FormEvent<HTMLFormElement>) => {
    event.preventDefault();
    if (state.kind !== "ready" || busy) return;
    const definition = state.checked.definition;
    create.mutate({ name, description: definition.metadata.description ?? "", definition });
  };

  const known = new Set((existing.data ?? []).map((c) => c.name));
  const missing = state.kind === "ready" ? state.checked.connections.filter((c) => !known.has(c)) : [];

  return (
    <form onSubmit={submit} className="dialog-form" noValidate>
      <div className="field">
        <label htmlFor={fileId} className="field-label">
          Pipeline file
        </label>
        <input
          id={fileId}
          type="file"
          className="input file-input"
          accept=".yaml,.yml,.json,application/json,application/yaml,text/yaml"
          onChange={(e) => void onFile(e)}
          aria-describedby={`${fileId}-hint`}
          disabled={busy}
        />
        <p id={`${fileId}-hint`} className="field-hint">
          Files hold definitions only: connections are named, never their passwords.
        </p>
      </div>

      <div aria-live="polite">
        {state.kind === "reading" ? <p className="muted">Reading {state.fileName}…</p> : null}
        {state.kind === "invalid" ? (
          <div className="import-problems" role="alert">
            <p className="import-problems-title">{state.fileName} cannot be imported:</p>
            <ul>
              {state.problems.map((p) => (
                <li key={p}>{p}</li>
              ))}
            </ul>
          </div>
        ) : null}
        {state.kind === "ready" ? (
          <div className="import-summary">
            <p>
              <strong>{state.checked.fileName}</strong>: {counted(state.checked.definition.spec.nodes.length, "node")},{" "}
              {counted(state.checked.definition.spec.edges.length, "connection")}
              {state.checked.connections.length > 0 ? `, uses ${state.checked.connections.join(", ")}` : ""}.
            </p>
            {missing.length > 0 && existing.isSuccess ? (
              <p className="import-note">
                Not in this workspace yet: {missing.join(", ")}. Create {missing.length === 1 ? "it" : "them"} on the
                Connections page before running.
              </p>
            ) : null}
            {state.checked.warnings.length > 0 ? (
              <details className="import-warnings">
                <summary>
                  {state.checked.warnings.length} {state.checked.warnings.length === 1 ? "problem" : "problems"} to fix
                  in the editor
                </summary>
                <ul>
                  {state.checked.warnings.map((w) => (
                    <li key={w}>{w}</li>
                  ))}
                </ul>
              </details>
            ) : null}
          </div>
        ) : null}
      </div>

      {state.kind === "ready" ? (
        <TextField
          label="Name"
          name="name"
          value={name}
          onChange={(e) => setName(e.target.value)}
          error={errors.fields.name}
          autoComplete="off"
          maxLength={100}
        />
      ) : null}
      {errors.form ? (
        <p className="form-error" role="alert">
          {errors.form}
        </p>
      ) : null}
      <div className="dialog-actions">
        <button type="button" className="button" onClick={onClose} disabled={busy}>
          Cancel
        </button>
        <button type="submit" className="button button-primary" disabled={busy || state.kind !== "ready"}>
          {busy ? "Importing…" : "Import pipeline"}
        </button>
      </div>
    </form>
  );
}
