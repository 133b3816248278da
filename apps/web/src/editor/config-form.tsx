"use client";

import type { AnyNodeDefinition } from "@sluice/pipeline/node-definition";
import { useMemo } from "react";
import { ConnectionControl } from "@/forms/controls/connection";
import type { JsonSchema } from "@/forms/schema";
import { type FormIssue, SchemaForm } from "@/forms/schema-form";
import type { HostControls, LeafControlProps } from "@/forms/scope";
import { formatText } from "@/forms/values";
import { useEditor, useEditorStore, useRuntime } from "./editor-context";
import { ExpressionInput } from "./inspector/expression-input";
import { canBeParameter, parameterFromField } from "./inspector/field-parameter";
import { issueText } from "./issue-text";
import { selectedNodeId } from "./store/editor-store";

// The form engine (forms/schema-form.tsx) bound to the draft: a node's config or the pipeline's settings, with the
// draft's validation issues placed under their fields, the problems panel's focus requests, and the controls
// only the editor can draw (expressions with completion, the workspace's connections).

interface DraftFormProps {
  config: Record<string, unknown>;
  onChange: (key: string, value: unknown) => void;
  onReplace: (config: Record<string, unknown>) => void;
}

/** Where in the definition the form's values sit, so validation issues find their field. */
interface FormOwner {
  /** The node the issues are about; null for issues about no node (the pipeline's settings). */
  nodeId: string | null;
  /** The issue path prefix before a field's own path: ["config"] in a node, ["spec", "settings"] for settings. */
  path: readonly string[];
}

const CONFIG_ROOT = ["config"] as const;

/** A node's config form: the selected node's issues are the ones under its `config`. */
export function ConfigForm({ def, ...rest }: DraftFormProps & { def: AnyNodeDefinition }) {
  const runtime = useRuntime();
  const store = useEditorStore();
  const nodeId = useEditor(selectedNodeId);
  const owner = useMemo(() => ({ nodeId, path: CONFIG_ROOT }), [nodeId]);
  // A node's fields can become pipeline parameters; the settings form's cannot (parameters do not reach settings).
  const host = useMemo<HostControls>(
    () => ({
      ...EDITOR_CONTROLS,
      canParameterize: (spec, value) => canBeParameter(spec.control, value),
      parameterize: (spec, path, value) => {
        const parameters = store.getState().frame.spec.parameters;
        const taken = new Set(parameters.map((p) => p.name));
        const { parameter, reference } = parameterFromField(spec.control, path, value, taken);
        store.getState().setParameters([...parameters, parameter]);
        return reference;
      },
    }),
    [store],
  );
  return (
    <DraftSchemaForm
      schema={runtime.configJsonSchema(def)}
      owner={owner}
      emptyText="This node has no settings."
      host={host}
      {...rest}
    />
  );
}

function ExpressionControl({ spec, path, id, value, describedBy, invalid, onChange }: LeafControlProps) {
  const c = spec.control;
  return (
    <ExpressionInput
      id={id}
      value={formatText(value)}
      path={path}
      aggregates={c.kind === "expression" && c.mode === "aggregate"}
      placeholder={c.placeholder}
      describedBy={describedBy}
      invalid={invalid}
      onChange={(text) => onChange(text === "" && !spec.required ? undefined : text)}
    />
  );
}

function EditorConnectionControl(props: LeafControlProps) {
  const connections = useEditor((s) => s.connections);
  return <ConnectionControl {...props} connections={connections} />;
}

const EDITOR_CONTROLS: HostControls = {
  expression: (props) => <ExpressionControl {...props} />,
  connection: (props) => <EditorConnectionControl {...props} />,
};

/** A part of the draft edited through a generated form: the issues of `owner` go under their fields. */
export function DraftSchemaForm({
  schema,
  owner,
  config,
  onChange,
  onReplace,
  emptyText,
  host = EDITOR_CONTROLS,
}: DraftFormProps & { schema: JsonSchema; owner: FormOwner; emptyText?: string; host?: HostControls }) {
  const allIssues = useEditor((s) => s.validation.issues);
  const focus = useEditor((s) => s.focus);
  const { nodeId, path: prefix } = owner;

  const issues = useMemo(() => {
    const mine: FormIssue[] = [];
    for (const issue of allIssues) {
      const path = issue.path ?? [];
      if ((issue.nodeId ?? null) !== nodeId || path.length <= prefix.length) continue;
      if (prefix.some((key, i) => path[i] !== key)) continue;
      mine.push({ path: path.slice(prefix.length), message: issueText(issue) });
    }
    return mine;
  }, [allIssues, nodeId, prefix]);

  const fieldFocus = focus && focus.nodeId === nodeId && focus.path ? { path: focus.path, seq: focus.seq } : null;
  return (
    <SchemaForm
      schema={schema}
      value={config}
      issues={issues}
      onChange={onChange}
      onReplace={onReplace}
      host={host}
      focus={fieldFocus}
      {...(emptyText ? { emptyText } : {})}
    />
  );
}
